"""Beyond one digit, under Streamlit's AppTest: numbers on the wide canvas, photos of
handwriting, the labels given under them, and the heat-map of why the model answered.

As in the page's other tests (`tests/support/page_app.py`), a stand-in
`streamlit_drawable_canvas` module hands the page the canvas image a drawing would produce,
one per canvas key; photos are made as phones and scanners save them (see
devtools/pictures.py) and uploaded through the page's file uploader.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from streamlit.testing.v1 import AppTest

import digit_model
import reading
import tabs.common
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.photo
import tabs.draw.shared
import tabs.draw.why
import webapp
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS
from devtools.pictures import encoded, paper_photo, png
from feedback import database as feedback_database
from feedback import store as feedback_store
from feedback.rate_limit import SAVES
from preprocess import CANVAS_SIZE, canvas_to_ink
from reading import explain
from tests.support.pictures import (
    animated,
    photographed,
    png_claiming_size,
    sideways_with_broken_exif,
    truncated_jpeg,
    truncated_png,
    two_lines,
    written,
    written_strokes,
)

RUN_TIMEOUT = 120  # seconds; the first run imports TensorFlow and loads the model
NUMBER = "2026"


class CanvasStandIn:
    """Stands in for `st_canvas`: hands each canvas (by key) its drawing as its PNG, records
    the calls."""

    def __init__(self) -> None:
        self.drawings: dict[str, np.ndarray] = {}
        self.calls: list[dict] = []

    def __call__(self, **options) -> types.SimpleNamespace:
        self.calls.append(options)
        drawing = self.drawings.get(options["key"])
        image = None if drawing is None else png(drawing)
        return types.SimpleNamespace(image_bytes=image, json_data={"objects": []})


@pytest.fixture
def canvas(monkeypatch) -> CanvasStandIn:
    stand_in = CanvasStandIn()
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = stand_in
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return stand_in


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    """The page with the committed model, its labels going to a SQLite file of its own."""
    monkeypatch.delenv(digit_model.MODEL_PATH_VARIABLE, raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", f"sqlite:///{tmp_path / 'feedback.db'}")
    # Heat-maps are kept across visits: one an earlier test made would spare this one's work.
    tabs.draw.why.heat_map.clear()
    return AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)


class Counting:
    """Wraps a function and counts its calls."""

    def __init__(self, function) -> None:
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


def counted(monkeypatch, module: types.ModuleType, name: str) -> Counting:
    counting = Counting(getattr(module, name))
    monkeypatch.setattr(module, name, counting)
    return counting


def last_call(canvas: CanvasStandIn, key: str) -> dict:
    """The options the canvas with this key was last built with."""
    return [call for call in canvas.calls if call["key"] == key][-1]


def choose(at: AppTest, mode: str) -> AppTest:
    at.segmented_control(key=tabs.draw.MODE_KEY).set_value(mode)
    return at.run()


def upload(at: AppTest, name: str, data: bytes, mime: str) -> AppTest:
    at.file_uploader(key=tabs.draw.photo.PHOTO_UPLOAD_KEY).set_value((name, data, mime))
    return at.run()


def shown(at: AppTest):
    """The mode on show: the modes opened before it stay on the page, hidden."""
    mode = at.segmented_control(key=tabs.draw.MODE_KEY).value
    area = at.main.get_by_key(tabs.draw.MODE_AREAS[mode])
    assert tabs.draw.SHOWN_MARK in area.html[0].value
    return area


def metric(at: AppTest, label: str) -> str | None:
    values = [metric.value for metric in shown(at).metric if metric.label == label]
    assert len(values) <= 1
    return values[0] if values else None


def captions(at: AppTest) -> list[str]:
    """The caption of every picture shown, in order."""
    return [picture.caption for element in shown(at).image for picture in element.proto.imgs]


def why_pictures(at: AppTest) -> list[str]:
    return [caption for caption in captions(at) if caption.startswith("Why")]


def test_one_digit_is_the_default_mode_with_its_square_canvas(app, canvas):
    app.run()

    assert not app.exception
    assert app.segmented_control(key=tabs.draw.MODE_KEY).value == tabs.draw.shared.ONE_DIGIT
    assert [call["key"] for call in canvas.calls] == [tabs.draw.one_digit.CANVAS_KEY]
    assert canvas.calls[-1]["width"] == canvas.calls[-1]["height"] == CANVAS_SIZE


@pytest.mark.parametrize("number", [NUMBER, "19", "3845"])
def test_a_number_written_on_the_wide_canvas_is_read(app, canvas, clear_digits, number):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, number)
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    options = canvas.calls[-1]
    assert options["key"] == tabs.draw.number.NUMBER_CANVAS_KEY
    assert (options["width"], options["height"]) == (700, 280)
    assert options["stroke_width"] == app.slider(key="brush_width").value
    assert metric(app, "Prediction") == number
    assert len(shown(app).warning) == 0
    (digit_inputs,) = shown(app).image
    assert [picture.caption.split(" · ")[0] for picture in digit_inputs.proto.imgs] == list(number)
    assert all(picture.caption.endswith("%") for picture in digit_inputs.proto.imgs)
    assert why_pictures(app) == []


def test_a_decimal_comma_shows_in_the_number_and_only_digits_are_read_as_digits(
    app, canvas, clear_digits
):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "4,05")
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    assert metric(app, "Prediction") == "4,05"
    (digit_inputs,) = shown(app).image
    assert [picture.caption.split(" · ")[0] for picture in digit_inputs.proto.imgs] == [
        "4",
        "0",
        "5",
    ]


def test_a_minus_sign_shows_before_the_number(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "-12")
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    assert metric(app, "Prediction") == "-12"
    (digit_inputs,) = shown(app).image
    assert len(digit_inputs.proto.imgs) == 2


def test_the_number_confidence_is_every_digit_right_at_once(app, canvas, clear_digits, classifier):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    expected = reading.read_number(
        classifier, canvas_to_ink(canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY])
    )
    assert metric(app, "Confidence") == f"{np.prod([d.confidence for d in expected.digits]):.0%}"
    digit_captions = [picture.caption for picture in shown(app).image[0].proto.imgs]
    assert digit_captions == [f"{d.digit} · {d.confidence:.0%}" for d in expected.digits]


def test_a_piece_the_model_hesitates_over_shows_its_digit_and_the_doubt(
    app, canvas, classifier, doubtful_number
):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = doubtful_number
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    letter = reading.read_number(classifier, canvas_to_ink(doubtful_number)).digits[1]
    assert metric(app, "Prediction") == f"2{letter.digit}"
    (warning,) = shown(app).warning
    assert f"piece 2 (**{letter.digit}**) {reading.MAY_NOT_BE_A_DIGIT}" in warning.value
    assert "Try writing it more clearly" in warning.value  # not larger: it is not too small


def number_labels() -> list[tuple[int, int]]:
    """(digit answered, digit meant) of each label in the page's database (the `app`
    fixture's), oldest first."""
    engine = sa.create_engine(os.environ["DIGIT_FEEDBACK_DB_URL"])
    try:
        if not sa.inspect(engine).has_table("digit_feedback"):
            return []
        with engine.connect() as connection:
            query = "SELECT predicted_digit, true_digit FROM digit_feedback ORDER BY id"
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def meant_field(app: AppTest, area: str):
    return shown(app).text_input(key=f"meant_{area}")


def type_number(app: AppTest, area: str, typed: str) -> AppTest:
    """Type the number meant under the number read, and save it."""
    meant_field(app, area).input(typed)
    (save,) = [b for b in shown(app).button if b.label == tabs.draw.feedback_row.SAVE_NUMBER_TEXT]
    return save.click().run()


def saved_line(app: AppTest) -> str:
    (line,) = [caption.value for caption in shown(app).caption if "Saved as" in caption.value]
    return line


def test_a_number_is_confirmed_or_corrected_digit_by_digit(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    confirm = shown(app).button(key="confirm_number")
    assert not confirm.disabled
    assert number_labels() == []

    confirm.click().run()

    assert not app.exception
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 6)]
    assert f"Saved as **{NUMBER}**" in saved_line(app)
    # Said where it shows whatever is scrolled into view: the field may be at the screen's edge.
    assert [toast.value for toast in app.toast] == [f"Saved: {NUMBER}."]
    assert shown(app).button(key="confirm_number").disabled

    type_number(app, "number", "2,028")  # a mark typed between digits is left out

    assert not app.exception
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 8)]  # the same four, changed
    # The answer above stays the model's: the line says the correction was taken.
    corrected = "Saved as **2028**; you meant an 8 as the 4th digit, still read as a 6."
    assert corrected in saved_line(app)
    # The comma is not what was read, and is not learnt: the page says so.
    assert [toast.value for toast in app.toast] == [
        f"Changed to 2028. {tabs.draw.feedback_row.MARKS_NOT_SAVED}"
    ]
    type_number(app, "number", "2028")  # Enter again
    assert [toast.value for toast in app.toast] == ["Already saved as 2028."]
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 8)]
    assert tabs.draw.feedback_row.MARKS_NOT_SAVED not in (
        caption.value for caption in shown(app).caption
    )

    type_number(app, "number", "20.29")  # a point the reading has not: only digits are saved
    assert [toast.value for toast in app.toast] == [
        f"Changed to 2029. {tabs.draw.feedback_row.MARKS_NOT_SAVED}"
    ]
    assert tabs.draw.feedback_row.MARKS_NOT_SAVED in (
        caption.value for caption in shown(app).caption
    )
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 9)]

    shown(app).button(key="confirm_number").click().run()  # as read, after all

    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 6)]
    assert f"Saved as **{NUMBER}**" in saved_line(app)
    assert meant_field(app, "number").value == ""  # not the 2028 typed before


def test_a_misread_digit_of_a_number_corrected_is_read_as_meant(
    app, canvas, classifier, clear_digits, misread_style
):
    """Its label, learnt as an example, turns the answer to the digit meant: the number shows
    it, backed by the labels alone, and the saved line has no correction left to name."""
    digit, _, _ = misread_style
    rgba = written_strokes([clear_digits[2].segments, digit.segments])
    misread = reading.read_number(classifier, canvas_to_ink(rgba)).number
    assert misread != f"2{digit.label}"
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = rgba
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    type_number(app, "number", f"2{digit.label}")

    assert not app.exception
    assert metric(app, tabs.draw.shared.PREDICTION) == f"2{digit.label}"
    assert saved_line(app).startswith(f"✓ Saved as **2{digit.label}**. Type another")
    assert "Read with your labels." in [caption.value for caption in shown(app).caption]


def test_pieces_that_are_no_digit_get_no_advice_to_write_more_clearly(
    app, canvas, clear_digits, not_a_digit
):
    """Two pieces firmly no digit are letters or doodles, not a number badly written."""
    strokes = [clear_digits[2].segments, not_a_digit.segments, not_a_digit.segments]
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written_strokes(strokes)
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    assert metric(app, tabs.draw.shared.PREDICTION).startswith("2??")
    (warning,) = shown(app).warning
    assert warning.value.endswith(tabs.draw.number.LETTERS_NOT_READ)
    assert "Try writing it" not in warning.value


def test_a_number_saved_is_listed_in_history_as_written(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    shown(app).button(key="confirm_number").click().run()

    app.session_state[webapp.TAB_KEY] = "History"
    (table,) = app.run().tabs[1].dataframe

    assert not app.exception
    assert list(table.value["True digit"]) == list(NUMBER)  # not 6, 2, 0, 2: newest first


@pytest.mark.parametrize("area", ["number", "photo"])
def test_writing_of_two_lines_gets_no_number_but_what_to_do(app, canvas, clear_digits, area):
    """12 above 34: each digit joined with the one under it read 53, which one tap saved."""
    lines = two_lines(clear_digits, "12", "34")
    if area == "photo":
        choose(app.run(), tabs.draw.shared.A_PHOTO)
        picture = encoded(paper_photo(canvas_to_ink(lines)), "JPEG")
        upload(app, "IMG_2029.jpg", picture, "image/jpeg")
        assert captions(app)[0] == "Your picture"  # no box reaching across both lines
    else:
        canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = lines
        choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    (warning,) = shown(app).warning
    assert warning.value == tabs.draw.number.several_lines_said(2, photo=area == "photo")
    assert metric(app, tabs.draw.shared.PREDICTION) is None
    assert not [button for button in shown(app).button if button.key == f"confirm_{area}"]
    assert number_labels() == []


def test_a_number_labelled_is_learnt_as_examples_of_the_persons_handwriting(
    app, canvas, classifier, doubtful_number
):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = doubtful_number
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    letter = reading.read_number(classifier, canvas_to_ink(doubtful_number)).digits[1]
    (warning,) = shown(app).warning
    assert reading.MAY_NOT_BE_A_DIGIT in warning.value

    type_number(app, "number", f"2{letter.digit}")  # it is a digit after all

    assert not app.exception
    assert len(shown(app).warning) == 0
    # Its own labels, not examples given before: as "Read with your label." under one digit.
    said = "Read with your labels."
    assert said in [caption.value for caption in shown(app).caption]

    shown(app).button(key="forget_number").click().run()

    (warning,) = shown(app).warning
    assert reading.MAY_NOT_BE_A_DIGIT in warning.value


def test_a_digit_of_a_number_that_looks_like_an_example_of_another_digit_is_said_less_sure(
    app, canvas, classifier, clear_digits
):
    """The 7 of a number labelled as the digit the model next takes it for: in the next
    number, its 7 is less sure, and the page says which digit and why."""
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "27")
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    seven = reading.read_number(classifier, canvas_to_ink(written(clear_digits, "27"))).digits[1]
    probabilities = seven.probabilities.copy()
    probabilities[7] = 0
    runner_up = int(np.argmax(probabilities))
    type_number(app, "number", f"2{runner_up}")
    # Its 7 is now an example of the other digit: "Saved as" says so, not "Less sure".
    assert not [caption for caption in shown(app).caption if "Less sure" in caption.value]
    said = (
        "Less sure: the 1st digit looks like your example of "
        f"{tabs.draw.shared.a_digit(runner_up)}."
    )

    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "73", seed=1)
    app.run()

    assert not app.exception
    assert metric(app, tabs.draw.shared.PREDICTION) == "73"
    assert said in [caption.value for caption in shown(app).caption]
    shown(app).button(key="forget_number").click().run()
    assert said not in [caption.value for caption in shown(app).caption]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("202", "read as 4 pieces (**2026**), but 3 digits were typed"),
        ("20267", "but 5 digits were typed"),
        ("2O26", '"O" is not a digit'),
        ("????", "Nothing to save"),
        ("", "Type the number you meant first"),
        ("   ", "Type the number you meant first"),
    ],
)
def test_a_number_typed_that_does_not_fit_the_pieces_says_why_and_saves_nothing(
    app, canvas, clear_digits, typed, said
):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    type_number(app, "number", typed)

    assert not app.exception
    (error,) = shown(app).error
    assert said in error.value
    assert [toast.value for toast in app.toast] == [error.value]
    assert number_labels() == []
    assert meant_field(app, "number").value == typed  # kept, to be mended


def test_a_lone_piece_in_doubt_is_called_the_drawing_not_piece_1(app, canvas):
    dot = np.full((280, tabs.draw.number.NUMBER_CANVAS_WIDTH, 4), 255, dtype=np.uint8)
    rows, cols = np.ogrid[:280, : tabs.draw.number.NUMBER_CANVAS_WIDTH]
    dot[(rows - 140) ** 2 + (cols - 350) ** 2 <= 5**2, :3] = 0
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = dot
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    assert not app.exception
    (warning,) = shown(app).warning
    assert f"Not sure: the drawing (**{reading.WITHHELD}**) is too small." in warning.value
    assert "piece 1" not in warning.value


def test_a_new_number_starts_with_an_empty_field(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    type_number(app, "number", "202")

    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "19")
    app.run()

    assert metric(app, "Prediction") == "19"
    assert meant_field(app, "number").value == ""
    assert len(shown(app).error) == 0  # the last number's error went with it


def test_a_number_longer_than_the_save_limit_is_saved_in_full_once_it_may_be(
    app, canvas, clear_digits, monkeypatch
):
    monkeypatch.setattr(tabs.common, "SAVES", dataclasses.replace(SAVES, per_visitor=2))
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    shown(app).button(key="confirm_number").click().run()

    assert not app.exception
    assert number_labels() == [(2, 2), (0, 0)]
    (error,) = shown(app).error
    assert "2 labels in a minute" in error.value
    assert "2 of the 4 digits given were not saved" in error.value
    assert "Saved as **20??**" in saved_line(app)

    # A minute on (limits of their own, counted afresh): a retry saves only the digits left,
    # within a limit of 3 that the whole number again would pass.
    monkeypatch.setattr(tabs.common, "SAVES", dataclasses.replace(SAVES, per_visitor=3))
    shown(app).button(key="confirm_number").click().run()

    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 6)]
    assert len(shown(app).error) == 0
    assert f"Saved as **{NUMBER}**" in saved_line(app)
    assert shown(app).button(key="confirm_number").disabled


def test_a_number_not_saved_while_the_database_is_down_is_saved_when_it_is_back(
    app, canvas, clear_digits, monkeypatch
):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)

    def unavailable(store, label):
        raise feedback_database.StorageUnavailable("Saving feedback", "connection refused")

    with monkeypatch.context() as down:
        down.setattr(feedback_store.FeedbackStore, "save", unavailable)
        type_number(app, "number", "2027")

    (warning,) = shown(app).warning
    assert (
        tabs.draw.feedback_row.UNAVAILABLE in warning.value
        and "4 of the 4 digits given" in warning.value
    )
    assert "connection" not in warning.value
    (toast,) = app.toast
    assert (
        toast.value.startswith(tabs.draw.feedback_row.UNAVAILABLE) and "4 of the 4" in toast.value
    )
    assert meant_field(app, "number").value == "2027"

    type_number(app, "number", "2027")  # the same again, once the database is back

    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 7)]
    assert len(shown(app).warning) == 0
    assert "Saved as **2027**" in saved_line(app)


def test_a_digit_labelled_for_the_first_time_is_learnt_while_the_database_is_down(
    app, canvas, clear_digits, monkeypatch
):
    """As under one digit: a first label is learnt whether or not it could be saved."""
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    type_number(app, "number", "?0??")  # the 0 saved, and learnt
    assert len(app.session_state[tabs.draw.shared.MEMORY_KEY]) == 1

    def unavailable(store, label):
        raise feedback_database.StorageUnavailable("Saving feedback", "connection refused")

    with monkeypatch.context() as down:
        down.setattr(feedback_store.FeedbackStore, "save", unavailable)
        type_number(app, "number", "7???")  # the first piece's first label: not saved

    assert len(shown(app).warning) == 1
    assert len(app.session_state[tabs.draw.shared.MEMORY_KEY]) == 2


def test_a_question_mark_leaves_a_digit_saved_before_as_it_was(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    type_number(app, "number", "?02?")

    assert number_labels() == [(0, 0), (2, 2)]
    assert "Saved as **?02?**" in saved_line(app)

    type_number(app, "number", "7???")

    assert number_labels() == [(0, 0), (2, 2), (2, 7)]
    assert "Saved as **702?**" in saved_line(app)


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


def test_a_photo_of_a_number_on_paper_is_read_and_its_digits_outlined(app, canvas, clear_digits):
    data = encoded(photographed(clear_digits, NUMBER), "JPEG", quality=75)
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    assert [info.value for info in shown(app).info] == [tabs.draw.photo.PHOTO_HINT]
    assert app.file_uploader(key=tabs.draw.photo.PHOTO_UPLOAD_KEY).allowed_type == [
        f".{kind}" for kind in reading.photo.FILE_EXTENSIONS
    ]

    upload(app, "IMG_2026.jpg", data, "image/jpeg")

    assert not app.exception
    assert len(shown(app).error) == 0 and len(shown(app).info) == 0
    assert metric(app, "Prediction") == NUMBER
    picture, digit_inputs = shown(app).image
    assert "each digit, point, comma and minus found is boxed" in picture.proto.imgs[0].caption
    assert len(digit_inputs.proto.imgs) == len(NUMBER)

    type_number(app, "photo", "2027")  # corrected: each digit saved with its piece

    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 7)]
    assert "Saved as **2027**" in saved_line(app)


def test_a_photo_shows_a_box_around_each_digit_and_the_point_read(classifier, clear_digits):
    photo = reading.photo.read_upload(
        encoded(photographed(clear_digits, "20.26"), "JPEG", quality=80)
    )
    number = reading.read_number(classifier, photo.ink)
    assert number.number == "20.26"

    boxed = tabs.draw.photo.outlined(photo, number)

    boxes = [digit.box for digit in number.digits] + [mark.box for mark in number.marks]
    for box in boxes:
        middle_row, middle_column = (box.top + box.bottom) // 2, (box.left + box.right) // 2
        just_outside = [
            boxed[box.top - 1, middle_column],
            boxed[box.bottom, middle_column],
            boxed[middle_row, box.left - 1],
            boxed[middle_row, box.right],
        ]
        assert all(tuple(pixel) == tabs.draw.photo.OUTLINE for pixel in just_outside), box


def test_a_photo_of_a_digit_on_squared_paper_held_askew_is_read(app, canvas, clear_digits):
    data = encoded(photographed(clear_digits, "4", "squared", 5.0), "JPEG", quality=80)
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "IMG_2027.jpg", data, "image/jpeg")

    assert not app.exception
    assert metric(app, "Prediction") == "4"  # without the lines left out: "47"


def test_a_photo_in_doubt_gets_advice_for_a_photo(app, canvas, clear_digits):
    """A number photographed askew and small is in doubt; the advice is about the photo,
    not about writing on the canvas."""
    askew = photographed(clear_digits, NUMBER).rotate(40, expand=True, fillcolor="white")
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "IMG_2028.jpg", encoded(askew, "JPEG", quality=80), "image/jpeg")

    assert not app.exception
    (warning,) = shown(app).warning
    assert warning.value.startswith("Not sure:")
    assert "Try another photo: upright, in focus" in warning.value
    assert "Try writing" not in warning.value


def test_a_photo_on_its_side_is_said_to_hold_lines_and_to_be_turned_upright(
    app, canvas, clear_digits
):
    """Turned on its side with nothing to say so (no EXIF), the digits stand one above
    another, as lines of one digit each would."""
    sideways = photographed(clear_digits, NUMBER).transpose(Image.Transpose.ROTATE_270)
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "IMG_2030.jpg", encoded(sideways, "JPEG", quality=80), "image/jpeg")

    assert not app.exception
    (warning,) = shown(app).warning
    assert warning.value == tabs.draw.number.several_lines_said(len(NUMBER), photo=True)
    assert "with the paper upright" in warning.value


def test_blank_paper_says_no_handwriting_was_found(app, canvas):
    cols = np.mgrid[0:400, 0:600][1] / 600
    paper = 0.5 + 0.45 * cols + np.random.default_rng(1).normal(0, 0.03, (400, 600))
    data = encoded(Image.fromarray((np.clip(paper, 0, 1) * 255).astype(np.uint8)), "JPEG")
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "paper.jpg", data, "image/jpeg")

    assert not app.exception
    assert [info.value for info in shown(app).info] == [tabs.draw.photo.NO_HANDWRITING]
    assert metric(app, "Prediction") is None
    assert captions(app) == ["Your picture"]


def sixteen_bit(clear_digits) -> bytes:
    grey = np.asarray(photographed(clear_digits, NUMBER).convert("L")).astype(np.uint16) * 64
    return encoded(Image.fromarray(grey), "PNG")


def cmyk(clear_digits) -> bytes:
    return encoded(photographed(clear_digits, NUMBER).convert("CMYK"), "JPEG", quality=85)


def transparent(clear_digits) -> bytes:
    """Black strokes on a transparent background, as a drawing app exports them."""
    ink = canvas_to_ink(written(clear_digits, NUMBER))
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return encoded(Image.fromarray(rgba), "PNG")


def webp(clear_digits) -> bytes:
    return encoded(photographed(clear_digits, NUMBER), "WEBP", quality=80)


def broken_exif(clear_digits) -> bytes:
    return sideways_with_broken_exif(photographed(clear_digits, NUMBER), "JPEG")


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (sixteen_bit, "scan.png"),
        (cmyk, "print.jpg"),
        (transparent, "export.png"),
        (webp, "photo.webp"),
        (broken_exif, "edited.jpg"),
    ],
    ids=["16-bit png", "cmyk jpeg", "transparent png", "webp", "exif tag of the wrong type"],
)
def test_unusual_but_sound_pictures_are_read(app, canvas, clear_digits, make, name):
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, name, make(clear_digits), "application/octet-stream")

    assert not app.exception
    assert len(shown(app).error) == 0
    assert metric(app, "Prediction") == NUMBER


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("empty.png", lambda: b"", "empty"),
        ("notes.png", lambda: b"Dear diary, I wrote 2026 on a napkin.\n" * 20, "not a PNG"),
        ("moved.jpg", lambda: encoded(Image.new("RGB", (64, 64), "white"), "GIF"), "not a PNG"),
        ("cut.png", truncated_png, "damaged or incomplete"),
        ("cut.jpg", truncated_jpeg, "damaged or incomplete"),
        ("bomb.png", lambda: png_claiming_size(100_000, 100_000), "too many pixels"),
        ("moving.png", lambda: animated("PNG"), "animated"),
        ("moving.webp", lambda: animated("WEBP"), "animated"),
        ("dot.png", lambda: encoded(Image.new("RGB", (6, 40), "white"), "PNG"), "only 6x40"),
    ],
    ids=[
        "zero bytes",
        "not an image",
        "gif renamed to jpg",
        "truncated png",
        "truncated jpeg",
        "decompression bomb",
        "animated png",
        "animated webp",
        "too small",
    ],
)
def test_bad_files_get_a_clear_message_and_the_page_keeps_working(
    app, canvas, clear_digits, name, make, message
):
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, name, make(), "application/octet-stream")

    assert not app.exception
    (error,) = shown(app).error
    assert message in error.value
    assert metric(app, "Prediction") is None
    assert captions(app) == []

    upload(app, "IMG_2026.jpg", encoded(photographed(clear_digits, NUMBER), "JPEG"), "image/jpeg")

    assert not app.exception
    assert len(shown(app).error) == 0
    assert metric(app, "Prediction") == NUMBER


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


def test_a_photo_is_read_once_however_often_the_page_reruns(app, canvas, clear_digits, monkeypatch):
    reads = counted(monkeypatch, tabs.draw.photo, "read_upload")
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    upload(app, "IMG_2026.jpg", encoded(photographed(clear_digits, NUMBER), "JPEG"), "image/jpeg")

    app.toggle(key="why_photo").set_value(True).run()
    app.run()

    assert not app.exception
    assert metric(app, "Prediction") == NUMBER
    assert why_pictures(app) == [f"Why {digit}" for digit in NUMBER]
    assert reads.calls == 1


def test_a_bad_file_is_decoded_once_however_often_the_page_reruns(app, canvas, monkeypatch):
    reads = counted(monkeypatch, tabs.draw.photo, "read_upload")
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    upload(app, "scan.png", b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")
    app.run()
    app.run()

    assert not app.exception
    assert len(shown(app).error) == 1
    assert reads.calls == 1


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
