"""What the Draw tab's modes share: their names, the answer's words, the person's examples,
the canvas, and the visit's settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import streamlit as st

from preprocess import CANVAS_SIZE
from reading import DigitReading, HandwritingMemory, Withheld

if TYPE_CHECKING:
    from streamlit_drawable_canvas import CanvasResult

ONE_DIGIT, A_NUMBER, A_PHOTO = "One digit", "A number", "A photo"
NumberArea = Literal["number", "photo"]  # where a number is read: on the wide canvas, or a photo
BLANK = "—"  # the answer's metrics before anything is drawn
PREDICTION, CONFIDENCE = "Prediction", "Confidence"  # the answer's metrics, by label
TOO_SMALL, TOO_SMALL_HINT = "Too small", "Too small — draw the digit larger."
NOT_A_DIGIT, NOT_A_DIGIT_HINT = "Not a digit", "That doesn't look like a digit."
WITHHELD_WORDS: dict[Withheld, tuple[str, str]] = {  # why a digit is withheld, short and in full
    "too small": (TOO_SMALL, TOO_SMALL_HINT),
    "not a digit": (NOT_A_DIGIT, NOT_A_DIGIT_HINT),
}
CLEAR_TEXT = "Clear"  # the canvas control that empties the canvas, and with it the answer
SURFACE = "canvas.upper-canvas"  # a canvas's drawing surface: Fabric's top layer
FORGET_TEXT = "Forget them"
FORGET_HELP = "Read your next drawings with the model alone. Your saved labels stay saved."
MEMORY_KEY = "handwriting_memory"  # the visit's examples of the person's handwriting


def a_digit(digit: int, bold: bool = False) -> str:
    """A digit with its article, as said aloud: "a 3", but "an 8"."""
    shown = f"**{digit}**" if bold else str(digit)
    return f"{'an' if digit == 8 else 'a'} {shown}"


def and_list(words: Sequence[str]) -> str:
    """Words joined as a sentence lists them: "a 1, a 4 and an 8"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def ordinal(position: int) -> str:
    """A position as a person counts it: 1st, 2nd, 3rd, 4th, ..., 11th, ..., 21st."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(position % 10, "th")
    return f"{position}{'th' if position % 100 in (11, 12, 13) else suffix}"


def read_as(reading: DigitReading) -> str:
    """What a screen reader says of a 28x28 input shown: what it was read as."""
    return f"The 28x28 input, read as {reading.withheld or reading.digit}"


def unreadable(reading: DigitReading) -> tuple[str, str] | None:
    """Why a drawing is not read as a digit, short and in full; None when it is read."""
    return None if reading.withheld is None else WITHHELD_WORDS[reading.withheld]


def handwriting_memory() -> HandwritingMemory:
    """This visit's examples of the person's handwriting: in the session only, never stored."""
    return st.session_state.setdefault(MEMORY_KEY, HandwritingMemory())


def backed_by_own_label(reading: DigitReading, label: int | None) -> bool:
    """Whether the one example that backs this reading is its own label: the drawing itself,
    kept as the digit read."""
    return (
        reading.examples == 1
        and label == reading.digit
        and handwriting_memory().holds(reading, label)
    )


def examples_named(digits: tuple[int, ...]) -> str:
    """The person's examples, named by their digits: "2 of your examples of a 1"."""
    named = [a_digit(digit) for digit in sorted(set(digits))]
    if len(named) > 1:
        return f"your examples of {and_list(named)}"
    if len(digits) == 1:
        return f"your example of {named[0]}"
    return f"{len(digits)} of your examples of {named[0]}"


def examples_against_said(digits: tuple[int, ...]) -> str:
    """Why the answer is less sure: examples of other digits (theirs, by digit) look like it."""
    return f"Less sure: it looks like {examples_named(digits)}."


def pieces_against_said(against: Sequence[tuple[int, tuple[int, ...]]]) -> str:
    """Which of a number's digits (position, counted from 1) look like which examples."""
    (first, first_digits), *rest = against
    said = [f"the {ordinal(first)} digit looks like {examples_named(first_digits)}"]
    said += [f"the {ordinal(position)} like {examples_named(digits)}" for position, digits in rest]
    return f"Less sure: {and_list(said)}."


def examples_line(said: str, key: str) -> None:
    """What the person's examples did to the answer, and a click to forget them all."""
    st.caption(said)
    st.button(
        FORGET_TEXT,
        key=key,
        type="tertiary",
        on_click=handwriting_memory().forget,
        help=FORGET_HELP,
    )


def remember(setting: str, widget_key: str) -> None:
    """Keep a widget's new value as the visit's setting, for when the widget is built anew."""
    st.session_state[setting] = st.session_state[widget_key]


def drawing_canvas(width: int, brush: int, key: str) -> CanvasResult:
    """A freedraw canvas that sends its image to the server on every stroke."""
    # Imported here: the component registers itself with the running server on import, which
    # fails outside one, and the rest of this package is used by tests and benchmarks too.
    from streamlit_drawable_canvas import st_canvas

    return st_canvas(
        stroke_width=brush,
        stroke_color="#000000",
        background_color="#ffffff",
        height=CANVAS_SIZE,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=key,
    )
