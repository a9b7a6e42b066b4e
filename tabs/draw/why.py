"""The "Why this answer?" toggle: the strokes that drove each answer, shown on request under
a digit or each of a number's digits."""

from __future__ import annotations

import numpy as np
import streamlit as st

import digit_model
from preprocess import FIELD, png_data_url
from reading import DigitReading, explain
from tabs.draw.shared import a_digit, remember, unreadable

WHY_TEXT = "Why this answer?"
WHY_HELP = (
    "Colour the strokes by how much they drove the answer: red the most, grey hardly at all. "
    "Each part of the drawing is hidden in turn and the model reads it again."
)
HEAT_MAPS_KEPT = 256  # heat-maps kept for reruns, across visits: a few MB at most
# Kept for the whole visit: a toggle under an answer that is gone loses its value; this keeps it.
WHY_SETTING = "why_setting"
HEAT_MAPS = "heat_maps"  # how the key of each toggle's heat-maps' box starts, for the style


# Kept per model loaded (by its identity: the served model is loaded once per process).
@st.cache_data(
    max_entries=HEAT_MAPS_KEPT, show_spinner=False, hash_funcs={digit_model.Classifier: id}
)
def heat_map(classifier: digit_model.Classifier, image: np.ndarray, digit: int, side: int) -> str:
    """The input's strokes coloured by how much they drove the answer, as a PNG data URL; kept,
    as the page runs again with the same drawings (a tab, a mode, a hidden mode's number)."""
    saliency = explain.saliency(classifier, image, digit)
    return png_data_url(explain.overlay(image, saliency, size=side))


def why_caption(reading: DigitReading) -> str:
    """What a heat-map shows: why the digit read, or, where no digit is given, what in the
    drawing looks like the likeliest one."""
    verdict = unreadable(reading)
    if verdict is None:
        return f"Why {reading.digit}"
    return f"{verdict[0]}; what looks like {a_digit(reading.digit)}"


def why_section(
    classifier: digit_model.Classifier,
    readings: list[DigitReading],
    key: str,
    scale: int,
) -> None:
    """A toggle that shows which strokes drove each answer, each `scale` times the input's
    size; nothing is computed while it is off.

    The toggle's setting is one for the whole visit, shared by every mode.
    """
    # A keyed toggle keeps its own value once built, and a hidden mode's is built on every
    # run: each is set from the visit's setting, so that a switch finds it as last set.
    st.session_state[key] = st.session_state.get(WHY_SETTING, False)
    shown = st.toggle(WHY_TEXT, key=key, help=WHY_HELP, on_change=remember, args=(WHY_SETTING, key))
    if not shown or not readings:
        return
    captions = [why_caption(reading) for reading in readings]
    with st.container(key=f"{HEAT_MAPS}_{key}"):
        st.image(
            [heat_map(classifier, r.image, r.digit, FIELD * scale) for r in readings],
            caption=captions,
            alt=[
                f"{caption}: the input's strokes coloured by their effect" for caption in captions
            ],
        )
    st.caption("Red strokes drove the answer most, orange ones less; grey ones hardly mattered.")
