"""Ink as connected pieces, in pixel boxes, and groups of them that make one digit.

Pieces are 8-connected runs of ink, the anti-aliased rim included; very light ones (dust) are
ignored from the start. Pieces that share most of their columns belong to one digit (the bar
of a 5 above its body, the two strokes of a 4) and are joined into one group, but for a dab
low in a digit's box and clear of its ink: a point written close after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from preprocess import EIGHT_CONNECTED, HAZE

DUST = 0.005  # pieces this light relative to the heaviest are ignored from the start
MAX_PIECES = 200  # beyond this many pieces only the heaviest count: it is not writing
MERGE_OVERLAP = 0.5  # pieces sharing this fraction of the narrower one's columns are one digit
DAB = 0.5  # ...unless one, at most this fraction of the other's height, lies low and apart
# A digit's ink level with a dab may reach this share of the dab's width into its columns and
# still lie on one side of it: the rim of a round foot above a comma written close.
RIM_REACH = 0.25


@dataclass(frozen=True)
class InkBox:
    """Ink inside a box: connected pieces (by label), a group of them, or a part of a group."""

    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive
    mass: float
    labels: frozenset[int] = frozenset()
    index: int = -1  # a part's number in the owner map
    source: int = -1  # the group a part was cut from

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def middle(self) -> float:
        """The column half way across: where the box lies along the line."""
        return (self.left + self.right) / 2

    @property
    def crop(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)


def label_pieces(ink: np.ndarray) -> tuple[np.ndarray, list[InkBox]]:
    """Label the 8-connected pieces of ink (anti-aliased rim included): labels and their boxes."""
    labels, count = ndimage.label(ink >= HAZE, structure=EIGHT_CONNECTED)
    masses = ndimage.sum_labels(ink, labels, index=np.arange(1, count + 1))
    kept = np.flatnonzero(masses >= DUST * masses.max())
    kept = kept[np.argsort(masses[kept])[::-1][:MAX_PIECES]]
    boxes = ndimage.find_objects(labels)
    pieces = []
    for index in kept:
        rows, cols = boxes[index]
        label = frozenset([int(index) + 1])
        pieces.append(InkBox(rows.start, cols.start, rows.stop, cols.stop, masses[index], label))
    return labels, pieces


def join(first: InkBox, second: InkBox) -> InkBox:
    """The box around both, with their ink together."""
    return InkBox(
        min(first.top, second.top),
        min(first.left, second.left),
        max(first.bottom, second.bottom),
        max(first.right, second.right),
        first.mass + second.mass,
        first.labels | second.labels,
    )


def _column_overlap(first: InkBox, second: InkBox) -> float:
    """Shared columns as a fraction of the narrower box's width."""
    shared = min(first.right, second.right) - max(first.left, second.left)
    return shared / min(first.width, second.width)


def _low_and_clear(labels: np.ndarray, first: InkBox, second: InkBox) -> bool:
    """Whether the smaller of two groups is a dab low in the other's box, clear of the other's
    ink level with it (within its own size): a point or comma written close after a round or
    slanted digit, under the edge of its box. The marks judge whether it is one."""
    small, large = sorted((first, second), key=lambda group: group.height)
    size = max(small.height, small.width)
    if size > DAB * large.height or 2 * small.top < large.top + large.bottom:
        return False
    rows = slice(max(0, small.top - size), small.bottom + size)
    columns = columns_in(labels, large, rows)
    # Level with the foot, the rim of a round foot may reach a little into a comma's columns;
    # a piece of a stroke cut off by a pen lift hangs below the rest of the digit.
    reach = RIM_REACH * small.width if small.top < large.bottom else 0
    return columns is None or columns[1] <= small.left + reach or columns[0] >= small.right - reach


def _overlapping_pair(labels: np.ndarray, groups: list[InkBox]) -> tuple[int, int] | None:
    """The first pair of groups (sorted by left edge) that share most of their columns, but
    for a dab low and clear of the other's ink."""
    for i, first in enumerate(groups):
        for j in range(i + 1, len(groups)):
            if groups[j].left >= first.right:
                break
            if _column_overlap(first, groups[j]) >= MERGE_OVERLAP and not _low_and_clear(
                labels, first, groups[j]
            ):
                return i, j
    return None


def merge_overlapping(labels: np.ndarray, groups: list[InkBox]) -> list[InkBox]:
    """Join groups that share most of their columns, until no such pair is left; a dab low
    in a digit's box and clear of its ink (a point) stays apart, for the marks to judge."""
    groups = sorted(groups, key=lambda group: group.left)
    while pair := _overlapping_pair(labels, groups):
        i, j = pair
        groups[i] = join(groups[i], groups.pop(j))
    return groups


def own_ink(ink: np.ndarray, labels: np.ndarray, group: InkBox) -> tuple[np.ndarray, np.ndarray]:
    """Where a group's own pieces lie in its box, and their ink there (others' ink is 0)."""
    mine = np.isin(labels[group.crop], list(group.labels))
    return mine, np.where(mine, ink[group.crop], 0.0)


def columns_in(labels: np.ndarray, group: InkBox, rows: slice) -> tuple[int, int] | None:
    """The columns a group's own ink spans within these rows (right exclusive); None if it
    has no ink there. A slanted digit's box reaches further than its ink in any one row."""
    band = np.isin(labels[rows, group.left : group.right], list(group.labels))
    columns = np.flatnonzero(band.any(axis=0))
    return (group.left + columns[0], group.left + columns[-1] + 1) if columns.size else None
