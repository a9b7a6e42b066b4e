"""The "Why" heat-maps under AppTest: made only when asked for, for a digit or each digit of
a number."""

from __future__ import annotations

import reading
import tabs.draw
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.shared
import tabs.draw.why
from devtools.drawing import PLACEMENTS
from preprocess import canvas_to_ink
from reading import explain
from tests.support.page_modes import NUMBER, captions, choose, counted, metric, why_pictures
from tests.support.pictures import (
    written,
)


def test_why_heat_map_is_computed_only_when_asked_for(app, canvas, clear_digits, monkeypatch):
    saliency = counted(monkeypatch, explain, "saliency")
    number_reads = counted(monkeypatch, tabs.draw.number, "read_number")
    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = clear_digits[3].image(*PLACEMENTS[0])
    app.run()

    why = app.toggle(key="why_digit")
    assert why.label == tabs.draw.why.WHY_TEXT and why.value is False
    assert metric(app, "Prediction") == "3"
    assert why_pictures(app) == []
    assert saliency.calls == 0 and number_reads.calls == 0

    why.set_value(True).run()

    assert not app.exception
    assert why_pictures(app) == ["Why 3"]
    assert saliency.calls == 1

    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = clear_digits[5].image(*PLACEMENTS[3])
    app.run()  # the next stroke, with the heat-map still asked for

    assert metric(app, "Prediction") == "5"
    assert why_pictures(app) == ["Why 5"]
    assert saliency.calls == 2

    app.toggle(key="why_digit").set_value(False).run()
    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = clear_digits[6].image(*PLACEMENTS[1])
    app.run()

    assert metric(app, "Prediction") == "6"
    assert why_pictures(app) == []
    assert saliency.calls == 2
    assert number_reads.calls == 0  # one-digit mode never splits the drawing


def test_why_names_no_digit_for_a_drawing_flagged_as_none(app, canvas, not_a_digit, classifier):
    canvas.drawings[tabs.draw.one_digit.CANVAS_KEY] = not_a_digit.image(*PLACEMENTS[0])
    app.run()
    app.toggle(key="why_digit").set_value(True).run()

    leaned_to = reading.read_digit(classifier, canvas_to_ink(not_a_digit.image(*PLACEMENTS[0])))
    assert not app.exception
    assert metric(app, "Prediction") == tabs.draw.shared.NOT_A_DIGIT
    assert (
        captions(app)[-1]
        == f"Not a digit; what looks like {tabs.draw.shared.a_digit(leaned_to.digit)}"
    )
    assert why_pictures(app) == []


def test_why_shows_a_heat_map_for_each_digit_of_a_number(app, canvas, clear_digits, monkeypatch):
    saliency = counted(monkeypatch, explain, "saliency")
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    assert saliency.calls == 0

    app.toggle(key="why_number").set_value(True).run()

    assert not app.exception
    assert metric(app, "Prediction") == NUMBER
    assert why_pictures(app) == [f"Why {digit}" for digit in NUMBER]
    assert saliency.calls == len(NUMBER)

    choose(app, tabs.draw.shared.ONE_DIGIT)  # the number stays on the page, hidden, as do its
    choose(app, tabs.draw.shared.A_NUMBER)  # heat-maps: made once, not on every run of the page

    assert why_pictures(app) == [f"Why {digit}" for digit in NUMBER]
    assert saliency.calls == len(NUMBER)
