"""A number: a wide canvas whose digits are read together, and the answer shown under a
number written there or photographed."""

from __future__ import annotations

import numpy as np
import streamlit as st

import digit_model
from preprocess import FIELD, canvas_to_ink, enlarge, png_data_url
from reading import (
    MAY_NOT_BE_A_DIGIT,
    UNSURE_BELOW,
    WITHHELD,
    NumberReading,
    read_number,
    recall_number,
)
from reading.limits import TooMuchWriting
from tabs.draw.feedback_row import number_feedback, number_saved
from tabs.draw.shared import (
    BLANK,
    CONFIDENCE,
    PREDICTION,
    LastRead,
    NumberArea,
    a_digit,
    and_list,
    backed_by_own_label,
    canvas_picture,
    canvas_png,
    drawing_canvas,
    drawing_read_by,
    examples_line,
    handwriting_memory,
    ordinal,
    pieces_against_said,
    read_as,
    unreadable,
)
from tabs.draw.why import why_section

NUMBER_CANVAS_KEY = "number_canvas"
LAST_NUMBER = LastRead[NumberReading]("number_last_drawing")  # what the network read on it
# What a screen reader calls the wide canvas's drawing surface.
NUMBER_CANVAS_NAME = "Wide canvas: write a number here, digits side by side"
NUMBER_CANVAS_WIDTH = 700  # px; fills the page on a desktop and scrolls sideways on a phone
PAGE_SIDE_PADDING = 16  # px: Streamlit's 1rem each side of the page's column on a narrow window
# A window narrower than this (px) has a column narrower than that canvas.
NARROW_PAGE = NUMBER_CANVAS_WIDTH + 2 * PAGE_SIDE_PADDING
NUMBER_HINT_KEY = "number_hint"  # the hint shown before a number is written
NUMBER_HINT = (
    "Write a number in the wide box, digits side by side with a little space between them; "
    "a minus sign and a decimal point or comma are read too."
)
# Said under it only where the strip shows: where the page is narrower than the box.
STRIP_HINT = "Swipe along the shaded strip under the box to reach the rest of it."
DIGIT_PREVIEW_SCALE = 4  # each digit of a number is shown 112 px square, side by side...
DIGIT_PREVIEW_SIDE = FIELD * DIGIT_PREVIEW_SCALE
DIGIT_GAP = 4  # ...in a margin of this many white pixels, so that neighbours stand apart
LETTERS_NOT_READ = "Several pieces look like no digit: letters and words are not read, only digits."


def number_examples_said(reading: NumberReading) -> str:
    """What the person's examples did to a number's digits: backed them, made them less sure."""
    pieces = len(reading.digits)
    saved = number_saved(reading)
    labels = saved or (None,) * pieces
    backed = [position for position, digit in enumerate(reading.digits, 1) if digit.examples]
    own = sum(backed_by_own_label(digit, label) for digit, label in zip(reading.digits, labels))
    examples = "your examples" if own < len(backed) else "your labels" if own > 1 else "your label"
    said = []
    if len(backed) == pieces:
        said.append(f"Read with {examples}.")
    elif backed:
        # Named, not counted: "1 of its 2 digits" leaves the person guessing which one.
        which = and_list([ordinal(position) for position in backed])
        digits = "digit" if len(backed) == 1 else "digits"
        said.append(f"The {which} {digits} read with {examples}.")
    # Once the number is saved its own digits are among the examples: "Saved as" says so.
    against = [
        (position, digit.examples_against)
        for position, digit in enumerate(reading.digits, start=1)
        if digit.examples_against and not digit.examples
    ]
    if against and saved is None:
        said.append(pieces_against_said(against))
    return " ".join(said)


def number_answer(
    classifier: digit_model.Classifier, reading: NumberReading, area: NumberArea
) -> None:
    """The number read and how sure the model is of all of it; what to try when it is in
    doubt, a row to confirm or correct it, and what the person's examples did to it; for a
    number written on the canvas or photographed, each with widgets of its own."""
    photo = area == "photo"
    if reading.several_lines:
        st.warning(several_lines_said(reading.lines, photo), icon="↕️")
        return
    verdicts = [unreadable(digit) for digit in reading.digits]
    with st.container(horizontal=True):  # side by side on a phone too, unless it is too long
        st.metric(PREDICTION, reading.number)
        st.metric(
            CONFIDENCE,
            BLANK if reading.confidence is None else f"{reading.confidence:.0%}",
            help="How sure the model is of every digit at once: their confidences multiplied.",
        )
    doubts = []
    alone = len(reading.digits) == 1  # "piece 1" means nothing when there is no piece 2
    for position, (digit, verdict) in enumerate(zip(reading.digits, verdicts), start=1):
        piece = ("the writing" if photo else "the drawing") if alone else f"piece {position}"
        if verdict is not None:
            doubts.append(f"{piece} (**{WITHHELD}**) is {verdict[0].lower()}")
        elif digit.doubtful:
            doubts.append(f"{piece} (**{digit.digit}**) {MAY_NOT_BE_A_DIGIT}")
        elif digit.confidence < UNSURE_BELOW:
            first, second = digit.top_two
            doubts.append(
                f"{'it' if alone else f'digit {position}'} may be {a_digit(first, bold=True)} "
                f"({digit.probabilities[first]:.0%}) "
                f"or {a_digit(second, bold=True)} ({digit.probabilities[second]:.0%})"
            )
    if doubts:
        # Larger only helps a piece too small to read: a scribble may fill the canvas.
        larger = any(digit.withheld == "too small" for digit in reading.digits)
        if sum(digit.withheld == "not a digit" for digit in reading.digits) >= 2:
            # Letters or words, not a number badly written: a better photo would not help.
            retry = LETTERS_NOT_READ
        elif photo:
            retry = (
                "Try another photo: upright, in focus, of the paper alone"
                f"{', taken closer' if larger else ''}, "
                "the digits standing out clearly and a little apart."
            )
        else:
            how = "larger and clearer" if larger else "more clearly"
            retry = (
                f"Try writing it {how}."
                if alone
                else f"Try writing the number {how}, with a little space between the digits."
            )
        st.warning(f"Not sure: {'; '.join(doubts)}. {retry}", icon="🤔")
    # The row to confirm or correct it under the answer and any doubt, as under one digit's:
    # on a laptop's screen it shows with the number, the digits' inputs below it.
    number_feedback(reading, area)
    # Under the field, not above it: a save brings this line, and would push the field down.
    if said := number_examples_said(reading):
        with st.container(horizontal=True, vertical_alignment="center"):
            examples_line(said, f"forget_{area}")


def number_inputs(
    classifier: digit_model.Classifier, reading: NumberReading, area: NumberArea
) -> None:
    """Each digit's 28x28 input with its answer and confidence, and why the model read it
    so: under the answer, or on a phone under the photo read."""
    if reading.several_lines:
        return
    verdicts = [unreadable(digit) for digit in reading.digits]
    st.image(
        [
            png_data_url(
                np.pad(enlarge(digit.image, DIGIT_PREVIEW_SIDE), DIGIT_GAP, constant_values=1.0)
            )
            for digit in reading.digits
        ],
        caption=[
            verdict[0] if verdict else f"{digit.digit} · {digit.confidence:.0%}"
            for digit, verdict in zip(reading.digits, verdicts)
        ],
        alt=[read_as(digit) for digit in reading.digits],
    )
    st.caption("What the model sees: each digit's 28x28 input, with its answer and confidence.")
    why_section(classifier, list(reading.digits), key=f"why_{area}", scale=DIGIT_PREVIEW_SCALE)


def several_lines_said(lines: int, photo: bool) -> str:
    """What to do with writing of several lines, one above another: a number is one line."""
    if photo:
        return (
            f"This picture holds {lines} lines of writing, one above another, and a number is "
            "read from one line: with the paper upright, crop the picture to one line, or "
            "photograph each line on its own."
        )
    return (
        f"This looks like {lines} lines of writing, and a number is read from one line: "
        "write it on one line, or clear the canvas before the next."
    )


@st.fragment
def number_section(classifier: digit_model.Classifier, brush: int) -> None:
    """A wide canvas for a number; a stroke reads all its digits in one batched call and
    re-runs only this fragment."""
    drawing = drawing_canvas(NUMBER_CANVAS_WIDTH, brush, NUMBER_CANVAS_KEY)
    png = canvas_png(drawing)
    drawn = drawing_read_by(classifier, png)
    reading = LAST_NUMBER.get(drawn)
    if reading is None:
        rgba = canvas_picture(png, NUMBER_CANVAS_WIDTH)
        try:
            reading = None if rgba is None else read_number(classifier, canvas_to_ink(rgba))
        except TooMuchWriting as refused:
            st.warning(str(refused), icon="✋")
            return
        LAST_NUMBER.keep(drawn, reading)
    if reading is None:
        with st.container(key=NUMBER_HINT_KEY):
            st.info(f"{NUMBER_HINT}\n\n{STRIP_HINT}", icon="✏️")
    else:
        remembered = recall_number(reading, handwriting_memory(classifier))
        number_answer(classifier, remembered, "number")
        number_inputs(classifier, remembered, "number")
