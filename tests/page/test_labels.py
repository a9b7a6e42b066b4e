"""Labels given on the Draw tab under AppTest: the row saved for a confirmed or corrected
drawing, and the handwriting memory the labels make."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
import streamlit
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import AppTest

import tabs.common
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.one_digit
import tabs.draw.shared
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS
from feedback import store as feedback_store
from feedback.database import StorageUnavailable, create_engine
from reading import read_drawing
from tests.support.page_app import (
    RUN_TIMEOUT,
    answer,
    confirm_button,
    digit_picker,
    drawing,
    hints,
    metric_value,
    mis_tap_a_seven,
    open_tab,
    stored_labels,
    words_under,
)
from tests.support.page_modes import counted

LOAD_S = 30  # the most a test waits for a memory loading on a thread of its own


def percent(shown: str) -> int:
    """A share shown in whole percents, such as "97%"."""
    return int(shown.rstrip("%"))


def test_a_page_taken_over_by_another_server_shows_its_saved_drawing_saved(
    app, canvas, clear_digits, feedback_database
):
    canvas.drawing = drawing(clear_digits[3])
    app.session_state[tabs.common.SESSION_ID_KEY] = "a" * 32  # the browser's visitor id
    app.run()  # the first server reads the drawing and saves it
    confirm_button(app).click().run()
    assert len(stored_labels(feedback_database)) == 1

    # The server went away; another one gets the same browser's page, drawing and all, in a
    # new session of its first run.
    taken_over = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)
    taken_over.session_state[tabs.common.SESSION_ID_KEY] = "a" * 32
    taken_over.run()

    assert not taken_over.exception
    assert [toast.value for toast in taken_over.toast] == [tabs.draw.one_digit.RECONNECTED]
    assert answer(taken_over) == "3"
    assert confirm_button(taken_over).disabled
    assert any("Saved as a 3." in caption.value for caption in taken_over.caption)
    assert len(stored_labels(feedback_database)) == 1


def test_a_page_taken_over_says_so_even_when_a_rerun_stops_its_first_run_at_the_toast(
    app, canvas, clear_digits, monkeypatch
):
    # A rerun asked for while a run goes on stops it inside its next Streamlit call, before
    # that call sends anything: here the toast's.
    toasts = []
    send_toast = streamlit.toast

    def stopped_first_time(body, *args, **kwargs):
        toasts.append(body)
        if len(toasts) == 1:
            raise RerunException(RerunData())
        return send_toast(body, *args, **kwargs)

    monkeypatch.setattr(streamlit, "toast", stopped_first_time)
    canvas.drawing = drawing(clear_digits[3])
    app.run()  # a new session whose first run finds a drawing on the canvas

    assert not app.exception
    assert [toast.value for toast in app.toast] == [tabs.draw.one_digit.RECONNECTED]
    assert toasts == [tabs.draw.one_digit.RECONNECTED] * 2


def model_input(classifier, rgba: np.ndarray) -> bytes:
    """The 28x28 input the page reads from a canvas image, as the 784 bytes kept with a label."""
    return np.rint(read_drawing(classifier, rgba).image * 255).astype(np.uint8).tobytes()


def test_confirming_the_answer_saves_the_drawing_with_that_digit(
    app, canvas, clear_digits, classifier, feedback_database
):
    app.run()  # a visit starts with a blank canvas
    canvas.drawing = drawing(clear_digits[0])
    app.run()
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    assert confirm_button(app).help == "The answer 3 is right: save this drawing with it."
    # Strokes never touch the database: SQLite has not even created its file yet.
    assert not Path(sa.make_url(feedback_database).database).exists()

    confirm_button(app).click().run()

    assert not app.exception
    (label,) = stored_labels(feedback_database)
    assert (label.predicted_digit, label.true_digit) == (3, 3)
    assert label.confidence == pytest.approx(
        read_drawing(classifier, canvas.drawing).confidence, abs=1e-6
    )
    assert label.image == model_input(classifier, canvas.drawing)
    assert json.loads(label.strokes) == {"objects": []}  # what the canvas sent with the image
    assert label.session_id == app.session_state[tabs.common.SESSION_ID_KEY]
    assert [toast.value for toast in app.toast] == ["Saved: a 3."]
    assert any("Saved" in caption.value for caption in app.caption)
    assert confirm_button(app).disabled and not digit_picker(app).disabled
    assert confirm_button(app).help == "Saved already. Pick another digit to change it."
    assert digit_picker(app).value == 3
    assert answer(app) == "3"


def test_picking_the_digit_meant_saves_it_as_the_true_digit(
    app, canvas, clear_digits, feedback_database
):
    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    app.run()

    digit_picker(app).set_value(1).run()

    assert not app.exception
    (label,) = stored_labels(feedback_database)
    assert (label.predicted_digit, label.true_digit) == (7, 1)
    assert [toast.value for toast in app.toast] == ["Saved: a 1."]
    assert digit_picker(app).value == 1
    assert confirm_button(app).disabled
    # The answer stays the model's, the digit meant said under it.
    assert answer(app) == "7"
    assert words_under(app)["Prediction"] == "you meant a 1"


def test_two_clicks_on_the_same_drawing_store_it_once(app, canvas, clear_digits, feedback_database):
    canvas.drawing = drawing(clear_digits[3])
    app.run()

    # Both reach the server before the page has shown the row as saved: a quick double click.
    confirm_button(app).click()
    digit_picker(app).set_value(3)
    app.run()

    assert not app.exception
    (label,) = stored_labels(feedback_database)
    assert label.true_digit == 3
    assert [toast.value for toast in app.toast] == ["Already saved as a 3."]
    assert digit_picker(app).value == 3
    assert confirm_button(app).disabled


def test_two_quick_clicks_on_different_digits_keep_one_row_with_the_last(
    app, canvas, clear_digits, feedback_database
):
    canvas.drawing = drawing(clear_digits[3])
    app.run()

    confirm_button(app).click()
    digit_picker(app).set_value(5)
    app.run()

    assert not app.exception
    (label,) = stored_labels(feedback_database)
    assert label.true_digit in (3, 5)  # whichever click the server took last
    assert [toast.value for toast in app.toast] == [
        f"Changed to {tabs.draw.shared.a_digit(label.true_digit)}."
    ]
    assert digit_picker(app).value == label.true_digit
    assert any(
        f"Saved as {tabs.draw.shared.a_digit(label.true_digit)}." in caption.value
        for caption in app.caption
    )


def test_a_mis_tapped_digit_is_changed_not_saved_again(
    app, canvas, clear_digits, feedback_database
):
    canvas.drawing = drawing(clear_digits[4])
    app.run()
    digit_picker(app).set_value(8).run()
    assert [toast.value for toast in app.toast] == ["Saved: an 8."]  # as it is said aloud

    digit_picker(app).set_value(4).run()

    assert not app.exception
    (label,) = stored_labels(feedback_database)
    assert (label.predicted_digit, label.true_digit) == (4, 4)
    assert [toast.value for toast in app.toast] == ["Changed to a 4."]
    assert any("Saved as a 4." in caption.value for caption in app.caption)
    assert digit_picker(app).value == 4
    assert words_under(app)["Prediction"] == ""  # the answer is the digit meant
    # The digit picked, clicked again, stays picked: a label is changed, never dropped.
    digit_picker(app).set_value(None).run()
    assert digit_picker(app).value == 4
    assert [label.true_digit for label in stored_labels(feedback_database)] == [4]
    history = open_tab(app, "History").tabs[1]
    figures = {metric.label: metric.value for metric in history.metric}
    assert (figures["Labelled drawings"], figures["Misread"]) == ("1", "0")


def test_an_example_of_another_digit_that_looks_alike_is_said_to_make_the_answer_less_sure(
    app, canvas, clear_digits, classifier
):
    """A 7 labelled as the digit the model next takes it for: read again elsewhere, the 7
    stays the answer, less surely, and the page says why. Forgetting the examples undoes it."""
    probabilities = read_drawing(classifier, drawing(clear_digits[7])).probabilities.copy()
    probabilities[7] = 0
    runner_up = int(np.argmax(probabilities))
    canvas.drawing = drawing(clear_digits[7])
    app.run()
    digit_picker(app).set_value(runner_up).run()
    said = f"Less sure: it looks like your example of {tabs.draw.shared.a_digit(runner_up)}."
    assert said not in hints(app)  # its own label: "you meant" says so already

    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    app.run()

    assert not app.exception
    assert answer(app) == "7"
    assert said in hints(app)
    less_sure = metric_value(app, tabs.draw.shared.CONFIDENCE)
    app.button(key="forget_examples").click().run()
    assert [toast.value for toast in app.toast] == [tabs.draw.shared.FORGOTTEN]
    assert said not in hints(app)
    assert percent(metric_value(app, tabs.draw.shared.CONFIDENCE)) > percent(less_sure)


def test_a_label_changed_in_one_tab_is_the_example_another_tab_reads_with(
    app, canvas, clear_digits, classifier
):
    """A 7 mis-tapped as the digit it is next taken for, in one tab: another tab of the same
    visitor reads a 7 less surely for it, and no longer once the first tab changes the label
    to a 7, though no label was added or removed."""
    other, said = mis_tap_a_seven(app, canvas, clear_digits, classifier)
    assert said in hints(other)

    canvas.drawing = drawing(clear_digits[7])
    app.run()
    digit_picker(app).set_value(7).run()
    assert [toast.value for toast in app.toast] == ["Changed to a 7."]

    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    other.run()

    assert not other.exception
    assert answer(other) == "7"
    assert said not in hints(other)


def test_a_label_given_while_the_memory_loads_is_kept_through_the_load(
    classifier, clear_digits, tmp_path
):
    """The first load reads the saved labels, then a label is given before it is done: the
    memory it leaves holds that label, and forgetting forgets it."""
    engine = create_engine(f"sqlite:///{tmp_path / 'feedback.db'}")
    store = feedback_store.FeedbackStore(engine)
    labels_read, go_on = threading.Event(), threading.Event()
    saved_labels = store.examples

    def slowly(whose, limit):
        found = saved_labels(whose, limit)  # the labels as they stand when asked
        labels_read.set()
        go_on.wait(LOAD_S)
        return found

    store.examples = slowly
    examples = tabs.draw.shared.Examples()
    examples.loading = threading.Thread(target=examples.load, args=(store, "mine", classifier))
    examples.loading.start()
    try:
        assert labels_read.wait(LOAD_S)
        examples.learn(read_drawing(classifier, drawing(clear_digits[3])), 3, "drawing-3")
    finally:
        go_on.set()
        examples.loading.join(LOAD_S)
    engine.dispose()

    assert len(examples.memory) == 1
    examples.forget()
    assert len(examples.memory) == 0 and not examples.learnt_while_loading


def test_a_drawing_read_with_its_own_label_alone_says_so(app, canvas, clear_digits):
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()

    assert "Read with your label." in hints(app)

    canvas.drawing = drawing(clear_digits[3], PLACEMENTS[2])  # another drawing, not labelled
    app.run()

    assert answer(app) == "3"
    assert "Read with 1 of your examples." in hints(app)
    assert "Read with your label." not in hints(app)


@pytest.mark.parametrize(
    ("digits", "said"),
    [
        ((8,), "Less sure: it looks like your example of an 8."),
        ((1, 1), "Less sure: it looks like 2 of your examples of a 1."),
        ((1, 4, 4, 8), "Less sure: it looks like your examples of a 1, a 4 and an 8."),
    ],
)
def test_examples_of_other_digits_are_named_by_their_digits(digits, said):
    assert tabs.draw.shared.examples_against_said(digits) == said


@pytest.mark.parametrize(
    ("against", "said"),
    [
        ([(2, (6,))], "Less sure: the 2nd digit looks like your example of a 6."),
        (
            [(1, (7,)), (3, (1, 1)), (11, (4, 8))],
            "Less sure: the 1st digit looks like your example of a 7, the 3rd like 2 of your "
            "examples of a 1 and the 11th like your examples of a 4 and an 8.",
        ),
    ],
)
def test_a_numbers_digits_are_said_with_the_examples_each_looks_like(against, said):
    assert tabs.draw.shared.pieces_against_said(against) == said


def test_a_labelled_drawing_no_longer_asks_for_the_digit_meant(
    app, canvas, clear_digits, monkeypatch
):
    """Read again with its label as an example, a drawing can still leave the model unsure:
    the page no longer asks for the digit it has just been given."""
    monkeypatch.setattr(
        tabs.draw.one_digit, "UNSURE_BELOW", 1.01
    )  # every answer unsure, whatever the model
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    (warning,) = app.warning
    assert warning.value.startswith("Not sure")
    assert words_under(app)["Prediction"].startswith("or a")

    digit_picker(app).set_value(5).run()

    assert not app.exception
    assert not app.tabs[0].warning
    assert words_under(app)["Prediction"] == "you meant a 5"  # no doubt any more
    assert any("Saved as a 5." in caption.value for caption in app.caption)


def test_a_change_the_database_cannot_keep_says_what_is_still_saved(
    app, canvas, clear_digits, feedback_database, monkeypatch
):
    canvas.drawing = drawing(clear_digits[4])
    app.run()
    digit_picker(app).set_value(9).run()

    def unavailable(self, label):
        raise StorageUnavailable("Saving feedback", "the server went away")

    monkeypatch.setattr(feedback_store.FeedbackStore, "save", unavailable)
    digit_picker(app).set_value(4).run()

    assert not app.exception
    (warning,) = app.tabs[0].warning
    assert tabs.draw.feedback_row.UNAVAILABLE in warning.value
    assert "still saved as a 9" in warning.value
    assert digit_picker(app).value == 9
    assert [label.true_digit for label in stored_labels(feedback_database)] == [9]


def test_a_click_under_an_answer_does_not_read_its_drawing_again(
    app, canvas, clear_digits, monkeypatch
):
    reads = counted(monkeypatch, tabs.draw.one_digit, "see_drawing")
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    assert reads.calls == 1

    confirm_button(app).click().run()  # the same drawing, now labelled: read with its label

    assert any("Saved as a 3." in caption.value for caption in app.caption)
    assert "Read with your label." in hints(app)
    assert reads.calls == 1

    canvas.drawing = drawing(clear_digits[1], PLACEMENTS[1])  # a new drawing is read afresh
    app.run()

    assert answer(app) == "1"
    assert reads.calls == 2


def test_a_new_stroke_makes_a_new_drawing_to_label(app, canvas, clear_digits, feedback_database):
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()

    canvas.drawing = np.minimum(canvas.drawing, drawing(clear_digits[1], PLACEMENTS[1]))
    app.run()
    assert not confirm_button(app).disabled
    assert digit_picker(app).value is None
    assert not any("Saved" in caption.value for caption in app.caption)

    digit_picker(app).set_value(8).run()

    assert [label.true_digit for label in stored_labels(feedback_database)] == [3, 8]
