"""What a label is, and the limits of what is stored with one: each field checked before it
reaches the database, so that a bad value is a FeedbackError saying what is wrong.

The 28x28 input is kept as 784 bytes (uint8, row-major, 0 = no ink, 255 = full ink, as
in MNIST) and the canvas strokes (`json_data`) as JSON text, so a drawing can be
re-rendered later. A drawing's id is a hash of its content, so a drawing saved twice
(a double click, two tabs, a retry) is stored once.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from preprocess import FIELD

IMAGE_SHAPE = (FIELD, FIELD)
MAX_STROKES = 200  # strokes kept per drawing: a digit takes a handful, a long number dozens
MAX_STROKES_BYTES = 512 * 1024  # a messy digit's strokes take tens of kB
MAX_SESSION_ID_LENGTH = 64


class FeedbackError(ValueError):
    """A label that cannot be stored as given; the message says what is wrong."""


@dataclass(frozen=True, eq=False)
class LabelledDrawing:
    """The digit a person meant for one drawing, with what the model answered."""

    session_id: str
    predicted_digit: int
    confidence: float
    true_digit: int
    image: np.ndarray  # the (28, 28) model input: float in [0, 1] or uint8 0..255
    strokes: Mapping | None = None  # the canvas's json_data
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    refused: bool = False  # the page answered with no digit, only `predicted_digit` leaned to


def validate_digit(value: object, what: str) -> int:
    """A digit 0-9 as int; anything else (10, -1, "3", None, True) is a FeedbackError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= 9:
        raise FeedbackError(f"The {what} must be a whole number from 0 to 9, got {value!r}.")
    return int(value)


def validate_flag(value: object, what: str) -> bool:
    """A bool (numpy's too); anything else is a FeedbackError."""
    if not isinstance(value, bool | np.bool_):
        raise FeedbackError(f"{what} must be True or False, got {value!r}.")
    return bool(value)


def validate_confidence(value: object) -> float:
    """A probability in [0, 1] as float."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise FeedbackError(f"The confidence must be a number from 0 to 1, got {value!r}.")
    return float(value)


def validate_session_id(value: object) -> str:
    """A non-empty session id of at most MAX_SESSION_ID_LENGTH printable characters."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SESSION_ID_LENGTH:
        shown = f"{len(value)} characters" if isinstance(value, str) else repr(value)
        raise FeedbackError(
            f"The session id must be text of 1 to {MAX_SESSION_ID_LENGTH} characters, got {shown}."
        )
    if not value.isprintable():  # NUL bytes, control characters, lone surrogates
        raise FeedbackError("The session id must hold printable characters only.")
    return value


def validate_image(image: object) -> bytes:
    """The 28x28 input as 784 uint8 bytes; floats must lie in [0, 1]."""
    shape = getattr(image, "shape", None)
    if not isinstance(image, np.ndarray) or image.shape != IMAGE_SHAPE:
        raise FeedbackError(f"The drawing's input must be a 28x28 array, got shape {shape}.")
    if image.dtype == np.uint8:
        return image.tobytes()
    if not np.issubdtype(image.dtype, np.floating):
        raise FeedbackError(
            f"The drawing's input must be float in [0, 1] or uint8, got dtype {image.dtype}."
        )
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise FeedbackError("The drawing's input must hold values from 0 to 1.")
    return np.rint(image * 255).astype(np.uint8).tobytes()


def validate_strokes(strokes: object) -> str | None:
    """The canvas's json_data as compact JSON text of at most MAX_STROKES_BYTES, or None."""
    if strokes is None:
        return None
    if not isinstance(strokes, Mapping):
        raise FeedbackError(
            f"The strokes must be the canvas's json_data (a dict), got {type(strokes).__name__}."
        )
    if too_many_strokes(strokes):
        raise FeedbackError(too_many_strokes_message(len(strokes["objects"])))
    try:
        text = json.dumps(strokes, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except RecursionError as error:
        raise FeedbackError("The strokes are nested too deeply to be a drawing.") from error
    except (TypeError, ValueError) as error:
        raise FeedbackError(f"The strokes cannot be stored as JSON: {error}.") from error
    size = len(text.encode())
    if size > MAX_STROKES_BYTES:
        raise FeedbackError(
            f"The drawing's strokes take {size / 1024:,.0f} kB, more than the "
            f"{MAX_STROKES_BYTES // 1024} kB kept per drawing; clear the canvas and draw "
            "the digit again with fewer strokes."
        )
    return text


def too_many_strokes(strokes: Mapping | None) -> bool:
    """Whether the canvas's json_data holds more than MAX_STROKES strokes."""
    objects = strokes.get("objects") if isinstance(strokes, Mapping) else None
    return isinstance(objects, list) and len(objects) > MAX_STROKES


def too_many_strokes_message(count: int) -> str:
    """What to tell a person whose drawing has more strokes than are kept."""
    return (
        f"This drawing has {count:,} strokes, more than the {MAX_STROKES} kept per drawing. "
        "Clear the canvas and draw again."
    )


def validate_label(label: LabelledDrawing) -> dict:
    """Check every field of a label and return the row to store, drawing id included."""
    if not isinstance(label, LabelledDrawing):
        raise FeedbackError(f"Expected a LabelledDrawing, got {type(label).__name__}.")
    created_at = label.created_at
    if not isinstance(created_at, datetime) or created_at.tzinfo is None:
        raise FeedbackError(
            f"The label's time must be a timezone-aware datetime, got {created_at!r}."
        )
    row = {
        "session_id": validate_session_id(label.session_id),
        "predicted_digit": validate_digit(label.predicted_digit, "predicted digit"),
        "confidence": validate_confidence(label.confidence),
        "true_digit": validate_digit(label.true_digit, "true digit"),
        "refused": validate_flag(label.refused, "refused"),
        "image": validate_image(label.image),
        "strokes": validate_strokes(label.strokes),
        "created_at": created_at.astimezone(UTC),
    }
    row["drawing_id"] = drawing_id(row["session_id"], row["image"], row["strokes"])
    return row


def drawing_id(session_id: str, image: bytes, strokes: str | None) -> str:
    """A drawing's id: a hash of whose it is, its 784-byte input and its strokes' JSON text, so
    that the same drawing labelled again by the same visitor has the same id."""
    content = hashlib.sha256()
    for part in (session_id.encode(), image, (strokes or "").encode()):
        content.update(len(part).to_bytes(8, "big") + part)
    return content.hexdigest()
