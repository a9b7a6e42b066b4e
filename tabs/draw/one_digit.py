"""One digit: a square canvas, read on every stroke, beside its answer, how sure the model is,
the ten probabilities and what the model sees."""

from __future__ import annotations

import numpy as np
import streamlit as st

import digit_model
from feedback.database import StorageUnavailable
from feedback.labels import FeedbackError
from preprocess import CANVAS_SIZE, FIELD, png_data_url
from reading import (
    UNSURE_BELOW,
    DigitReading,
    DrawingReading,
    SeenDrawing,
    recall_drawing,
    see_drawing,
)
from reading.limits import TooMuchWriting
from tabs import charts
from tabs.common import open_feedback_store, session_id
from tabs.draw.feedback_row import feedback_row
from tabs.draw.shared import (
    A_NUMBER,
    BLANK,
    CONFIDENCE,
    PREDICTION,
    SAVED_KEY,
    LastRead,
    a_digit,
    backed_by_own_label,
    canvas_picture,
    canvas_png,
    drawing_canvas,
    drawing_read_by,
    examples_against_said,
    examples_line,
    handwriting_memory,
    read_as,
    unreadable,
)
from tabs.draw.why import why_section

CANVAS_KEY = "digit_canvas"
# What a screen reader calls the canvas's drawing surface.
CANVAS_NAME = "Canvas: draw one digit here with the mouse, a finger or a pen"
PREVIEW_SCALE = 6  # each of the 28x28 input pixels becomes a crisp 6x6 block
PREVIEW_SIDE = FIELD * PREVIEW_SCALE
PREVIEW_KEY = "model_view"  # the box of the model's view, enlarged by the page's style
PROBABILITY_CHART_KEY = "probability_chart"
DRAW_HINT = "Draw a digit from 0 to 9 in the box. The answer appears as soon as you lift the pen."
DOUBTFUL_HINT = "Not sure this is a digit at all."
SEVERAL_DIGITS = (
    "This looks like more than one digit: **{number}**. "
    f"To read a whole number, choose **{A_NUMBER}** above."
)
MAYBE_NO_DIGIT = "maybe no digit"  # under the digit read, when the verdict doubts it...
IF_A_DIGIT = "if it is a digit"  # ...and under its confidence, which assumes it is one
RECONNECTED = (
    "Reconnected: the server you were on went away and another one took over. Your drawing "
    "was read again, and the labels you saved are kept."
)
CANVAS_SEEN_KEY = "canvas_seen"  # the drawing fragment has run in this session
LAST_DRAWING = LastRead[SeenDrawing]("digit_last_drawing")  # what the network saw in it
# Keyed boxes that hold their height whether or not anything shows in them, so that a stroke
# never moves what lies below: the answer with or without its word of doubt, the hint or a
# warning under it, and the line about your examples.
METRICS_SLOT, MESSAGE_SLOT = "answer_metrics", "answer_message"
MEMORY_SLOT = "memory_line"


def took_over(reading: DrawingReading | None, strokes: dict | None) -> None:
    """On a session's first run, a drawing already on the canvas means the browser reconnected
    to a server that had never seen it (the one it was on went away): say so, and look up
    once whether the drawing was saved there, so that the row shows it saved."""
    if CANVAS_SEEN_KEY in st.session_state:
        return
    if reading is not None:
        # A rerun asked for meanwhile stops the run inside st.toast, before the toast is sent:
        # the session is marked as seen only once it is, so that the next run says it.
        st.toast(RECONNECTED, icon=":material/sync:")
    st.session_state[CANVAS_SEEN_KEY] = True
    if reading is None:
        return
    try:
        digit = open_feedback_store().saved_digit(session_id(), reading.image, strokes)
    except (StorageUnavailable, FeedbackError):
        return  # saving it again is still stored once
    if digit is not None:
        st.session_state.setdefault(SAVED_KEY, {})[reading.drawing_key] = digit


def memory_line(reading: DigitReading | None, meant: int | None) -> None:
    """Say when the person's examples changed, backed or doubted the answer, with a click to
    forget them. Once the drawing is labelled (`meant`), its own label is one of them: the
    only one, it is called their label; a doubt it brings is said by "you meant" already."""
    with st.container(key=MEMORY_SLOT, horizontal=True, vertical_alignment="center"):
        if reading is not None and reading.examples:
            said = f"Read with {reading.examples} of your examples."
            examples_line(
                "Read with your label." if backed_by_own_label(reading, meant) else said,
                "forget_examples",
            )
        elif reading is not None and reading.examples_against and meant is None:
            examples_line(examples_against_said(reading.examples_against), "forget_examples")
        else:
            st.empty()  # an empty box is not drawn at all; this keeps it, and its height


def answer_doubt(reading: DrawingReading) -> str | None:
    """A few words under the answer when the drawing looks like a number, or the model doubts
    the digit it read, so that it shows beside the answer even where the message that
    explains it is out of sight."""
    if reading.several_digits is not None:
        return f"or {reading.several_digits}?"
    if reading.withheld is not None:
        return None
    if reading.doubtful:
        return MAYBE_NO_DIGIT
    if reading.confidence < UNSURE_BELOW:
        return f"or {a_digit(reading.top_two[1])}?"
    return None


def answer_section(reading: DrawingReading | None, strokes: dict | None = None) -> None:
    """The answer and its confidence, the feedback row, the ten probabilities, the model's view.

    All of it is on the page, blank, before the first stroke: a stroke fills in what is there
    instead of adding it, so the first answer shows as quickly as the rest and nothing jumps.
    """
    verdict = None if reading is None else unreadable(reading)
    # Once labelled, the person has said what it is: no doubt or advice to pick one any more,
    # and the digit meant under the answer, where the answer is another.
    meant = (
        None if reading is None else st.session_state.get(SAVED_KEY, {}).get(reading.drawing_key)
    )
    labelled = meant is not None
    with st.container(horizontal=True, key=METRICS_SLOT):
        if reading is None:
            st.metric(PREDICTION, BLANK)
            st.metric(CONFIDENCE, BLANK)
        else:
            answer = reading.digit if verdict is None else verdict[0]
            confidence = f"{reading.confidence:.0%}" if verdict is None else BLANK
            if labelled:
                told = None if meant == answer else f"you meant {a_digit(meant)}"
                st.metric(PREDICTION, answer, told, "blue", delta_arrow="off")
                st.metric(CONFIDENCE, confidence)
            else:
                doubt = answer_doubt(reading)
                assumed = IF_A_DIGIT if doubt == MAYBE_NO_DIGIT else None
                st.metric(PREDICTION, answer, doubt, "orange", delta_arrow="off")
                st.metric(CONFIDENCE, confidence, assumed, "gray", delta_arrow="off")
    with st.container(key=MESSAGE_SLOT):
        if reading is None:
            st.caption(DRAW_HINT)
        elif labelled:
            st.empty()
        elif reading.several_digits is not None:
            st.info(SEVERAL_DIGITS.format(number=reading.several_digits), icon="🔢")
        elif verdict is not None:
            st.warning(
                f"{verdict[1]} If it is a digit, pick the one you meant; the chart shows "
                "what the model made of it.",
                icon="🔍",
            )
        elif reading.doubtful:
            st.warning(
                f"{DOUBTFUL_HINT} If it is one, it looks most like "
                f"{a_digit(reading.digit, bold=True)}: confirm it, or pick the digit you meant.",
                icon="🤔",
            )
        elif reading.confidence < UNSURE_BELOW:
            first, second = reading.top_two
            st.warning(
                f"Not sure: this looks like {a_digit(first, bold=True)} "
                f"({reading.probabilities[first]:.0%}) "
                f"or {a_digit(second, bold=True)} ({reading.probabilities[second]:.0%}). "
                "Draw it again more clearly, or pick the digit you meant.",
                icon="🤔",
            )
        else:
            st.empty()
    memory_line(reading, meant)
    feedback_row(reading, strokes, CANVAS_KEY)
    probabilities = np.zeros(10) if reading is None else reading.probabilities
    with st.container(key=PROBABILITY_CHART_KEY):
        st.html(charts.probability_bars(probabilities))
    # The 28x28 input itself, a few hundred bytes, which the page enlarges in crisp blocks.
    view = np.zeros((FIELD, FIELD)) if reading is None else reading.image
    with st.container(key=PREVIEW_KEY):
        st.image(
            png_data_url(view),
            caption="What the model sees: the 28x28 input, centred like MNIST",
            width=PREVIEW_SIDE,
            alt="" if reading is None else read_as(reading),
        )


@st.fragment
def drawing_section(classifier: digit_model.Classifier, brush: int) -> None:
    """Canvas and answer side by side, or one above the other on a phone; a stroke re-runs
    only this fragment, not the rest of the page."""
    canvas_column, answer_column = st.columns(2, gap="medium")
    with canvas_column:
        drawing = drawing_canvas(CANVAS_SIZE, brush, CANVAS_KEY)
        png = canvas_png(drawing)
        drawn = drawing_read_by(classifier, png)
        seen = LAST_DRAWING.get(drawn)
        # Decoded here, under the canvas, where a picture refused is said; a drawing seen is not.
        rgba = canvas_picture(png, CANVAS_SIZE) if seen is None else None
    with answer_column:
        try:
            if seen is None and rgba is not None:
                seen = see_drawing(classifier, rgba)
                LAST_DRAWING.keep(drawn, seen)
            pictured = seen is not None or rgba is not None
            reading = recall_drawing(seen, handwriting_memory(classifier) if pictured else None)
        except TooMuchWriting as refused:
            st.warning(str(refused), icon="✋")
            reading = None  # the answer's places stay, empty
        took_over(reading, drawing.json_data)
        answer_section(reading, drawing.json_data)
        why_section(
            classifier, [] if reading is None else [reading], key="why_digit", scale=PREVIEW_SCALE
        )
