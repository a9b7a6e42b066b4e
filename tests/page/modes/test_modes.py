"""Switching between the page's modes under AppTest: one digit first, and each mode keeping
its canvas and settings while hidden."""

from __future__ import annotations

import numpy as np

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.shared
import webapp
from devtools.drawing import PLACEMENTS
from preprocess import CANVAS_SIZE
from tests.support.page_modes import choose, last_call, metric, shown, why_pictures
from tests.support.pictures import (
    written,
)


def test_one_digit_is_the_default_mode_with_its_square_canvas(app, canvas):
    app.run()

    assert not app.exception
    assert app.segmented_control(key=tabs.draw.MODE_KEY).value == tabs.draw.shared.ONE_DIGIT
    assert [call["key"] for call in canvas.calls] == [tabs.draw.one_digit.CANVAS_KEY]
    assert canvas.calls[-1]["width"] == canvas.calls[-1]["height"] == CANVAS_SIZE


def test_the_subtitle_is_the_same_in_every_mode_and_tab(app, canvas):
    """It promises no box to draw in where there is none (a photo, History, the model card),
    and the tabs under it stay where they are."""
    said = [app.run().caption[0].value]
    for mode in (tabs.draw.shared.A_PHOTO, tabs.draw.shared.A_NUMBER):
        said.append(choose(app, mode).caption[0].value)
    for tab in ("History", "Model card"):
        app.session_state[webapp.TAB_KEY] = tab
        said.append(app.run().caption[0].value)
    assert said == [webapp.SUBTITLE] * 5
    assert "box" not in webapp.SUBTITLE


def test_a_mode_opened_before_stays_on_the_page_hidden_with_its_canvas(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = clear_digits[7].image(*PLACEMENTS[0])
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    (hint,) = shown(app).info
    assert hint.value.startswith(tabs.draw.number.NUMBER_HINT)
    assert metric(app, "Prediction") is None
    canvas.calls.clear()

    choose(app, tabs.draw.shared.ONE_DIGIT)

    # Both canvases are built on every run: neither leaves the page, which would empty it.
    assert {call["key"] for call in canvas.calls} == {
        tabs.draw.one_digit.CANVAS_KEY,
        tabs.draw.number.NUMBER_CANVAS_KEY,
    }
    number_area = app.main.get_by_key(tabs.draw.MODE_AREAS[tabs.draw.shared.A_NUMBER])
    assert tabs.draw.HIDDEN_MARK in number_area.html[0].value
    assert metric(app, "Prediction") == "7"
    assert [b.label for b in shown(app).button] == [tabs.draw.feedback_row.CONFIRM_TEXT]


def test_settings_stay_through_clears_mode_switches_and_tab_switches(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = clear_digits[3].image(*PLACEMENTS[0])
    app.run()
    app.slider(key=tabs.draw.BRUSH_KEY).set_value(30).run()
    app.toggle(key="why_digit").set_value(True).run()
    assert why_pictures(app) == ["Why 3"]

    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = np.full((280, 280, 4), 255, dtype=np.uint8)
    app.run()  # the canvas cleared

    assert metric(app, "Prediction") == tabs.draw.shared.BLANK
    assert app.toggle(key="why_digit").value is True
    assert why_pictures(app) == []

    canvas.calls.clear()
    choose(
        app, tabs.draw.shared.A_PHOTO
    )  # no brush to set in this mode: the hidden canvas keeps it

    assert [(call["key"], call["stroke_width"]) for call in canvas.calls] == [
        (tabs.draw.one_digit.CANVAS_KEY, 30)
    ]

    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "19")
    choose(app, tabs.draw.shared.A_NUMBER)

    assert app.slider(key=tabs.draw.BRUSH_KEY).value == 30
    assert last_call(canvas, tabs.draw.number.NUMBER_CANVAS_KEY)["stroke_width"] == 30
    assert app.toggle(key="why_number").value is True
    assert why_pictures(app) == ["Why 1", "Why 9"]

    app.session_state[webapp.TAB_KEY] = "History"
    app.run()
    app.session_state[webapp.TAB_KEY] = "Draw"
    app.run()

    assert app.segmented_control(key=tabs.draw.MODE_KEY).value == tabs.draw.shared.A_NUMBER
    assert app.slider(key=tabs.draw.BRUSH_KEY).value == 30
    assert app.toggle(key="why_number").value is True

    app.toggle(key="why_number").set_value(False).run()  # off here: off in every mode
    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = clear_digits[5].image(*PLACEMENTS[0])
    choose(app, tabs.draw.shared.ONE_DIGIT)

    assert last_call(canvas, tabs.draw.one_digit.CANVAS_KEY)["stroke_width"] == 30
    assert metric(app, "Prediction") == "5"
    assert app.toggle(key="why_digit").value is False
    assert why_pictures(app) == []
