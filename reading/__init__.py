"""Handwriting in, typed readings out: one digit, a whole number, or the bytes of a picture.

The one reading pipeline of the project, used by the page, the HTTP API, the command line,
the benchmarks, the tests and `train_model.py evaluate`. Ink is brought into MNIST form by
`preprocess.prepare`, a number is split into its digits by `segment`, a picture is opened
safely by `photo`, and the model reads every input of a drawing in one batched call. What
one reading may take on is bounded, and its work counted as it goes (`limits`). A
`HandwritingMemory` of the person's own labelled digits (`memory`) can weigh in on a digit,
and on each digit of a number (`recall_number`).
No Streamlit here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from digit_model import Classifier
from preprocess import canvas_to_ink, only_a_dot, prepare
from reading import layout, photo, segment
from reading.limits import Work
from reading.marks import MarkSymbol
from reading.memory import HandwritingMemory

Mode = Literal["digit", "number"]
MODES: tuple[Mode, ...] = ("digit", "number")
# Why a digit read is not given as the answer: the ink is only a dot or a speck, or the
# model is firm that the drawing is no digit at all.
Withheld = Literal["too small", "not a digit"]
WITHHELD = "?"  # stands in a number for a piece whose digit is withheld
MAY_NOT_BE_A_DIGIT = "may not be a digit at all"  # said of a digit given though doubtful
UNSURE_BELOW = 0.6  # a digit read less surely than this is a guess between two digits


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class DigitReading:
    """What the model made of one digit: its 28x28 input, ten calibrated probabilities and
    whether the ink is a digit at all."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST form
    probabilities: np.ndarray  # (10,) calibrated, summing to 1
    is_digit: bool  # False: the model takes the drawing for something other than a digit
    too_small: bool  # the ink is only a dot or a speck, too small to read
    # Not a digit by the verdict, but not firmly (`ModelOutputs.doubtful`): the digit is offered.
    doubtful: bool = field(default=False, kw_only=True)
    # How the drawing looks to the network (unit vector), to compare it with examples.
    features: np.ndarray | None = field(default=None, kw_only=True, repr=False, compare=False)
    examples: int = field(default=0, kw_only=True)  # the person's examples backing the answer
    # The digit of each of their examples of another digit that looks like it, when together
    # they take a point or more from the answer's confidence (`memory.LESS_SURE`).
    examples_against: tuple[int, ...] = field(default=(), kw_only=True)
    changed: bool = field(default=False, kw_only=True)  # they changed the model's answer

    @property
    def digit(self) -> int:
        """The digit read: the most probable of the ten."""
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        """The calibrated chance that the digit read is right."""
        return float(self.probabilities.max())

    @property
    def withheld(self) -> Withheld | None:
        """Why the digit read is not given as the answer; None when it is given, a doubtful
        verdict's included."""
        if self.too_small:
            return "too small"
        if not self.is_digit and not self.doubtful:
            return "not a digit"
        return None

    @property
    def top_two(self) -> tuple[int, int]:
        """The two likeliest digits, likeliest first."""
        first, second = np.argsort(self.probabilities)[::-1][:2]
        return int(first), int(second)

    def to_dict(self) -> dict:
        """The reading as JSON-ready values: what the HTTP API and `--json` answer."""
        return {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": [float(p) for p in self.probabilities],
            "is_digit": self.is_digit,
            "doubtful": self.doubtful,
            "too_small": self.too_small,
        }


@dataclass(frozen=True, eq=False)
class OneDigitReading(DigitReading):
    """A drawing or picture sent to be read as one digit, and the number it reads as when it
    holds several digits side by side instead (`several_digits`)."""

    # The number, each of its digits read surely; None for one digit.
    several_digits: str | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict:
        """The reading as JSON-ready values, with the number seen where one digit was asked for."""
        return {**super().to_dict(), "several_digits": self.several_digits}


@dataclass(frozen=True, eq=False)
class DrawingReading(OneDigitReading):
    """One canvas drawing read as a digit, with a key that names the drawing: a new stroke
    makes a new drawing, and undo brings an earlier one back."""

    drawing_key: str


@dataclass(frozen=True)
class Box:
    """Where something lies in a picture, in pixels; right and bottom are exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    def to_list(self) -> list[int]:
        """[left, top, right, bottom], as the HTTP API and `--json` give a box."""
        return [self.left, self.top, self.right, self.bottom]


@dataclass(frozen=True, eq=False)
class PlacedDigit(DigitReading):
    """One digit of a number, and where it was written."""

    box: Box

    def to_dict(self) -> dict:
        """The reading as JSON-ready values, with the box the digit was found in."""
        return {**super().to_dict(), "box": self.box.to_list()}


@dataclass(frozen=True)
class PlacedMark:
    """A point, comma or dash written between two digits of a number, or a minus sign before
    the first, and where."""

    symbol: MarkSymbol
    after: int  # how many pieces of `digits` come before it, withheld ones included
    box: Box

    def to_dict(self) -> dict:
        """The mark as JSON-ready values."""
        return {"mark": self.symbol, "after": self.after, "box": self.box.to_list()}


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class NumberReading:
    """A written number: its digits left to right, and the marks written with them (points,
    commas, dashes, a minus sign)."""

    digits: tuple[PlacedDigit, ...]
    marks: tuple[PlacedMark, ...] = ()
    lines: int = 1  # lines of writing one above another: a number is read from one line

    @property
    def several_lines(self) -> bool:
        """Whether the writing holds more than one line, so that the number read mixes
        digits of different lines: it is no answer, and no label should be saved with it."""
        return self.lines > 1

    @property
    def number(self) -> str:
        """The number read as written, left to right: its digits, WITHHELD ("?") for a piece
        whose digit is withheld (too small, or no digit), and its marks."""
        return self.spelled(
            [WITHHELD if digit.withheld else str(digit.digit) for digit in self.digits]
        )

    def spelled(self, digits: Sequence[str]) -> str:
        """These characters for the digits, left to right, with the marks where they were
        written."""
        if len(digits) != len(self.digits):
            raise ValueError(f"{len(self.digits)} digits to spell, not {len(digits)}")
        return "".join(
            "".join(mark.symbol for mark in self.marks if mark.after == position) + digit
            for position, digit in enumerate(digits)
        )

    @property
    def confidence(self) -> float | None:
        """The chance that every digit is right: the digits' confidences multiplied; None
        when a piece's digit is withheld, as the number read is then not all digits."""
        if any(digit.withheld for digit in self.digits):
            return None
        return math.prod(digit.confidence for digit in self.digits)

    def to_dict(self) -> dict:
        """The reading as JSON-ready values: what the HTTP API and `--json` answer."""
        return {
            "number": self.number,
            "confidence": self.confidence,
            "digits": [digit.to_dict() for digit in self.digits],
            "marks": [mark.to_dict() for mark in self.marks],
        }


def read_digits(
    classifier: Classifier,
    inks: Sequence[np.ndarray],
    memory: HandwritingMemory | None = None,
) -> list[DigitReading | None]:
    """Read many drawings of one digit each in one batched call; None for blank ink."""
    prepared = [prepare(ink) for ink in inks]
    drawn = [index for index, (image, _) in enumerate(prepared) if image is not None]
    readings: list[DigitReading | None] = [None] * len(prepared)
    if not drawn:
        return readings
    found = read_inputs(
        classifier,
        np.stack([prepared[index][0] for index in drawn]),
        memory,
        small=[prepared[index][1] for index in drawn],
    )
    for index, reading in zip(drawn, found):
        readings[index] = reading
    return readings


def read_inputs(
    classifier: Classifier,
    images: np.ndarray,
    memory: HandwritingMemory | None = None,
    small: Sequence[bool] | None = None,
) -> list[DigitReading]:
    """Read (N, 28, 28) inputs already in MNIST form (a data set's digits) in one batched call;
    `small` says which came from ink too small to read."""
    outputs = classifier.read_all(images)
    small = [False] * len(images) if small is None else small
    readings = [
        DigitReading(image, row, bool(verdict), bool(speck), doubtful=bool(doubt), features=looks)
        for image, row, verdict, doubt, looks, speck in zip(
            images,
            outputs.probabilities,
            outputs.is_digit,
            outputs.doubtful,
            outputs.features,
            small,
        )
    ]
    return readings if memory is None else [memory.recall(reading) for reading in readings]


def read_digit(
    classifier: Classifier, ink: np.ndarray, memory: HandwritingMemory | None = None
) -> DigitReading | None:
    """Read ink of any size (float in [0, 1] or uint8) as one digit; None when it is blank.

    With a memory, the person's examples that look like the drawing weigh in on the answer.
    """
    return read_digits(classifier, [ink], memory)[0]


def read_one_digit(
    classifier: Classifier,
    ink: np.ndarray,
    memory: HandwritingMemory | None = None,
    work: Work | None = None,
) -> OneDigitReading | None:
    """Read ink sent as one digit (`read_digit`), and say which number it reads as when it
    holds several digits side by side; None when it is blank. Ink past the limits of a
    number (`limits`) is refused, as it would be read as one."""
    reading = read_digit(classifier, ink, memory)
    if reading is None:
        return None
    number = number_instead(side_by_side_number(classifier, ink, work), reading)
    return OneDigitReading(**vars(reading), several_digits=number)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class SeenDrawing:
    """A canvas drawing as the network read it, before the person's examples weigh in: all
    the costly part of reading it, which a page can keep while the drawing stays the same."""

    reading: DigitReading  # read as one digit
    number: NumberReading | None  # read as digits side by side, when it has parts side by side
    drawing_key: str  # names the drawing (`drawing_key`)


def see_drawing(classifier: Classifier, rgba: np.ndarray) -> SeenDrawing | None:
    """Read a canvas image (RGBA, any colours) with the network alone; None when nothing is
    drawn. Ink past the limits of a number (`limits`) is refused, as it would be read as one."""
    ink = canvas_to_ink(rgba)
    reading = read_digit(classifier, ink)
    if reading is None:
        return None
    return SeenDrawing(reading, side_by_side_number(classifier, ink), drawing_key(ink))


def recall_drawing(
    seen: SeenDrawing | None, memory: HandwritingMemory | None = None
) -> DrawingReading | None:
    """A drawing seen, read with the person's examples that look like it, as `read_drawing`
    reads it; a millisecond's fraction."""
    if seen is None:
        return None
    reading = seen.reading if memory is None else memory.recall(seen.reading)
    return DrawingReading(
        **vars(reading),
        several_digits=number_instead(seen.number, reading),
        drawing_key=seen.drawing_key,
    )


def read_drawing(
    classifier: Classifier, rgba: np.ndarray | None, memory: HandwritingMemory | None = None
) -> DrawingReading | None:
    """Read a canvas image (RGBA, any colours) as one digit; None when nothing is drawn."""
    return None if rgba is None else recall_drawing(see_drawing(classifier, rgba), memory)


def drawing_key(ink: np.ndarray) -> str:
    """Names drawn ink: the same ink gives the same key, any other ink another.

    Keyed on the ink where it lies, not the 28x28 input: the same strokes drawn elsewhere in
    the box give the same input, but they are another drawing to label. Only the ink's box
    and where it lies are hashed, as all around it is blank: a third of hashing the canvas.
    """
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    digest = hashlib.blake2b(np.array(ink.shape, np.int64), digest_size=8)
    if rows.size:
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        digest.update(np.array([top, bottom, left, right], np.int64))
        digest.update(np.ascontiguousarray(ink[top:bottom, left:right]))
    return digest.hexdigest()


def side_by_side_number(
    classifier: Classifier, ink: np.ndarray, work: Work | None = None
) -> NumberReading | None:
    """The ink read as a number (`read_number`) when it has parts side by side
    (`layout.side_by_side`); None otherwise: one digit costs no model call more."""
    return read_number(classifier, ink, work) if layout.side_by_side(ink) else None


def number_instead(number: NumberReading | None, alone: DigitReading) -> str | None:
    """The number ink reads as (`side_by_side_number`), when it is two or more digits each
    read surely, and more surely than the ink read `alone` as one digit (a 0 drawn as two
    arcs reads 11, less surely than 0); None otherwise."""
    if number is None or number.several_lines or len(number.digits) < 2:
        return None
    unsure = (d.withheld or d.doubtful or d.confidence < UNSURE_BELOW for d in number.digits)
    if any(unsure) or number.confidence is None or number.confidence <= alone.confidence:
        return None
    return number.number


def read_number(
    classifier: Classifier, ink: np.ndarray, work: Work | None = None
) -> NumberReading | None:
    """Read every digit of a written number, with one batched model call, and the marks
    written with them (`segment.split_digits`), and how many lines of writing the ink holds
    (`layout.lines_of_writing`; a lone piece read surely as a digit is one line, however far
    apart its strokes lie); None for blank ink. A piece that is only a dot, a tap of the pen,
    is too small to read (`only_a_dot`). Ink past the limits (`limits`) is refused with
    `limits.TooMuchWriting` before the costly part; its work is counted in `work`."""
    pieces, marks = segment.split_digits(ink, classifier, work)
    if not pieces:
        return None
    ink = np.asarray(ink)
    side = min(ink.shape)  # a dot is judged against the line's room, as on the canvases
    digits = tuple(
        PlacedDigit(
            piece.image,
            piece.probabilities,
            bool(piece.is_digit),
            only_a_dot(ink[piece.top : piece.bottom, piece.left : piece.right], side),
            Box(piece.left, piece.top, piece.right, piece.bottom),
            doubtful=bool(piece.doubtful),
            features=piece.features,
        )
        for piece in pieces
    )
    first, *others = digits
    # A digit whose strokes came apart (a 3 in two halves) is one line when read surely.
    sure = not first.withheld and not first.doubtful and first.confidence >= UNSURE_BELOW
    return NumberReading(
        digits,
        tuple(
            PlacedMark(mark.symbol, mark.after, Box(mark.left, mark.top, mark.right, mark.bottom))
            for mark in marks
        ),
        1 if sure and not others else layout.lines_of_writing(ink),
    )


def recall_number(number: NumberReading, memory: HandwritingMemory) -> NumberReading:
    """The number with the person's examples weighed in on each digit, as on one digit (the
    split is the model's alone); unchanged when none look like its digits."""
    if not len(memory):
        return number
    return dataclasses.replace(number, digits=tuple(memory.recall(d) for d in number.digits))


def read_image_bytes(
    classifier: Classifier, data: bytes | bytearray, mode: Mode = "digit"
) -> OneDigitReading | NumberReading | None:
    """Read a PNG, JPEG or WebP (a canvas export or a photo of paper) as a digit or a number.

    The picture is opened as a photo upload is (`photo.read_upload`: checked before decoding,
    turned upright); boxes are in the pixels of the upright picture as sent. None when no
    handwriting is found; photo.PhotoError, with a message for the sender, when the bytes
    are not a usable picture or hold more writing than one reading takes on (`limits`).
    """
    return read_photo(classifier, photo.read_upload(data), mode)


def read_photo(
    classifier: Classifier, picture: photo.Photo, mode: Mode = "digit", work: Work | None = None
) -> OneDigitReading | NumberReading | None:
    """Read an opened picture (`photo.read_upload`) as `read_image_bytes` reads its bytes,
    its work counted in `work`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "digit":
        return read_one_digit(classifier, picture.ink, work=work)
    reading = read_number(classifier, picture.ink, work)
    if reading is None or picture.scale == 1.0:
        return reading
    return dataclasses.replace(
        reading,
        digits=tuple(
            dataclasses.replace(digit, box=_unscaled(digit.box, picture.scale))
            for digit in reading.digits
        ),
        marks=tuple(
            dataclasses.replace(mark, box=_unscaled(mark.box, picture.scale))
            for mark in reading.marks
        ),
    )


def _unscaled(box: Box, scale: float) -> Box:
    """A box on the working-size picture, in the pixels of the picture as sent."""
    return Box(
        math.floor(box.left / scale),
        math.floor(box.top / scale),
        math.ceil(box.right / scale),
        math.ceil(box.bottom / scale),
    )
