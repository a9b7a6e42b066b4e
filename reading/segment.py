"""A number written on a wide canvas -> one 28x28 input per digit, left to right.

The ink is split into connected pieces. Pieces that share most of their columns belong to
one digit (the bar of a 5 above its body, the two strokes of a 4) and are joined. A small
mark low in the line, clear of the digits on either side, is a decimal point or comma; a
short level stroke half way up, clear of them, is a minus sign before the first digit or a
dash between two; other specks are dropped. A piece nearly as wide as it is tall may hold
digits that touch, so it is cut, top to bottom, along paths of least ink. Which neighbouring
parts make up each digit is then chosen for the whole line at once (dynamic programming):
every way of grouping the parts is scored by its shape (digits are rarely much wider than
tall or much shorter than the line; parts with space between them rarely belong together;
connected ink is seldom two digits) and, when a classifier is given, by how surely the model
reads each group. All candidate groups are read in one batched call, and each digit found
keeps what the model made of it. Each digit is brought into MNIST form by
`preprocess.normalize`; `reading` turns the digits found into a typed reading of the number.

A stroke changes only the ink near it, and the page reads the whole number again after each
one. So what depends only on some of the ink is kept for the latest ink seen, keyed by its
exact content: a group's cuts, a candidate's 28x28 input and the pen width of a digit beside
a mark, the same bit for bit, and the model's first look at a candidate. Only the ink a
stroke changed is worked on again.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Literal, NamedTuple, TypeVar, get_args

import numpy as np
from scipy import ndimage

from digit_model import Classifier
from preprocess import (
    DOT_EXTENT,
    EIGHT_CONNECTED,
    HAZE,
    INK_THRESHOLD,
    as_unit_ink,
    normalize,
    only_a_dot,
)

DUST = 0.005  # pieces this light relative to the heaviest are ignored from the start
MAX_PIECES = 200  # beyond this many pieces only the heaviest count: it is not writing
MERGE_OVERLAP = 0.5  # pieces sharing this fraction of the narrower one's columns are one digit
SPECK = 0.04  # groups lighter than this share of the heaviest are specks
TALL = 0.5  # groups at least this fraction of the tallest one's height set the line height
SIDE_BY_SIDE = 0.5  # parts apart that are this share of all the ink's height may be digits
LINE_HEIGHT = 0.5  # bands of rows at least this share of the tallest one's height...
LINE_INK = 0.1  # ...and holding this share of the heaviest one's ink are lines,...
LINE_GAP = 0.1  # ...when this share of the taller one's height, or more, lies empty between
MARK_SIZE = 0.25  # a point or comma's stroke (ink less pen) is at most this much of the line,
COMMA_SIZE = 0.4  # ...or this much for a comma hanging below the line with no ink above it,
MIN_DAB = 0.7  # ...at least this fraction of the pen's width each way,
MARK_CLEARANCE = 0.05  # ...this far from any digit (and at most this far below their foot)...
COMMA_ELONGATION = 1.5  # ...and a comma this many times longer than thick (by its ink's spread)
DASH_LENGTH = 0.8  # a dash is as high as a point may be and at most this many line heights long,
DASH_SLOPE = 0.5  # ...drawn out as a comma is, leaning at most this far from level (sine),
DASH_CLEARANCE = 0.1  # ...this far from any digit (a piece of a digit's stroke is often closer;
# a minus sign, before the first digit, need only be MARK_CLEARANCE from it)
DASH_BAND = 0.2  # ...and its middle this close to the middle of the digits beside it
DIGIT_REACH = 0.6  # the strokes of the digit beside a mark start within this many line heights
CUT_ASPECT = 0.75  # a full-height group wider than this times its height may be touching digits
MIN_PART = 0.15  # cuts are at least this fraction of the line height apart...
DRIFT = 0.02  # ...and bend around ink, at this cost per pixel away from their column
MAX_SPAN = 8  # a digit is made of at most this many neighbouring parts...
MAX_WIDTH = 1.8  # ...spanning at most this many line heights

# Costs in the same unit as the model's log-probabilities (nats).
FREE_ASPECT = 0.8  # digits up to this width/height cost nothing for their shape...
ASPECT_COST = 3.0  # ...wider ones this much per unit of width/height beyond it
GAP_COST = 8.0  # joining separate pieces costs this much per line height of space between
FULL_HEIGHT = 0.75  # digits are at least this fraction of the line height...
SHORT_COST = 20.0  # ...and cost this much per line height they fall short of it
CUT_COST = 1.0  # cutting connected ink apart costs this much
CONFIDENCE_WEIGHT = 1.0  # nats of cost per nat of the model's doubt about a candidate digit

RECENT_INPUTS = 4096  # candidates' 28x28 inputs kept (3 kB each): a few long numbers' worth
RECENT_CUTS = 64  # groups' cuts kept (at most 100 kB each, a few kB for a digit)
RECENT_FIRST_LOOKS = 4096  # candidates' first looks kept for each classifier (under 200 B each)
RECENT_PENS = 256  # digits' pen widths kept, for the marks beside them (a number each)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Piece:
    """One digit of a number: its 28x28 input, where it lies in the ink (pixel box), and, when
    a classifier chose the split, what the model read in it."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST form
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive
    probabilities: np.ndarray | None = None  # (10,)
    is_digit: bool | None = None
    doubtful: bool | None = None  # as `digit_model.ModelOutputs.doubtful`
    # How it looks to the network (`digit_model.ModelOutputs.features`), for a handwriting memory.
    features: np.ndarray | None = None


MarkSymbol = Literal[".", ",", "-"]
MARK_SYMBOLS: tuple[MarkSymbol, ...] = get_args(MarkSymbol)


@dataclass(frozen=True)
class Mark:
    """A point, comma or dash written between two digits of a number, or a minus sign before
    the first, and where it lies (pixel box)."""

    symbol: MarkSymbol
    after: int  # how many digits are written before it
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive


class Split(NamedTuple):
    """A written number's digits and its marks (points, commas, dashes), left to right."""

    digits: list[Piece]
    marks: list[Mark]


_FirstLook = tuple[np.ndarray, bool, bool]  # a candidate's probabilities, is a digit, doubtful
_Reading = tuple[np.ndarray, bool, bool, np.ndarray]  # a first look's, and the features


@dataclass(frozen=True)
class _Box:
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
    def crop(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)


_Result = TypeVar("_Result")
_MISSING = object()  # no result kept (a kept result may itself be None)


class _Recent(Generic[_Result]):
    """The results of one slow function for the most recently used keys, safe across threads.

    Keys name the exact input (see `_fingerprint`): a result kept is what was worked out for
    that very input. Kept arrays are read-only, as several readings may share them.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, _Result] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, key: Hashable) -> _Result | object:
        """The result kept for `key`, now the most recently used, or _MISSING."""
        with self._lock:
            result = self._kept.get(key, _MISSING)
            if result is not _MISSING:
                self._kept.move_to_end(key)
            return result

    def keep(self, key: Hashable, result: _Result) -> None:
        """Keep `result` for `key`, forgetting the least recently used beyond the size."""
        if isinstance(result, np.ndarray):
            result.flags.writeable = False
        with self._lock:
            self._kept[key] = result
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def get(self, key: Hashable, compute: Callable[[], _Result]) -> _Result:
        """The result kept for `key`, or `compute()` kept for it now."""
        result = self.find(key)
        if result is _MISSING:
            result = compute()
            self.keep(key, result)
        return result

    def clear(self) -> None:
        """Forget every result kept."""
        with self._lock:
            self._kept.clear()


_INPUTS: _Recent[np.ndarray | None] = _Recent(RECENT_INPUTS)
_CUTS: _Recent[np.ndarray | None] = _Recent(RECENT_CUTS)
_PENS: _Recent[float] = _Recent(RECENT_PENS)
_FIRST_LOOKS: weakref.WeakKeyDictionary[Classifier, _Recent[_FirstLook]] = (
    weakref.WeakKeyDictionary()
)
_FIRST_LOOKS_LOCK = threading.Lock()


def forget_recent() -> None:
    """Forget the cuts, inputs, pen widths and first looks kept, as a new process starts: to
    time or test a number read for the first time."""
    _INPUTS.clear()
    _CUTS.clear()
    _PENS.clear()
    with _FIRST_LOOKS_LOCK:
        _FIRST_LOOKS.clear()


def _fingerprint(array: np.ndarray) -> tuple[tuple[int, ...], str, bytes]:
    """An array's shape, type and a digest of its values: equal only for equal arrays."""
    array = np.ascontiguousarray(array)
    return array.shape, array.dtype.str, hashlib.sha256(array).digest()


def _pieces(ink: np.ndarray) -> tuple[np.ndarray, list[_Box]]:
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
        pieces.append(_Box(rows.start, cols.start, rows.stop, cols.stop, masses[index], label))
    return labels, pieces


def _join(first: _Box, second: _Box) -> _Box:
    """The box around both, with their ink together."""
    return _Box(
        min(first.top, second.top),
        min(first.left, second.left),
        max(first.bottom, second.bottom),
        max(first.right, second.right),
        first.mass + second.mass,
        first.labels | second.labels,
    )


def _column_overlap(first: _Box, second: _Box) -> float:
    """Shared columns as a fraction of the narrower box's width."""
    shared = min(first.right, second.right) - max(first.left, second.left)
    return shared / min(first.width, second.width)


def _overlapping_pair(groups: list[_Box]) -> tuple[int, int] | None:
    """The first pair of groups (sorted by left edge) that share most of their columns."""
    for i, first in enumerate(groups):
        for j in range(i + 1, len(groups)):
            if groups[j].left >= first.right:
                break
            if _column_overlap(first, groups[j]) >= MERGE_OVERLAP:
                return i, j
    return None


def _merge_overlapping(groups: list[_Box]) -> list[_Box]:
    """Join groups that share most of their columns, until no such pair is left."""
    groups = sorted(groups, key=lambda group: group.left)
    while pair := _overlapping_pair(groups):
        i, j = pair
        groups[i] = _join(groups[i], groups.pop(j))
    return groups


def _seams(own: np.ndarray, columns: list[int], reach: int) -> np.ndarray:
    """For each column, the top-to-bottom path through the least ink within `reach` of it,
    as its column in every row: (len(columns), height)."""
    height, width = own.shape
    offsets = np.arange(-reach, reach + 1)
    near = np.array(columns)[:, None] + offsets  # (seams, band)
    inside = (near >= 0) & (near < width)
    band = np.where(inside, own[:, np.clip(near, 0, width - 1)], np.inf)  # (rows, seams, band)
    band += DRIFT * np.abs(offsets)
    blocked = np.full((len(columns), 1), np.inf)
    cost = band[0]
    came_from = np.zeros(band.shape, dtype=np.int8)
    for row in range(1, height):
        options = np.stack(
            [np.hstack([blocked, cost[:, :-1]]), cost, np.hstack([cost[:, 1:], blocked])]
        )
        came_from[row] = options.argmin(axis=0) - 1
        cost = band[row] + options.min(axis=0)
    steps = np.empty((len(columns), height), dtype=np.int64)
    steps[:, -1] = cost.argmin(axis=1)
    every = np.arange(len(columns))
    for row in range(height - 1, 0, -1):
        steps[:, row - 1] = steps[:, row] + came_from[row, every, steps[:, row]]
    return np.take_along_axis(near, steps, axis=1)


def _regions(own: np.ndarray, line_height: float) -> np.ndarray:
    """Cut a group's ink along paths of least ink: the region number of every pixel, 0 on."""
    height, width = own.shape
    regions = np.zeros(own.shape, dtype=np.int32)
    if width <= CUT_ASPECT * height or height < FULL_HEIGHT * line_height:
        return regions
    margin = max(1, round(MIN_PART * line_height))
    seams = _CUTS.get((_fingerprint(own), margin), lambda: _cuts(own, margin))
    if seams is None:
        return regions
    everywhere = np.arange(width)
    for seam in seams:
        regions += everywhere[None, :] >= seam[:, None]
    return regions


def _cuts(own: np.ndarray, margin: int) -> np.ndarray | None:
    """Where to cut a group's ink, at least `margin` apart: each cut's column in every row,
    left to right and never crossing; None when the group is too narrow to cut."""
    width = own.shape[1]
    profile = ndimage.uniform_filter1d(own.sum(axis=0), size=5)
    valleys = [
        column
        for column in range(margin, width - margin)
        if profile[column] <= profile[column - 1] and profile[column] < profile[column + 1]
    ]
    columns: list[int] = []
    # The lightest columns first; then evenly spaced ones, for digits that touch over a width.
    for column in [*sorted(valleys, key=lambda c: profile[c]), *range(margin, width, margin)]:
        if column < width - margin // 2 and all(abs(column - c) >= margin for c in columns):
            columns.append(column)
    if not columns:
        return None
    seams = np.maximum.accumulate(_seams(own, sorted(columns), margin), axis=0)  # never cross
    return seams.astype(np.int32)


def _only_a_dot(group: _Box, own: np.ndarray, side: int) -> bool:
    """Whether a group's own ink is a dot (`only_a_dot`); told from its box when it is larger."""
    return max(group.height, group.width) < DOT_EXTENT * side and only_a_dot(own, side)


def _own_ink(ink: np.ndarray, labels: np.ndarray, group: _Box) -> tuple[np.ndarray, np.ndarray]:
    """Where a group's own pieces lie in its box, and their ink there (others' ink is 0)."""
    mine = np.isin(labels[group.crop], list(group.labels))
    return mine, np.where(mine, ink[group.crop], 0.0)


def _pen_width(ink: np.ndarray) -> float:
    """How wide the pen drew these strokes: twice the median distance from the middle of a
    stroke to its edge."""
    inside = np.pad(ink >= 0.5, 1)
    distance = ndimage.distance_transform_edt(inside)
    middle = inside & (distance >= ndimage.maximum_filter(distance, size=3))
    return 2.0 * float(np.median(distance[middle])) if middle.any() else 0.0


def _mark_symbol(ink: np.ndarray) -> MarkSymbol | None:
    """What a small blob of ink between digits stands for, by the spread of its ink along its
    axes: a point when round, a comma when drawn out up and down, a dash when drawn out level,
    nothing (None) when it leans between the two."""
    rows, cols = np.nonzero(ink)
    weights = ink[rows, cols]
    spread = np.cov(np.stack([rows, cols]), aweights=weights) if rows.size > 1 else np.eye(2)
    variances, axes = np.linalg.eigh(spread + 1e-6 * np.eye(2))
    if variances[1] < COMMA_ELONGATION**2 * variances[0]:
        return "."
    rise = abs(axes[0, 1])  # the sine of the angle between the longer axis and the line
    return "," if rise >= abs(axes[1, 1]) else "-" if rise <= DASH_SLOPE else None


def _columns_in(labels: np.ndarray, group: _Box, rows: slice) -> tuple[int, int] | None:
    """The columns a group's own ink spans within these rows (right exclusive); None if it
    has no ink there. A slanted digit's box reaches further than its ink in any one row."""
    band = np.isin(labels[rows, group.left : group.right], list(group.labels))
    columns = np.flatnonzero(band.any(axis=0))
    return (group.left + columns[0], group.left + columns[-1] + 1) if columns.size else None


def _hangs_alone(
    labels: np.ndarray, group: _Box, groups: list[_Box], foot: float, clearance: float
) -> bool:
    """Whether a stroke between digits hangs below their feet, by `clearance` or more, with no
    other ink above it within `clearance` of its columns: a comma's tail. The lower part of a
    slanted 1 that a pen lift cut off hangs as low, under the rest of the 1."""
    if group.bottom < foot + clearance:
        return False
    above = slice(max(0, round(group.top - 2 * group.height)), group.top)
    reach = round(clearance)
    for other in groups:
        if other is group or other.bottom <= above.start or other.top >= above.stop:
            continue
        columns = _columns_in(labels, other, above)
        if columns and columns[0] < group.right + reach and columns[1] > group.left - reach:
            return False
    return True


def _marks(
    ink: np.ndarray,
    labels: np.ndarray,
    groups: list[_Box],
    digit_sized: list[_Box],
    line_height: float,
) -> dict[_Box, MarkSymbol]:
    """The groups that are marks, with their symbols: small, but no thinner than the pen that
    wrote the digits beside them, and clear of every digit-sized group (specks are not). A
    point or comma sits on the line between two digits; a dash half way up, before a digit."""
    clearance, dash_clearance = MARK_CLEARANCE * line_height, DASH_CLEARANCE * line_height
    pens: dict[_Box, float] = {}
    marks = {}
    for group in groups:
        if group.height > 2 * COMMA_SIZE * line_height or group.width > DASH_LENGTH * line_height:
            continue  # far too large for a mark; the exact check, less the pen, is below
        rows = slice(max(0, group.top - round(clearance)), group.bottom + round(clearance))
        # nearest_gap: to the nearest digit's ink in the mark's rows, or at least dash_clearance.
        left_of, right_of, nearest_gap = [], [], np.inf
        for other in (other for other in digit_sized if other is not group):
            # Only a digit whose box comes within dash_clearance (more than clearance) of the
            # mark needs its ink looked at: a farther one is on the same side by its box.
            near = (
                other.right + dash_clearance > group.left
                and other.left - dash_clearance < group.right
            )
            columns = _columns_in(labels, other, rows) if near else (other.left, other.right)
            middle = (other.left + other.right) / 2
            if columns is None:  # no ink level with the mark: which side its middle is on
                (left_of if middle < group.left else right_of).append(other)
            elif columns[1] + clearance <= group.left:
                left_of.append(other)
                nearest_gap = min(nearest_gap, group.left - columns[1])
            elif columns[0] - clearance >= group.right:
                right_of.append(other)
                nearest_gap = min(nearest_gap, columns[0] - group.right)
            else:
                break  # too close to a digit, or within one
        else:
            if not right_of:
                continue  # after the last digit
            # Each side's digit: the digit-sized groups that start within DIGIT_REACH of the
            # nearest one's edge (a digit may be two of them, as a 4 in two strokes).
            reach = DIGIT_REACH * line_height
            after = min(other.left for other in right_of)
            sides = [[other for other in right_of if other.left <= after + reach]]
            if left_of:
                before = max(other.right for other in left_of)
                sides.append([other for other in left_of if other.right >= before - reach])
            middles = [
                (min(o.top for o in side) + max(o.bottom for o in side)) / 2 for side in sides
            ]
            foot = np.mean([max(other.bottom for other in side) for side in sides])
            on_the_line = (  # where a point or comma goes
                len(sides) == 2 and max(middles) <= group.top <= foot + clearance
            )
            half_way_up = (  # where a dash goes; a minus sign, before them all, may be closer
                nearest_gap >= (dash_clearance if left_of else clearance)
                and abs((group.top + group.bottom) / 2 - np.mean(middles))
                <= DASH_BAND * line_height
            )
            if not (on_the_line or half_way_up):
                continue  # high, low, or close to a digit: no mark goes there
            symbol = _mark_symbol(_own_ink(ink, labels, group)[1])
            if symbol is None or not (half_way_up if symbol == "-" else on_the_line):
                continue  # leaning, or not where this mark goes
            for other in (other for side in sides for other in side):
                if other not in pens:
                    own = _own_ink(ink, labels, other)[1]
                    pens[other] = _PENS.get(_fingerprint(own), functools.partial(_pen_width, own))
            pen = np.median([pens[other] for side in sides for other in side])
            if min(group.height, group.width) < MIN_DAB * pen:
                continue  # a speck, thinner than the pen
            widest = group.height if symbol == "-" else max(group.height, group.width)
            if widest - pen > MARK_SIZE * line_height and not (
                symbol == ","
                and widest - pen <= COMMA_SIZE * line_height
                and _hangs_alone(labels, group, groups, foot, clearance)
            ):
                continue  # a stroke too long for a point or comma, or too high for a dash
            marks[group] = symbol
    return marks


def _candidate_parts(
    ink: np.ndarray, cut: bool, not_marks: frozenset[_Box] = frozenset()
) -> tuple[np.ndarray, list[_Box], float, dict[_Box, MarkSymbol]]:
    """The owner map (part index per pixel, -1 for none), the parts left to right, the line
    height, and the marks with their symbols (but for `not_marks`, which are ink of digits).

    Parts are whole groups of pieces, or (when `cut`) regions of a group where digits may touch.
    """
    labels, pieces = _pieces(ink)
    groups = _merge_overlapping(pieces)
    heaviest = max(group.mass for group in groups)
    kept = [group for group in groups if group.mass >= SPECK * heaviest]
    tallest = max(group.height for group in kept)
    line_height = float(np.median([g.height for g in kept if g.height >= TALL * tallest]))
    digit_sized = [group for group in kept if group.height >= TALL * line_height]
    marks = {
        group: symbol
        for group, symbol in _marks(ink, labels, groups, digit_sized, line_height).items()
        if group not in not_marks
    }
    groups = [group for group in kept if group not in marks]

    owner = np.full(ink.shape, -1, dtype=np.int32)
    parts: list[_Box] = []
    for source, group in enumerate(groups):
        mine, own = _own_ink(ink, labels, group)
        # A dot is never cut: its halves read as two 0s.
        whole = not cut or _only_a_dot(group, own, min(ink.shape))
        regions = np.zeros(own.shape, dtype=np.int32) if whole else _regions(own, line_height)
        for region in range(int(regions.max()) + 1):
            where = mine & (regions == region)
            rows, cols = np.nonzero(where)
            if rows.size == 0:
                continue
            owner[group.crop][where] = len(parts)
            parts.append(
                _Box(
                    group.top + int(rows.min()),
                    group.left + int(cols.min()),
                    group.top + int(rows.max()) + 1,
                    group.left + int(cols.max()) + 1,
                    float(own[where].sum()),
                    index=len(parts),
                    source=source,
                )
            )
    parts.sort(key=lambda part: (part.left + part.right) / 2)
    return owner, parts, line_height, marks


def _spans(parts: list[_Box], line_height: float) -> list[tuple[int, int]]:
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


def _shape_cost(parts: list[_Box], line_height: float) -> float:
    """How unlike one digit these neighbouring parts look together, from their shape alone."""
    joined, cost = parts[0], 0.0
    for before, part in itertools.pairwise(parts):
        if part.source != before.source:
            gap = max(0, part.left - joined.right)
            cost += GAP_COST * gap / line_height
        joined = _join(joined, part)
    aspect = joined.width / max(joined.height, 0.5 * line_height)
    cost += ASPECT_COST * max(0.0, aspect - FREE_ASPECT)
    return cost + SHORT_COST * max(0.0, FULL_HEIGHT - joined.height / line_height)


def _joined_ink(ink: np.ndarray, owner: np.ndarray, parts: list[_Box]) -> np.ndarray:
    """The ink of neighbouring parts together, cropped to their common box."""
    box = functools.reduce(_join, parts)
    mine = np.isin(owner[box.crop], [part.index for part in parts])
    return np.where(mine, ink[box.crop], 0.0).astype(np.float32)


def _part_keys(ink: np.ndarray, owner: np.ndarray, parts: list[_Box]) -> dict[int, Hashable]:
    """Each part's place and ink, by part index: the parts a candidate is made of, so keyed,
    fix its joined ink (and so its input) exactly."""
    return {
        part.index: (
            part.top,
            part.left,
            _fingerprint(np.where(owner[part.crop] == part.index, ink[part.crop], 0.0)),
        )
        for part in parts
    }


def _candidate_key(parts: list[_Box], keys: dict[int, Hashable]) -> Hashable:
    """What fixes the input of neighbouring parts read as one digit: each part's place and ink."""
    return frozenset(keys[part.index] for part in parts)


def _input(
    ink: np.ndarray, owner: np.ndarray, parts: list[_Box], key: Hashable
) -> np.ndarray | None:
    """The 28x28 input of neighbouring parts read as one digit (`normalize` of their ink)."""
    return _INPUTS.get(key, lambda: normalize(_joined_ink(ink, owner, parts)))


def _read(
    classifier: Classifier, images: dict[tuple[int, int], np.ndarray], second_look: bool
) -> dict[tuple[int, int], _Reading]:
    """Each span's image read by the classifier in one batch."""
    outputs = classifier.read_all(np.stack(list(images.values())), second_look=second_look)
    return {
        span: (row, bool(verdict), bool(doubt), looks)
        for span, row, verdict, doubt, looks in zip(
            images, outputs.probabilities, outputs.is_digit, outputs.doubtful, outputs.features
        )
    }


def _first_looks(
    classifier: Classifier,
    images: dict[tuple[int, int], np.ndarray],
    keys: dict[tuple[int, int], Hashable],
) -> dict[tuple[int, int], _FirstLook]:
    """Each span's image read at the model's first look: those not read lately in one batch.

    A first look kept is the one the model gave that input before, in a batch of another size,
    so it may differ from a fresh one in the last digits of a float (a millionth).
    """
    with _FIRST_LOOKS_LOCK:
        recent = _FIRST_LOOKS.setdefault(classifier, _Recent(RECENT_FIRST_LOOKS))
    readings = {
        span: found for span in images if (found := recent.find(keys[span])) is not _MISSING
    }
    if unread := {span: image for span, image in images.items() if span not in readings}:
        first_looks = _read(classifier, unread, second_look=False)
        for span, (row, verdict, doubt, _) in first_looks.items():
            row = row.copy()  # not a view that holds on to the whole batch
            row.flags.writeable = False
            readings[span] = (row, verdict, doubt)
            recent.keep(keys[span], readings[span])
    return readings


def _placed_marks(pieces: list[Piece], marks: dict[_Box, MarkSymbol]) -> list[tuple[_Box, Mark]]:
    """The marks between two of the digits chosen, and a minus sign before the first, left
    to right, by group."""
    middles = [(piece.left + piece.right) / 2 for piece in pieces]
    placed = []
    for box, symbol in sorted(marks.items(), key=lambda item: item[0].left):
        after = bisect.bisect(middles, box.left)
        if (
            after < len(pieces)
            and (pieces[after - 1].right <= box.left if after else symbol == "-")
            and box.right <= pieces[after].left
        ):
            placed.append((box, Mark(symbol, after, box.top, box.left, box.bottom, box.right)))
    return placed


def _runs(indices: np.ndarray) -> list[np.ndarray]:
    """Sorted indices split where they skip: the runs of inked columns, or of rows."""
    return np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)


def side_by_side(ink: np.ndarray) -> bool:
    """Whether the ink has empty columns between parts of it, two of them at least SIDE_BY_SIDE
    of its height: whether it may be digits side by side rather than one digit, told without
    the model (in well under a millisecond)."""
    inked = as_unit_ink(ink, "side_by_side") >= HAZE
    columns = np.flatnonzero(inked.any(axis=0))
    if columns.size == 0:
        return False
    runs = _runs(columns)
    if len(runs) == 1:
        return False

    def height(rows: np.ndarray) -> int:
        inked_rows = np.flatnonzero(rows)
        return int(inked_rows[-1] - inked_rows[0] + 1)

    whole = height(inked.any(axis=1))
    parts = [height(inked[:, run[0] : run[-1] + 1].any(axis=1)) for run in runs]
    return sum(part >= SIDE_BY_SIDE * whole for part in parts) >= 2


def lines_of_writing(ink: np.ndarray) -> int:
    """How many lines of writing the ink holds, one above another: bands of inked rows at
    least LINE_HEIGHT of the tallest one's height and LINE_INK of the heaviest one's ink (a
    5's bar, a comma or a scratch is no line), over the same columns, with empty rows between
    them at least LINE_GAP of the taller one's height (a pen lift's few pixels are no gap); 0 for
    blank ink."""
    ink = as_unit_ink(ink, "lines_of_writing")
    inked = ink >= HAZE
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return 0
    bands = []  # (top, bottom, first column, last column, ink) of each band of inked rows
    for run in _runs(rows):
        band = slice(run[0], run[-1] + 1)
        columns = np.flatnonzero(inked[band].any(axis=0))
        bands.append((run[0], run[-1] + 1, columns[0], columns[-1], float(ink[band].sum())))
    tallest = max(bottom - top for top, bottom, *_ in bands)
    heaviest = max(mass for *_, mass in bands)
    lines = [
        band
        for band in bands
        if band[1] - band[0] >= LINE_HEIGHT * tallest and band[4] >= LINE_INK * heaviest
    ]
    count = 1
    for upper, lower in itertools.pairwise(lines):
        taller = max(upper[1] - upper[0], lower[1] - lower[0])
        over_each_other = upper[2] <= lower[3] and lower[2] <= upper[3]
        if over_each_other and lower[0] - upper[1] >= LINE_GAP * taller:
            count += 1
    return count


def split_digits(ink: np.ndarray, classifier: Classifier | None = None) -> Split:
    """Split the ink of a written number into its digits, left to right, each in MNIST form,
    and the marks written with them: points, commas and dashes between digits, a minus sign
    before the first.

    With a classifier, touching digits are cut apart and digits of several strokes told apart
    by how well the model reads each grouping at its first look, and each piece chosen keeps
    the model's reading, second look included; without one, by shape alone, and ink that
    touches stays one digit. Finds nothing in blank ink; raises ValueError for anything that
    is not 2-D float ink in [0, 1] (or uint8), like `preprocess.normalize`.
    """
    ink = as_unit_ink(ink, "split_digits")
    if ink.max(initial=0.0) < INK_THRESHOLD:
        return Split([], [])
    enclosed: frozenset[_Box] = frozenset()
    while True:
        pieces, marks = _split(ink, classifier, enclosed)
        placed = _placed_marks(pieces, marks)
        if len(placed) == len(marks):
            return Split(pieces, [mark for _, mark in placed])
        # A mark that the digits chosen enclose, or that is not before one, is split again
        # as ink of the digits.
        enclosed |= frozenset(marks) - {box for box, _ in placed}


def _split(
    ink: np.ndarray, classifier: Classifier | None, not_marks: frozenset[_Box] = frozenset()
) -> tuple[list[Piece], dict[_Box, MarkSymbol]]:
    """The digits chosen, and the groups taken for marks (but for `not_marks`)."""
    owner, parts, line_height, marks = _candidate_parts(
        ink, cut=classifier is not None, not_marks=not_marks
    )
    part_keys = _part_keys(ink, owner, parts)

    spans = _spans(parts, line_height)
    keys = {span: _candidate_key(parts[span[0] : span[1]], part_keys) for span in spans}
    costs = {span: _shape_cost(parts[span[0] : span[1]], line_height) for span in spans}
    images: dict[tuple[int, int], np.ndarray] = {}
    readings: dict[tuple[int, int], _FirstLook] = {}
    if classifier is not None:
        for span in spans:
            image = _input(ink, owner, parts[span[0] : span[1]], keys[span])
            if image is not None:
                images[span] = image
        if images:
            readings = _first_looks(classifier, images, keys)
            for span, (row, _, _) in readings.items():
                costs[span] -= CONFIDENCE_WEIGHT * float(np.log(row.max() + 1e-12))

    # best[stop]: the cheapest reading of parts[:stop], and where its last digit starts.
    best = [(0.0, -1)] + [(np.inf, -1)] * len(parts)
    for stop in range(1, len(parts) + 1):
        for start in (start for start in range(stop) if (start, stop) in costs):
            cut = start > 0 and parts[start - 1].source == parts[start].source
            total = best[start][0] + costs[(start, stop)] + CUT_COST * cut
            if total < best[stop][0]:
                best[stop] = (total, start)
    chosen = []
    stop = len(parts)
    while stop > 0:
        chosen.append((best[stop][1], stop))
        stop = best[stop][1]
    read = {span: images[span] for span in chosen if span in readings}
    final = _read(classifier, read, second_look=True) if read else {}

    pieces = []
    for span in reversed(chosen):
        members = parts[span[0] : span[1]]
        image = images.get(span)
        if image is None:
            image = _input(ink, owner, members, keys[span])
        if image is None:
            continue
        box = functools.reduce(_join, members)
        pieces.append(Piece(image, box.top, box.left, box.bottom, box.right, *final.get(span, ())))
    return pieces, marks
