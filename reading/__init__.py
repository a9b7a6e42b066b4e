"""Handwriting in, typed readings out: one digit, a whole number, or the bytes of a picture.

The one reading pipeline of the project, used by the page, the HTTP API, the command line,
the benchmarks, the tests and `train_model.py evaluate`. Ink is brought into MNIST form by
`preprocess.prepare`, a number is split into its digits by `segment`, a picture is opened
safely by `photo`, and the model reads every input of a drawing in one batched call.
No Streamlit here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from digit_model import Classifier
from preprocess import canvas_to_ink, prepare, too_small
from reading import photo, segment

Mode = Literal["digit", "number"]
MODES: tuple[Mode, ...] = ("digit", "number")
DOUBT_BELOW = 0.9  # a "not a digit" verdict less sure than this still offers the digit read


@dataclass(frozen=True)
class DigitReading:
    """What the model made of one digit: its 28x28 input, ten calibrated probabilities and
    whether the ink is a digit at all."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST form
    probabilities: np.ndarray  # (10,) calibrated, summing to 1
    is_digit: bool  # False: the model takes the drawing for something other than a digit
    too_small: bool  # the ink is only a dot or a speck, too small to read
    # Not a digit by the verdict, but not firmly: the page still offers the digit read.
    doubtful: bool = dataclasses.field(default=False, kw_only=True)

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def top_two(self) -> tuple[int, int]:
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


@dataclass(frozen=True)
class DrawingReading(DigitReading):
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


@dataclass(frozen=True)
class PlacedDigit(DigitReading):
    """One digit of a number, and where it was written."""

    box: Box

    def to_dict(self) -> dict:
        box = [self.box.left, self.box.top, self.box.right, self.box.bottom]
        return {**super().to_dict(), "box": box}


@dataclass(frozen=True)
class NumberReading:
    """A written number: its digits left to right."""

    digits: tuple[PlacedDigit, ...]

    @property
    def number(self) -> str:
        return "".join(str(digit.digit) for digit in self.digits)

    @property
    def confidence(self) -> float:
        """The chance that every digit is right: the digits' confidences multiplied."""
        return math.prod(digit.confidence for digit in self.digits)

    def to_dict(self) -> dict:
        """The reading as JSON-ready values: what the HTTP API and `--json` answer."""
        return {
            "number": self.number,
            "confidence": self.confidence,
            "digits": [digit.to_dict() for digit in self.digits],
        }


def read_digits(classifier: Classifier, inks: Sequence[np.ndarray]) -> list[DigitReading | None]:
    """Read many drawings of one digit each in one batched call; None for blank ink."""
    prepared = [prepare(ink) for ink in inks]
    drawn = [index for index, (image, _) in enumerate(prepared) if image is not None]
    readings: list[DigitReading | None] = [None] * len(prepared)
    if not drawn:
        return readings
    probabilities, not_digit = classifier.verdicts(np.stack([prepared[i][0] for i in drawn]))
    for index, row, chance in zip(drawn, probabilities, not_digit):
        image, is_dot = prepared[index]
        readings[index] = DigitReading(
            image, row, bool(chance < 0.5), is_dot, doubtful=bool(0.5 <= chance < DOUBT_BELOW)
        )
    return readings


def read_digit(classifier: Classifier, ink: np.ndarray) -> DigitReading | None:
    """Read ink of any size (float in [0, 1] or uint8) as one digit; None when it is blank."""
    return read_digits(classifier, [ink])[0]


def read_drawing(classifier: Classifier, rgba: np.ndarray | None) -> DrawingReading | None:
    """Read a canvas image (RGBA, any colours) as one digit; None when nothing is drawn."""
    if rgba is None:
        return None
    reading = read_digit(classifier, canvas_to_ink(rgba))
    if reading is None:
        return None
    # Keyed on the canvas, not the 28x28 input: the same strokes drawn elsewhere in the box
    # give the same input, but they are another drawing to label.
    key = hashlib.blake2b(np.ascontiguousarray(rgba), digest_size=8).hexdigest()
    return DrawingReading(**vars(reading), drawing_key=key)


def read_number(classifier: Classifier, ink: np.ndarray) -> NumberReading | None:
    """Read every digit of a written number, with one batched model call; None for blank ink."""
    pieces = segment.split_digits(ink, classifier)
    if not pieces:
        return None
    ink = np.asarray(ink)
    return NumberReading(
        tuple(
            PlacedDigit(
                piece.image,
                piece.probabilities,
                bool(piece.is_digit),
                bool(too_small(ink[piece.top : piece.bottom, piece.left : piece.right])),
                Box(piece.left, piece.top, piece.right, piece.bottom),
            )
            for piece in pieces
        )
    )


def read_image_bytes(
    classifier: Classifier, data: bytes, mode: Mode = "digit"
) -> DigitReading | NumberReading | None:
    """Read a PNG, JPEG or WebP (a canvas export or a photo of paper) as a digit or a number.

    The picture is opened as a photo upload is (`photo.read_upload`: checked before decoding,
    turned upright); boxes are in the pixels of the upright picture as sent. None when no
    handwriting is found; photo.PhotoError, with a message for the sender, when the bytes
    are not a usable picture.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    picture = photo.read_upload(data)
    if mode == "digit":
        return read_digit(classifier, picture.ink)
    reading = read_number(classifier, picture.ink)
    if reading is None or picture.scale == 1.0:
        return reading
    return NumberReading(
        tuple(
            dataclasses.replace(digit, box=_unscaled(digit.box, picture.scale))
            for digit in reading.digits
        )
    )


def _unscaled(box: Box, scale: float) -> Box:
    """A box on the working-size picture, in the pixels of the picture as sent."""
    return Box(
        math.floor(box.left / scale),
        math.floor(box.top / scale),
        math.ceil(box.right / scale),
        math.ceil(box.bottom / scale),
    )
