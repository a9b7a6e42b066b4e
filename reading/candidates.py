"""The parts of a written line and the candidate digits made of neighbouring parts.

The ink's groups of pieces (`pieces`), but for specks and marks (`marks`), are its parts; a
group nearly as wide as it is tall may hold digits that touch, and is cut into several
(`cuts`). Any run of neighbouring parts narrow enough may be one digit: each such candidate
has a cost from its shape alone (digits are rarely much wider than tall or much shorter than
the line; parts with space between them rarely belong together), in the same unit as the
model's log-probabilities (nats), and a 28x28 input (`preprocess.normalize` of its ink).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Hashable

import numpy as np

from preprocess import DOT_EXTENT, normalize, only_a_dot
from reading.cuts import cut_regions
from reading.limits import MAX_GROUPS, too_many_groups
from reading.marks import MarkSymbol, find_marks
from reading.pieces import InkBox, join, label_pieces, merge_overlapping, own_ink
from reading.recent import Recent, fingerprint

SPECK = 0.04  # groups lighter than this share of the heaviest are specks
TALL = 0.5  # groups at least this fraction of the tallest one's height set the line height
CUT_ASPECT = 0.75  # a full-height group wider than this times its height may be touching digits
MAX_SPAN = 8  # a digit is made of at most this many neighbouring parts...
MAX_WIDTH = 1.8  # ...spanning at most this many line heights

# Costs in the same unit as the model's log-probabilities (nats).
FREE_ASPECT = 0.8  # digits up to this width/height cost nothing for their shape...
ASPECT_COST = 3.0  # ...wider ones this much per unit of width/height beyond it
GAP_COST = 8.0  # joining separate pieces costs this much per line height of space between
FULL_HEIGHT = 0.75  # digits are at least this fraction of the line height...
SHORT_COST = 12.0  # ...and cost this much per line height they fall short of it

RECENT_INPUTS = 4096  # candidates' 28x28 inputs kept (3 kB each): a few long numbers' worth

KEPT_INPUTS: Recent[np.ndarray | None] = Recent(RECENT_INPUTS)


def candidate_parts(
    ink: np.ndarray, cut: bool, not_marks: frozenset[InkBox] = frozenset()
) -> tuple[np.ndarray, list[InkBox], float, dict[InkBox, MarkSymbol]]:
    """The owner map (part index per pixel, -1 for none), the parts left to right, the line
    height, and the marks with their symbols (but for `not_marks`, which are ink of digits).

    Parts are whole groups of pieces, or (when `cut`) regions of a group where digits may touch.
    Ink of more than MAX_GROUPS groups, specks aside, is refused (`limits.TooMuchWriting`)
    before any of them is cut.
    """
    labels, pieces = label_pieces(ink)
    groups = merge_overlapping(labels, pieces)
    heaviest = max(group.mass for group in groups)
    kept = [group for group in groups if group.mass >= SPECK * heaviest]
    if len(kept) > MAX_GROUPS:
        raise too_many_groups()
    tallest = max(group.height for group in kept)
    line_height = float(np.median([g.height for g in kept if g.height >= TALL * tallest]))
    digit_sized = [group for group in kept if group.height >= TALL * line_height]
    marks = {
        group: symbol
        for group, symbol in find_marks(ink, labels, groups, digit_sized, line_height).items()
        if group not in not_marks
    }
    groups = [group for group in kept if group not in marks]

    owner = np.full(ink.shape, -1, dtype=np.int32)
    parts: list[InkBox] = []
    for source, group in enumerate(groups):
        mine, own = own_ink(ink, labels, group)
        # A dot is never cut: its halves read as two 0s.
        whole = (
            not cut
            or _only_a_dot(group, own, min(ink.shape))
            or not _may_be_touching_digits(own, line_height)
        )
        regions = np.zeros(own.shape, dtype=np.int32) if whole else cut_regions(own, line_height)
        for region in range(int(regions.max()) + 1):
            where = mine & (regions == region)
            rows, cols = np.nonzero(where)
            if rows.size == 0:
                continue
            owner[group.crop][where] = len(parts)
            parts.append(
                InkBox(
                    group.top + int(rows.min()),
                    group.left + int(cols.min()),
                    group.top + int(rows.max()) + 1,
                    group.left + int(cols.max()) + 1,
                    float(own[where].sum()),
                    index=len(parts),
                    source=source,
                )
            )
    parts.sort(key=lambda part: part.middle)
    return owner, parts, line_height, marks


def _only_a_dot(group: InkBox, own: np.ndarray, side: int) -> bool:
    """Whether a group's own ink is a dot (`only_a_dot`); told from its box when it is larger."""
    return max(group.height, group.width) < DOT_EXTENT * side and only_a_dot(own, side)


def _may_be_touching_digits(own: np.ndarray, line_height: float) -> bool:
    """Whether a group's ink may hold digits that touch: full height, and wide for it."""
    height, width = own.shape
    return width > CUT_ASPECT * height and height >= FULL_HEIGHT * line_height


def candidate_spans(parts: list[InkBox], line_height: float) -> list[tuple[int, int]]:
    """Runs of neighbouring parts (start, stop) narrow enough to be one digit: the candidates."""
    spans = []
    for start in range(len(parts)):
        left, right = parts[start].left, parts[start].right
        for stop in range(start + 1, min(start + MAX_SPAN, len(parts)) + 1):
            left, right = min(left, parts[stop - 1].left), max(right, parts[stop - 1].right)
            if stop > start + 1 and right - left > MAX_WIDTH * line_height:
                break
            spans.append((start, stop))
    return spans


def is_short(parts: list[InkBox], line_height: float) -> bool:
    """Whether neighbouring parts together are shorter than a digit of the line."""
    return functools.reduce(join, parts).height < FULL_HEIGHT * line_height


def shape_cost(parts: list[InkBox], line_height: float) -> float:
    """How unlike one digit these neighbouring parts look together, from their shape alone."""
    joined, cost = parts[0], 0.0
    for before, part in itertools.pairwise(parts):
        if part.source != before.source:
            gap = max(0, part.left - joined.right)
            cost += GAP_COST * gap / line_height
        joined = join(joined, part)
    aspect = joined.width / max(joined.height, 0.5 * line_height)
    cost += ASPECT_COST * max(0.0, aspect - FREE_ASPECT)
    return cost + SHORT_COST * max(0.0, FULL_HEIGHT - joined.height / line_height)


def _joined_ink(ink: np.ndarray, owner: np.ndarray, parts: list[InkBox]) -> np.ndarray:
    """The ink of neighbouring parts together, cropped to their common box."""
    box = functools.reduce(join, parts)
    mine = np.isin(owner[box.crop], [part.index for part in parts])
    return np.where(mine, ink[box.crop], 0.0).astype(np.float32)


def part_keys(ink: np.ndarray, owner: np.ndarray, parts: list[InkBox]) -> dict[int, Hashable]:
    """Each part's place and ink, by part index: the parts a candidate is made of, so keyed,
    fix its joined ink (and so its input) exactly."""
    return {
        part.index: (
            part.top,
            part.left,
            fingerprint(np.where(owner[part.crop] == part.index, ink[part.crop], 0.0)),
        )
        for part in parts
    }


def candidate_key(parts: list[InkBox], keys: dict[int, Hashable]) -> Hashable:
    """What fixes the input of neighbouring parts read as one digit: each part's place and ink."""
    return frozenset(keys[part.index] for part in parts)


def candidate_input(
    ink: np.ndarray, owner: np.ndarray, parts: list[InkBox], key: Hashable
) -> np.ndarray | None:
    """The 28x28 input of neighbouring parts read as one digit (`normalize` of their ink)."""
    return KEPT_INPUTS.get(key, lambda: normalize(_joined_ink(ink, owner, parts)))
