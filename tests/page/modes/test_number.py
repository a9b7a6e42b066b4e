"""A number on the wide canvas under AppTest: the number read with its marks and
confidence, its digits confirmed or corrected, saved and learnt."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import reading
import tabs.common
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.shared
import webapp
from devtools.pictures import encoded, paper_photo
from feedback import database as feedback_database
from feedback import store as feedback_store
from feedback.rate_limit import SAVES
from preprocess import canvas_to_ink
from tests.support.page_app import delete_my_labels, same_visitors_other_tab
from tests.support.page_modes import (
    NUMBER,
    captions,
    choose,
    counted,
    meant_field,
    metric,
    number_labels,
    saved_line,
    shown,
    type_number,
    upload,
    why_pictures,
)
from tests.support.pictures import (
    two_lines,
    written,
    written_strokes,
)


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
    # Not larger: it is not too small.
    assert "Try writing the number more clearly, with a little space" in warning.value


def test_a_number_is_confirmed_or_corrected_digit_by_digit(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    confirm = shown(app).button(key="confirm_number")
    assert not confirm.disabled
    assert number_labels() == []
    # An empty field says how many digits it takes; the number read would look typed in.
    assert meant_field(app, "number").value == ""
    assert meant_field(app, "number").proto.placeholder == "4 digits"

    confirm.click().run()

    assert not app.exception
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 6)]
    assert f"Saved as **{NUMBER}**" in saved_line(app)
    # Said where it shows whatever is scrolled into view: the field may be at the screen's edge.
    assert [toast.value for toast in app.toast] == [f"Saved: **{NUMBER}**."]
    assert shown(app).button(key="confirm_number").disabled

    type_number(app, "number", "2,028")  # a mark typed between digits is left out

    assert not app.exception
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 8)]  # the same four, changed
    # The answer above stays the model's: the line says the correction was taken.
    corrected = "Saved as **2028**; you meant an 8 as the 4th digit, still read as a 6."
    assert corrected in saved_line(app)
    # Which digits their labels back, named: not "3 of its 4 digits", leaving the reader to
    # guess whether the 8 meant for the 4th was ignored.
    captions = [caption.value for caption in shown(app).caption]
    assert "The 1st, 2nd and 3rd digits read with your examples." in captions
    # The comma is not what was read, and is not learnt: the page says so.
    assert [toast.value for toast in app.toast] == [
        f"Changed to **2028**. {tabs.draw.feedback_row.MARKS_NOT_SAVED}"
    ]
    type_number(app, "number", "2028")  # Enter again
    assert [toast.value for toast in app.toast] == ["Already saved as **2028**."]
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 8)]
    assert tabs.draw.feedback_row.MARKS_NOT_SAVED not in (
        caption.value for caption in shown(app).caption
    )

    type_number(app, "number", "20.29")  # a point the reading has not: only digits are saved
    assert [toast.value for toast in app.toast] == [
        f"Changed to **2029**. {tabs.draw.feedback_row.MARKS_NOT_SAVED}"
    ]
    assert tabs.draw.feedback_row.MARKS_NOT_SAVED in (
        caption.value for caption in shown(app).caption
    )
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 9)]

    shown(app).button(key="confirm_number").click().run()  # as read, after all

    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 6)]
    assert f"Saved as **{NUMBER}**" in saved_line(app)
    assert meant_field(app, "number").value == ""  # not the 2028 typed before


def test_a_number_is_read_once_however_often_the_page_reruns(
    app, canvas, clear_digits, monkeypatch
):
    reads = counted(monkeypatch, tabs.draw.number, "read_number")
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    assert reads.calls == 1

    shown(app).button(key="confirm_number").click().run()
    app.toggle(key="why_number").set_value(True).run()

    assert not app.exception
    assert f"Saved as **{NUMBER}**" in saved_line(app)
    # Read again with the person's examples, which the click changed: its own digits now.
    assert "Read with your examples." in [caption.value for caption in shown(app).caption]
    assert why_pictures(app) == [f"Why {digit}" for digit in NUMBER]
    assert reads.calls == 1

    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, "19")
    app.run()  # a stroke more: another drawing, read afresh

    assert metric(app, "Prediction") == "19"
    assert reads.calls == 2


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
    assert "Try writing" not in warning.value


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
    # Said in full under the field; in short where a phone shows it, whatever is in view.
    assert [toast.value for toast in app.toast] == [tabs.draw.feedback_row.NUMBER_REFUSED_TOAST]
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
    # One piece has no digits to leave space between.
    assert warning.value.endswith("Try writing it larger and clearer.")


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


def test_a_number_saved_again_after_another_tab_deleted_it_is_saved_whole(
    app, canvas, clear_digits
):
    """A number saved, every label deleted in another tab, then one digit corrected in the
    first tab: all four digits are saved again, not only the one changed."""
    other = same_visitors_other_tab(app)
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    shown(app).button(key="confirm_number").click().run()
    delete_my_labels(other.run())
    assert number_labels() == []

    type_number(app, "number", "2028")

    assert not app.exception
    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 8)]
    assert [toast.value for toast in app.toast] == ["Saved: **2028**."]


def test_a_question_mark_leaves_a_digit_saved_before_as_it_was(app, canvas, clear_digits):
    canvas.drawings[tabs.draw.number.NUMBER_CANVAS_KEY] = written(clear_digits, NUMBER)
    choose(app.run(), tabs.draw.shared.A_NUMBER)
    type_number(app, "number", "?02?")

    assert number_labels() == [(0, 0), (2, 2)]
    assert "Saved as **?02?**" in saved_line(app)

    type_number(app, "number", "7???")

    assert number_labels() == [(0, 0), (2, 2), (2, 7)]
    assert "Saved as **702?**" in saved_line(app)
