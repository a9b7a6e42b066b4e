"""The Draw tab: a digit, a number or a photo read as it is drawn, and the feedback row.

This module holds the mode switch and the brush; each mode is a module of its own
(`one_digit`, `number`, `photo`), as are the feedback row under an answer (`feedback_row`),
the "Why this answer?" heat-maps (`why`), what they share (`shared`), and the page's style and
scripts (`page_head`, from the files in `tabs/static/`).
"""

from __future__ import annotations

import streamlit as st

import digit_model
from tabs.draw.number import number_section
from tabs.draw.one_digit import drawing_section
from tabs.draw.photo import photo_section
from tabs.draw.shared import A_NUMBER, A_PHOTO, ONE_DIGIT, remember

MODE_PROMPT, MODE_KEY = "What to read", "read_mode"
# Each mode's place on the page. A mode once opened stays on the page, hidden while another
# is shown, so that a switch and back finds its drawing (or photo) and answer as they were:
# a canvas taken off the page would come back empty. The place on show holds the shown mark.
MODE_AREAS = {ONE_DIGIT: "one_digit_area", A_NUMBER: "number_area", A_PHOTO: "photo_area"}
SHOWN_MARK, HIDDEN_MARK = "mode-shown", "mode-hidden"
OPENED_KEY = "opened_modes"  # the modes opened in this visit, kept on the page
BRUSH_WIDTHS = (6, 40)  # px, the slider's range
DEFAULT_BRUSH = 18
BRUSH_KEY = "brush_width"
BRUSH_POPOVER_KEY = "brush_popover"
# Kept for the whole visit: the brush is not built in photo mode, and would lose its value.
BRUSH_SETTING = "brush_setting"


def brush_control() -> int:
    """The brush width, set in a small pop-over beside the mode; kept for the whole visit."""
    with st.popover("Brush", icon=":material/brush:", key=BRUSH_POPOVER_KEY):
        return st.slider(
            "Brush width",
            *BRUSH_WIDTHS,
            value=st.session_state.get(BRUSH_SETTING, DEFAULT_BRUSH),
            format="%d px",
            key=BRUSH_KEY,
            on_change=remember,
            args=(BRUSH_SETTING, BRUSH_KEY),
        )


def draw_section(classifier: digit_model.Classifier | None) -> None:
    """One digit, a number or a photo to read, once the model is loaded; each mode, once
    opened, stays on the page for the visit, hidden while another shows."""
    if classifier is None:
        st.info("The canvas comes back once the model file is in place.")
        return
    # Outside the sections' fragments: strokes do not redo it, and a new choice rebuilds the tab.
    with st.container(horizontal=True, vertical_alignment="bottom"):
        mode = st.segmented_control(
            MODE_PROMPT,
            [ONE_DIGIT, A_NUMBER, A_PHOTO],
            default=ONE_DIGIT,
            required=True,
            key=MODE_KEY,
        )
        # In photo mode there is no brush to set; the canvases kept hidden keep the last one.
        brush = st.session_state.get(BRUSH_SETTING, DEFAULT_BRUSH)
        if mode != A_PHOTO:
            brush = brush_control()
    opened = st.session_state.setdefault(OPENED_KEY, set())
    opened.add(mode)
    areas = {each: st.container(key=area) for each, area in MODE_AREAS.items()}
    # The marks first, each in the same place in its area on every run: a switch shows as
    # the run starts, before the sections are read again (a mode opened for the first time
    # fills in as its section runs), and nothing in an area moves.
    for each, area in areas.items():
        area.html(f'<span class="{SHOWN_MARK if each == mode else HIDDEN_MARK}"></span>')
    if ONE_DIGIT in opened:
        with areas[ONE_DIGIT]:
            drawing_section(classifier, brush)
    if A_NUMBER in opened:
        with areas[A_NUMBER]:
            number_section(classifier, brush)
    if A_PHOTO in opened:
        with areas[A_PHOTO]:
            photo_section(classifier)
