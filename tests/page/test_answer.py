"""The Draw tab's answer under AppTest: the digit read, how sure, the ten probabilities and
the model's view, each stroke's own; and what a drawing that cannot be read gets."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.one_digit
import tabs.draw.shared
from devtools.drawing import PLACEMENTS
from reading import UNSURE_BELOW, read_drawing
from tabs import charts
from tests.support.page_app import (
    answer,
    confirm_button,
    digit_picker,
    drawing,
    hints,
    metric_value,
    probability_bars,
    stored_labels,
    words_under,
)
from tests.support.pictures import side_by_side


def test_page_renders_with_the_real_canvas_component(app):
    app.run()

    assert not app.exception
    assert app.title[0].value.endswith("Digit reader")
    assert [tab.label for tab in app.tabs] == ["Draw", "History", "Model card"]
    assert len(app.tabs[0].get("bidi_component")) == 1
    assert tabs.draw.one_digit.DRAW_HINT in hints(app)
    assert answer(app) == tabs.draw.shared.BLANK


def test_canvas_is_set_up_for_drawing_digits_on_every_stroke(app, canvas):
    app.run()

    options = canvas.calls[-1]
    assert options["drawing_mode"] == "freedraw"
    assert options["update_streamlit"] is True
    assert options["return_image_data"] is True
    assert options["width"] >= 280 and options["height"] >= 280
    assert options["key"]
    assert options["stroke_width"] == app.slider(key="brush_width").value

    app.slider(key="brush_width").set_value(30).run()

    assert canvas.calls[-1]["stroke_width"] == 30
    assert canvas.calls[-1]["key"] == options["key"]


@pytest.mark.parametrize("blank", ["nothing sent yet", "cleared canvas"])
def test_blank_canvas_shows_the_hint_and_the_answer_area_blank(app, canvas, blank):
    """The answer's elements are there before the first stroke, blank, waiting to be filled."""
    if blank == "cleared canvas":
        canvas.drawing = np.full((280, 280, 4), 255, dtype=np.uint8)
    app.run()

    assert not app.exception
    assert tabs.draw.one_digit.DRAW_HINT in hints(app)
    assert answer(app) == tabs.draw.shared.BLANK
    assert metric_value(app, tabs.draw.shared.CONFIDENCE) == tabs.draw.shared.BLANK
    assert confirm_button(app).disabled and digit_picker(app).disabled
    assert [bar["probability"] for bar in probability_bars(app)] == [0] * 10
    (model_view,) = app.image
    assert "What the model sees" in model_view.proto.imgs[0].caption


@pytest.mark.parametrize(
    ("label", "placement"), [(3, PLACEMENTS[0]), (7, PLACEMENTS[1]), (0, PLACEMENTS[2])]
)
def test_drawing_shows_the_digit_its_probabilities_and_what_the_model_sees(
    app, canvas, clear_digits, classifier, label, placement
):
    canvas.drawing = drawing(clear_digits[label], placement)
    app.run()

    assert not app.exception
    assert answer(app) == str(label)
    confidence = read_drawing(classifier, canvas.drawing).confidence
    assert metric_value(app, tabs.draw.shared.CONFIDENCE) == f"{confidence:.0%}"
    assert len(app.info) == 0 and len(app.warning) == 0
    assert words_under(app) == {"Prediction": "", "Confidence": ""}
    assert tabs.draw.one_digit.DRAW_HINT not in hints(app)
    assert not confirm_button(app).disabled and not digit_picker(app).disabled

    bars = probability_bars(app)
    assert [bar["digit"] for bar in bars] == [str(digit) for digit in range(10)]
    assert sum(bar["probability"] for bar in bars) == pytest.approx(1, abs=1e-3)
    assert [bar["digit"] for bar in bars if bar["colour"] == charts.HIGHLIGHT] == [str(label)]

    (model_view,) = app.image
    assert "What the model sees" in model_view.proto.imgs[0].caption


def test_a_number_written_on_the_one_digit_canvas_is_pointed_to_a_number(app, canvas, clear_digits):
    canvas.drawing = np.minimum(
        clear_digits[3].image(110, 80, 15), clear_digits[7].image(110, 80, 150)
    )
    app.run()

    assert not app.exception
    (info,) = app.info
    assert (
        "more than one digit: **37**" in info.value
        and f"**{tabs.draw.shared.A_NUMBER}**" in info.value
    )
    assert answer(app) is not None and len(app.warning) == 0
    # Not confirmed as the one digit read; a digit may still be picked.
    assert confirm_button(app).disabled and not digit_picker(app).disabled


def test_each_drawing_replaces_the_answer_and_clearing_removes_it(app, canvas, clear_digits):
    canvas.drawing = drawing(clear_digits[2])
    app.run()
    assert answer(app) == "2"

    canvas.drawing = drawing(clear_digits[5], PLACEMENTS[3])
    app.run()
    assert answer(app) == "5"

    canvas.drawing = np.full((280, 280, 4), 255, dtype=np.uint8)
    app.run()
    assert answer(app) == tabs.draw.shared.BLANK
    assert tabs.draw.one_digit.DRAW_HINT in hints(app)


def test_strokes_keep_the_networks_kernels_built(app, canvas, clear_digits, monkeypatch):
    """Streamlit clears Keras's session after every run, which would empty TensorFlow's
    kernel cache and make each stroke build the network's kernels again."""
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *_, **__: cleared.append(True))
    for digit in (4, 7):
        canvas.drawing = drawing(clear_digits[digit])
        app.run()
        assert answer(app) == str(digit)

    assert cleared == []


def test_unsure_reading_says_so_and_names_the_top_two(app, canvas, clear_digits, classifier):
    """Two digits drawn over each other leave the model torn between them (most such
    overlays it takes for no digit at all; one it still reads as a digit is wanted here)."""
    overlays = (
        np.minimum(drawing(clear_digits[a]), drawing(clear_digits[b]))
        for a in sorted(clear_digits)
        for b in sorted(clear_digits)
        if a < b
    )
    unsure = next(
        (
            rgba
            for rgba in overlays
            if (reading := read_drawing(classifier, rgba)).confidence < UNSURE_BELOW
            and reading.is_digit
        ),
        None,
    )
    assert unsure is not None, "no overlay of two digits left the model unsure"
    first, second = read_drawing(classifier, unsure).top_two

    canvas.drawing = unsure
    app.run()

    assert answer(app) == str(first)
    assert words_under(app)["Prediction"] == f"or {tabs.draw.shared.a_digit(second)}?"
    (warning,) = app.warning
    assert warning.value.startswith("Not sure")
    assert warning.value.index(f"**{first}**") < warning.value.index(f"**{second}**")


@pytest.mark.parametrize("withheld", [False, True], ids=["read as a digit", "as no digit"])
def test_a_number_on_the_one_digit_canvas_is_named_beside_the_answer(
    app, canvas, classifier, clear_digits, withheld
):
    """The words under the answer name the number, where a phone shows them with the canvas,
    whether the drawing was read as one digit or as none; the message below says how to read
    it whole."""
    pairs = (f"{first}{second}" for first in range(10) for second in range(10))
    number = next(
        pair
        for pair in pairs
        if (reading := read_drawing(classifier, side_by_side(clear_digits, pair))).several_digits
        == pair
        and (reading.withheld is not None) == withheld
    )
    canvas.drawing = side_by_side(clear_digits, number)
    app.run()

    assert (answer(app) == tabs.draw.shared.NOT_A_DIGIT) == withheld
    assert words_under(app) == {"Prediction": f"or {number}?", "Confidence": ""}
    (pointer,) = app.info
    assert pointer.value == tabs.draw.one_digit.SEVERAL_DIGITS.format(number=number)


def test_a_drawing_with_too_many_strokes_says_to_clear_the_canvas(
    app, canvas, clear_digits, feedback_database
):
    canvas.drawing = drawing(clear_digits[6])
    # Thousands of tiny strokes: far more than the store keeps per drawing.
    dot = {"type": "path", "path": [["M", 10.5, 10.5], ["L", 11.5, 11.5]], "strokeWidth": 18}
    canvas.strokes = {"objects": [dot] * 10_000}
    app.run()

    assert not app.exception
    (warning,) = app.warning
    assert "10,000 strokes, more than the 200 kept per drawing" in warning.value
    assert "Clear the canvas and draw again" in warning.value
    assert not [
        button for button in app.button if button.label == tabs.draw.feedback_row.CONFIRM_TEXT
    ]
    assert answer(app) == "6"  # the drawing is still read

    canvas.strokes = {"objects": [dot] * 3}
    app.run()
    assert not app.warning and not confirm_button(app).disabled


def test_a_drawing_too_large_to_keep_is_refused_with_what_to_do(
    app, canvas, clear_digits, feedback_database
):
    canvas.drawing = drawing(clear_digits[6])
    # One stroke of 60,000 points: more bytes than the store keeps per drawing.
    canvas.strokes = {"objects": [{"type": "path", "path": [["L", 123.4, 567.8]] * 60_000}]}
    app.run()

    confirm_button(app).click().run()

    assert not app.exception
    (error,) = app.error
    assert "clear the canvas and draw the digit again" in error.value
    assert stored_labels(feedback_database) == []
    assert not confirm_button(app).disabled
    assert answer(app) == "6"


def test_a_drawing_that_is_no_digit_says_so_and_still_offers_the_digit_row(
    app, canvas, not_a_digit
):
    canvas.drawing = drawing(not_a_digit)
    app.run()

    assert not app.exception
    assert answer(app) == tabs.draw.shared.NOT_A_DIGIT
    assert any(tabs.draw.shared.NOT_A_DIGIT_HINT in warning.value for warning in app.warning)
    assert confirm_button(app).disabled and not digit_picker(app).disabled
    # Why it cannot be confirmed, not the digit the model leaned to as the answer to save.
    assert confirm_button(app).help == (
        "Only digits are saved as labels: if this is one, pick the digit you meant."
    )
    bars = probability_bars(app)
    assert sum(bar["probability"] for bar in bars) == pytest.approx(1, abs=1e-3)


def test_a_drawing_the_model_hesitates_over_says_so_and_offers_its_digit(
    app, canvas, doubtful_drawing
):
    canvas.drawing = drawing(doubtful_drawing)
    app.run()

    assert not app.exception
    assert answer(app) in set("0123456789")
    (warning,) = app.warning
    assert (
        tabs.draw.one_digit.DOUBTFUL_HINT in warning.value and f"**{answer(app)}**" in warning.value
    )
    # The doubt shows beside the answer too, and the confidence says what it assumes.
    assert words_under(app) == {
        "Prediction": tabs.draw.one_digit.MAYBE_NO_DIGIT,
        "Confidence": tabs.draw.one_digit.IF_A_DIGIT,
    }
    assert not confirm_button(app).disabled


def test_a_tap_is_too_small_to_read(app, canvas):
    tap = np.full((280, 280, 4), 255, dtype=np.uint8)
    rows, cols = np.ogrid[:280, :280]
    tap[(rows - 120) ** 2 + (cols - 140) ** 2 <= 9**2, :3] = 0
    canvas.drawing = tap
    app.run()

    assert answer(app) == tabs.draw.shared.TOO_SMALL
    assert any(tabs.draw.shared.TOO_SMALL_HINT in warning.value for warning in app.warning)
