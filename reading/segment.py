"""A number written on a wide canvas -> one 28x28 input per digit, left to right.

The ink is split into connected pieces, and pieces that share most of their columns are
joined into one digit's group (`pieces`). Points, commas, dashes and a minus sign written
with the digits are told apart from them (`marks`); other specks are dropped. A group nearly
as wide as it is tall may hold digits that touch, so it is cut, top to bottom, along paths of
least ink (`cuts`). Which neighbouring parts make up each digit is then chosen for the whole
line at once (dynamic programming): every way of grouping the parts is scored by its shape
(`candidates`), by cutting connected ink (seldom two digits) and, when a classifier is given,
by how surely the model reads each group. All candidate groups are read in one batched call,
and each digit found keeps what the model made of it. Each digit is brought into MNIST form
by `preprocess.normalize`; `reading` turns the digits found into a typed reading of the number.

What depends only on some of the ink, the model's first look at a candidate included, is kept
for the latest ink seen (`recent`): the page reads the whole number again after each stroke,
and only the ink a stroke changed is worked on again.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from digit_model import DOUBT_BELOW, Classifier
from preprocess import INK_THRESHOLD, as_unit_ink
from reading.candidates import (
    KEPT_INPUTS,
    candidate_input,
    candidate_key,
    candidate_parts,
    candidate_spans,
    is_short,
    part_keys,
    shape_cost,
)
from reading.cuts import KEPT_CUTS
from reading.limits import MAX_DIGITS, Work, too_many_digits
from reading.marks import KEPT_PENS, Mark, MarkSymbol
from reading.pieces import RIM_REACH, InkBox, join
from reading.recent import MISSING, Recent

# Costs in nats, as the candidates' shape costs (`candidates`), added to them.
CUT_COST = 1.0  # cutting connected ink apart costs this much
CONFIDENCE_WEIGHT = 1.0  # nats of cost per nat of the model's doubt about a candidate digit
STRAY_COST = 2.0  # short ink firmly no digit stands as such for this, and the model's doubt
# The verdict's chance that a candidate is no digit counts in its cost up to this much: part
# of a digit cut off costs more, and ink firmly no digit is not cut into digit-like parts.
NOT_DIGIT_COUNTED_UP_TO = 0.5

RECENT_FIRST_LOOKS = 4096  # candidates' first looks kept for each classifier (under 200 B each)


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


class Split(NamedTuple):
    """A written number's digits and its marks (points, commas, dashes), left to right."""

    digits: list[Piece]
    marks: list[Mark]


_FirstLook = tuple[np.ndarray, float]  # a candidate's probabilities, and its chance of no digit
# A candidate's probabilities, whether it is a digit, doubtful, and its features.
_Reading = tuple[np.ndarray, bool, bool, np.ndarray]

_FIRST_LOOKS: weakref.WeakKeyDictionary[Classifier, Recent[_FirstLook]] = (
    weakref.WeakKeyDictionary()
)
_FIRST_LOOKS_LOCK = threading.Lock()


def forget_recent() -> None:
    """Forget the cuts, inputs, pen widths and first looks kept, as a new process starts: to
    time or test a number read for the first time."""
    KEPT_INPUTS.clear()
    KEPT_CUTS.clear()
    KEPT_PENS.clear()
    with _FIRST_LOOKS_LOCK:
        _FIRST_LOOKS.clear()


def _read(
    classifier: Classifier, images: dict[tuple[int, int], np.ndarray]
) -> dict[tuple[int, int], _Reading]:
    """Each span's image read by the classifier in one batch, second look included."""
    outputs = classifier.read_all(np.stack(list(images.values())))
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
        recent = _FIRST_LOOKS.setdefault(classifier, Recent(RECENT_FIRST_LOOKS))
    readings = {span: found for span in images if (found := recent.find(keys[span])) is not MISSING}
    if unread := {span: image for span, image in images.items() if span not in readings}:
        outputs = classifier.read_all(np.stack(list(unread.values())), second_look=False)
        for span, row, not_digit in zip(unread, outputs.probabilities, outputs.not_digit):
            row = row.copy()  # not a view that holds on to the whole batch
            row.flags.writeable = False
            readings[span] = (row, float(not_digit))
            recent.keep(keys[span], readings[span])
    return readings


def _ink_columns(owner: np.ndarray, digit: Piece, parts: list[InkBox], rows: slice) -> np.ndarray:
    """The columns where a digit's own ink (its parts') lies in these rows."""
    level = np.isin(owner[rows, digit.left : digit.right], [part.index for part in parts])
    return digit.left + np.flatnonzero(level.any(axis=0))


def _side_of(owner: np.ndarray, digit: Piece, parts: list[InkBox], mark: InkBox) -> int:
    """Which side of a mark a digit lies on, -1 before it, 1 after it, 0 round it: by the
    digit's ink level with the mark (within the mark's height of it), which may reach a little
    into the mark's columns (RIM_REACH), else by its middle."""
    rows = slice(max(0, mark.top - mark.height), mark.bottom + mark.height)
    columns = _ink_columns(owner, digit, parts, rows)
    if columns.size == 0:
        return -1 if (digit.left + digit.right) / 2 < mark.middle else 1
    reach = RIM_REACH * mark.width
    return -1 if columns[-1] < mark.left + reach else 1 if columns[0] >= mark.right - reach else 0


def _may_stand(
    owner: np.ndarray,
    pieces: list[Piece],
    parts: list[list[InkBox]],
    after: int,
    box: InkBox,
    symbol: MarkSymbol,
) -> bool:
    """Whether a mark may stand where it lies, after that many of the digits chosen, beside
    their boxes (`_placed_marks`)."""
    if symbol == ".":
        return after > 0
    if box.right > pieces[after].left:
        return False  # under the box of the digit after it
    if not after:
        return symbol == "-"
    before = pieces[after - 1]
    if before.right <= box.left:
        return True
    foot = _ink_columns(owner, before, parts[after - 1], slice(box.top, box.bottom))
    return symbol == "," and foot.size > 0


def _placed_marks(
    owner: np.ndarray,
    pieces: list[Piece],
    parts: list[list[InkBox]],
    marks: dict[InkBox, MarkSymbol],
) -> list[tuple[InkBox, Mark]]:
    """The marks between two of the digits chosen (each given as a piece and its parts, left
    to right), and a minus sign before the first, left to right, by group.

    A mark with one digit's ink on both sides of it, level with it, is no mark of the number.
    A point may lie under the edge of a digit's box (a round or slanted digit's box reaches
    over the line beside its foot). A comma may lie under the edge of the box before it only
    beside that digit's foot, its ink level with the comma's own rows: the lower part of a
    slanted 1 that a pen lift cut off hangs there too, but below the rest of the 1. A dash
    keeps clear of both boxes.
    """
    placed = []
    for box, symbol in sorted(marks.items(), key=lambda item: item[0].left):
        sides = [_side_of(owner, *digit, box) for digit in zip(pieces, parts)]
        after = sides.count(-1)
        if sides != [-1] * after + [1] * (len(sides) - after) or after == len(sides):
            continue  # round a digit, out of order with them, or after the last one
        if _may_stand(owner, pieces, parts, after, box, symbol):
            placed.append((box, Mark(symbol, after, box.top, box.left, box.bottom, box.right)))
    return placed


def split_digits(
    ink: np.ndarray, classifier: Classifier | None = None, work: Work | None = None
) -> Split:
    """Split the ink of a written number into its digits, left to right, each in MNIST form,
    and the marks written with them: points, commas and dashes between digits, a minus sign
    before the first.

    With a classifier, touching digits are cut apart and digits of several strokes told apart
    by how well the model reads each grouping at its first look, and each piece chosen keeps
    the model's reading, second look included; without one, by shape alone, and ink that
    touches stays one digit. Finds nothing in blank ink; raises ValueError for anything that
    is not 2-D float ink in [0, 1] (or uint8), like `preprocess.normalize`, and
    `limits.TooMuchWriting` for ink past the limits, before the costly part. Each candidate
    crop is counted in `work` before it is made, once however often the ink is split again.
    """
    ink = as_unit_ink(ink, "split_digits")
    if ink.max(initial=0.0) < INK_THRESHOLD:
        return Split([], [])
    work = Work() if work is None else work
    counted: set[Hashable] = set()  # the candidates counted in `work` so far
    enclosed: frozenset[InkBox] = frozenset()
    while True:
        pieces, placed, marks = _split(ink, classifier, work, counted, enclosed)
        if len(placed) == len(marks):
            return Split(pieces, [mark for _, mark in placed])
        # A mark that the digits chosen enclose, or that is not before one, is split again
        # as ink of the digits.
        enclosed |= frozenset(marks) - {box for box, _ in placed}


def _split(
    ink: np.ndarray,
    classifier: Classifier | None,
    work: Work,
    counted: set[Hashable],
    not_marks: frozenset[InkBox] = frozenset(),
) -> tuple[list[Piece], list[tuple[InkBox, Mark]], dict[InkBox, MarkSymbol]]:
    """The digits chosen, the marks placed among them, and the groups taken for marks (but
    for `not_marks`); the candidates not in `counted` are counted in `work` and added to it."""
    owner, parts, line_height, marks = candidate_parts(
        ink, cut=classifier is not None, not_marks=not_marks
    )
    keys_by_part = part_keys(ink, owner, parts)

    spans = candidate_spans(parts, line_height)
    keys = {span: candidate_key(parts[span[0] : span[1]], keys_by_part) for span in spans}
    new = set(keys.values()) - counted
    work.candidates(len(new))
    counted |= new
    costs = {span: shape_cost(parts[span[0] : span[1]], line_height) for span in spans}
    images: dict[tuple[int, int], np.ndarray] = {}
    readings: dict[tuple[int, int], _FirstLook] = {}
    if classifier is not None:
        for span in spans:
            image = candidate_input(ink, owner, parts[span[0] : span[1]], keys[span])
            if image is not None:
                images[span] = image
        if images:
            readings = _first_looks(classifier, images, keys)
            for span, (row, not_digit) in readings.items():
                # Doubt of the digit read, and of the group being a digit at all.
                sure = row.max() * (1.0 - min(not_digit, NOT_DIGIT_COUNTED_UP_TO))
                costs[span] -= CONFIDENCE_WEIGHT * float(np.log(sure + 1e-12))
                # Ink shorter than a digit, that the model firmly takes for no digit (the page
                # shows it as one), may be a stray mark (a blot, a scribble): it stands as no
                # digit rather than join a digit.
                if not_digit >= DOUBT_BELOW and is_short(parts[span[0] : span[1]], line_height):
                    stray = STRAY_COST - CONFIDENCE_WEIGHT * float(np.log(not_digit + 1e-12))
                    costs[span] = min(costs[span], stray)

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
    if len(chosen) > MAX_DIGITS:
        raise too_many_digits(len(chosen))
    read = {span: images[span] for span in chosen if span in readings}
    final = _read(classifier, read) if read else {}

    pieces, pieces_parts = [], []
    for span in reversed(chosen):
        members = parts[span[0] : span[1]]
        image = images.get(span)
        if image is None:
            image = candidate_input(ink, owner, members, keys[span])
        if image is None:
            continue
        box = functools.reduce(join, members)
        pieces.append(Piece(image, box.top, box.left, box.bottom, box.right, *final.get(span, ())))
        pieces_parts.append(members)
    return pieces, _placed_marks(owner, pieces, pieces_parts, marks), marks
