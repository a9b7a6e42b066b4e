"""The marks written with a number's digits: points, commas, dashes and a minus sign.

A small mark low in the line, clear of the digits on either side, is a decimal point or
comma; a short level stroke half way up, clear of them, is a minus sign before the first
digit or a dash between two; other specks are dropped. What a mark stands for is told by the
spread of its ink, and whether it is a mark at all by its size against the line and against
the pen that wrote the digits beside it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy import ndimage

from reading.pieces import InkBox, columns_in, own_ink
from reading.recent import Recent, fingerprint

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
RECENT_PENS = 256  # digits' pen widths kept, for the marks beside them (a number each)

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


KEPT_PENS: Recent[float] = Recent(RECENT_PENS)


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


def _hangs_alone(
    labels: np.ndarray, group: InkBox, groups: list[InkBox], foot: float, clearance: float
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
        columns = columns_in(labels, other, above)
        if columns and columns[0] < group.right + reach and columns[1] > group.left - reach:
            return False
    return True


def _clear_of(
    labels: np.ndarray, group: InkBox, other: InkBox, rows: slice, clearance: float
) -> bool:
    """Whether a group's ink lies `clearance` or more from another group's ink in these rows,
    point to point: a comma written close after a digit's foot, leaning away from it, is
    nearer to it by columns than it is."""
    window = labels[rows, min(group.left, other.left) : max(group.right, other.right)]
    theirs, mine = np.isin(window, list(other.labels)), np.isin(window, list(group.labels))
    if not (theirs.any() and mine.any()):
        return True
    return float(ndimage.distance_transform_edt(~theirs)[mine].min()) >= clearance


def find_marks(
    ink: np.ndarray,
    labels: np.ndarray,
    groups: list[InkBox],
    digit_sized: list[InkBox],
    line_height: float,
) -> dict[InkBox, MarkSymbol]:
    """The groups that are marks, with their symbols: small, but no thinner than the pen that
    wrote the digits beside them, and clear of every digit-sized group (specks are not). A
    point or comma sits on the line between two digits; a dash half way up, before a digit."""
    clearance, dash_clearance = MARK_CLEARANCE * line_height, DASH_CLEARANCE * line_height
    pens: dict[InkBox, float] = {}
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
            columns = columns_in(labels, other, rows) if near else (other.left, other.right)
            if columns is None:  # no ink level with the mark: which side its middle is on
                (left_of if other.middle < group.left else right_of).append(other)
            elif columns[1] + clearance <= group.left or (
                columns[0] < group.left
                and columns[1] <= group.right
                and _clear_of(labels, group, other, rows, clearance)
            ):  # a digit before it, clear of it by columns or at least point to point
                left_of.append(other)
                nearest_gap = min(nearest_gap, max(group.left - columns[1], clearance))
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
            symbol = _mark_symbol(own_ink(ink, labels, group)[1])
            if symbol is None or not (half_way_up if symbol == "-" else on_the_line):
                continue  # leaning, or not where this mark goes
            for other in (other for side in sides for other in side):
                if other not in pens:
                    own = own_ink(ink, labels, other)[1]
                    pens[other] = KEPT_PENS.get(
                        fingerprint(own), functools.partial(_pen_width, own)
                    )
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
