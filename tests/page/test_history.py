"""The History tab under AppTest: a visitor's own labels, their deletion, everyone's
accuracy, and the owner's view and downloads behind a secret."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageColor
from streamlit.testing.v1 import AppTest

import tabs.common
import tabs.draw
import tabs.draw.shared
import tabs.history
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS
from feedback import access, downloads
from feedback import export as feedback_export
from feedback import store as feedback_store
from feedback.database import create_engine
from feedback.labels import LabelledDrawing
from feedback.rate_limit import SAVES
from tabs import charts
from tests.support.colours import contrast, theme_background
from tests.support.page_app import (
    RUN_TIMEOUT,
    answer,
    chart_rows,
    confirm_button,
    delete_my_labels,
    digit_picker,
    drawing,
    guess_owner_secret,
    hints,
    mis_tap_a_seven,
    open_tab,
    probability_bars,
    same_visitors_other_tab,
    stored_labels,
)


def test_history_lists_labels_newest_first_with_accuracy_and_confusion(
    app, canvas, clear_digits, not_a_digit, feedback_database
):
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[2])
    app.run()
    digit_picker(app).set_value(1).run()
    # Answered "Not a digit": whatever digit the model leaned to, the page gave none.
    canvas.drawing = drawing(not_a_digit)
    app.run()
    assert answer(app) == tabs.draw.shared.NOT_A_DIGIT
    leaned_to = np.argmax([bar["probability"] for bar in probability_bars(app)])
    digit_picker(app).set_value(int(leaned_to)).run()

    history = open_tab(app, "History").tabs[1]

    assert not app.exception
    figures = {metric.label: metric.value for metric in history.metric}
    assert figures["Accuracy"] == "33.3%"
    assert figures["Labelled drawings"] == "3"
    assert figures["Misread"] == "2"
    (table,) = history.dataframe
    rows = table.value
    assert list(rows["Answer"]) == [charts.NO_DIGIT_ANSWER, "7", "3"]
    # What was answered and what was meant side by side, first, where a phone shows them.
    assert list(rows.columns) == ["Drawing", "Answer", "True digit", "Right", "Confidence", "Time"]
    assert list(rows["True digit"]) == [str(leaned_to), "1", "3"]
    assert any(caption.value.startswith("All 3, newest first") for caption in history.caption)
    assert list(rows["Right"]) == ["✗", "✗", "✓"]
    stored = stored_labels(feedback_database)[::-1]
    assert list(rows["Drawing"]) == [
        tabs.history.thumbnail(np.frombuffer(label.image, np.uint8).reshape(28, 28))
        for label in stored
    ]
    # In whole percents, as the Draw tab shows the confidence; a dash where it showed none.
    assert pd.isna(rows["Confidence"][0])
    assert table.proto.placeholder == tabs.common.NO_VALUE
    assert list(rows["Confidence"][1:]) == [
        int(f"{label.confidence:.0%}"[:-1]) for label in stored[1:]
    ]
    columns = json.loads(table.proto.columns)
    assert columns["Confidence"]["type_config"]["format"] == "%.0f%%"
    # The answer given then, though the Draw tab now reads the drawing with its label.
    assert columns["Answer"]["help"] == tabs.history.ANSWER_HELP
    assert rows["Time"].is_monotonic_decreasing
    (confusion,) = history.get("vega_lite_chart")
    cells = {(cell["true"], cell["predicted"]): cell["count"] for cell in chart_rows(confusion)}
    assert len(cells) == 110
    assert {cell: count for cell, count in cells.items() if count} == {
        ("3", "3"): 1,
        ("1", "7"): 1,
        (str(leaned_to), charts.NO_DIGIT_ANSWER): 1,
    }
    links = history.get("link_button")
    assert [link.proto.label for link in links] == ["CSV", ".npz training set"]
    urls = [link.proto.url for link in links]
    assert urls[0].startswith("downloads/") and urls[0].endswith("/feedback.csv")
    assert urls[1] == urls[0].replace("feedback.csv", "feedback.npz")
    # The link is this visitor's: it covers the labels of this session only.
    grant = downloads.links_for(feedback_store.configured_store({})).find(urls[0].split("/")[1])
    assert grant.session_id == app.session_state[tabs.common.SESSION_ID_KEY]
    assert not any("fine-tune" in caption.value for caption in history.caption)
    # The drawing is still there on the Draw tab, read now with the label it was given.
    assert answer(app) == str(leaned_to)


def test_a_history_thumbnail_is_the_drawing_dark_on_light():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 13:15] = 255  # a 1, as the database stores it
    url = tabs.history.thumbnail(image, scale=2)
    assert url.startswith("data:image/png;base64,")
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert picture.shape == (56, 56)
    assert picture[0, 0] == 255 and picture[28, 28] < 64


def test_a_confusion_matrix_cell_nothing_fell_into_is_faint_on_either_theme():
    """Vega-Lite draws the same colours whatever the theme: an empty cell is a faint shade
    of the page's own background, light or dark, not a white block on a dark page."""
    translucent = re.fullmatch(r"rgba\((\d+), (\d+), (\d+), ([\d.]+)\)", charts.EMPTY_CELL)
    opaque = (*ImageColor.getrgb(charts.EMPTY_CELL), 1) if translucent is None else None
    red, green, blue, alpha = opaque or translucent.groups()
    cell = np.array([red, green, blue], float)
    for theme in ("light", "dark"):
        background = theme_background(theme)
        shown = float(alpha) * cell + (1 - float(alpha)) * background
        assert 1.02 < contrast(shown, background) < 1.3, theme


def test_history_without_labels_says_how_to_add_some(app, canvas):
    open_tab(app.run(), "History")

    assert not app.exception
    assert [info.value for info in app.tabs[1].info] == [tabs.history.NO_LABELS_HINT]
    assert len(app.tabs[1].dataframe) == 0


def labels_from_other_visitors(url: str, count: int) -> None:
    """Labels given in other sessions, saved beside the page."""
    engine = create_engine(url)
    store = feedback_store.FeedbackStore(engine)
    for index in range(count):
        image = np.zeros((28, 28), np.uint8)
        image[10:18, 12 + index] = 255
        store.save(LabelledDrawing(f"someone-else-{index}", 1, 0.9, 1, image))
    engine.dispose()


def test_history_lists_only_this_visitors_labels_and_everyones_accuracy(
    app, canvas, clear_digits, feedback_database
):
    labels_from_other_visitors(feedback_database, 2)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()

    history = open_tab(app, "History").tabs[1]

    assert not app.exception
    figures = {metric.label: metric.value for metric in history.metric}
    assert figures["Labelled drawings"] == "3"  # accuracy counts everyone's labels...
    (table,) = history.dataframe
    assert list(table.value["Answer"]) == ["3"]  # ...the list shows this visitor's only
    assert any("Your latest labels" in text.value for text in history.markdown)
    assert not history.get("text_input")  # no owner secret set: nobody sees everyone's


def test_a_visitor_deletes_their_own_labels_once_they_confirm(
    app, canvas, clear_digits, feedback_database
):
    labels_from_other_visitors(feedback_database, 2)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    open_tab(app, "History")
    assert "The only one so far; times in UTC." in [caption.value for caption in app.caption]

    (delete,) = [button for button in app.button if button.label == tabs.history.DELETE_TEXT]
    delete.click().run()
    assert len(stored_labels(feedback_database)) == 3  # not before they confirm
    (keep,) = [button for button in app.button if button.label == tabs.history.KEEP_TEXT]
    keep.click().run()
    (delete,) = [button for button in app.button if button.label == tabs.history.DELETE_TEXT]
    delete.click().run()
    (confirm,) = [
        button for button in app.button if button.label == tabs.history.DELETE_CONFIRM_TEXT
    ]
    confirm.click().run()

    assert not app.exception
    assert len(stored_labels(feedback_database)) == 2  # the other visitors' stay
    assert "Deleted your 1 label." in [success.value for success in app.success]
    # Said where it shows whatever is scrolled into view: the button lies at the tab's end.
    assert [toast.value for toast in app.toast] == ["Deleted your 1 label."]
    assert tabs.history.NO_OWN_LABELS_HINT in [info.value for info in app.info]
    # The Draw tab no longer says the drawing is saved, nor reads it with its label.
    app.run()
    assert not confirm_button(app).disabled
    said = [caption.value for caption in app.caption]
    assert not [line for line in said if "Saved as" in line or "your " in line], said


def test_the_owner_with_the_secret_sees_and_downloads_everyones_labels(
    app, canvas, feedback_database, monkeypatch
):
    secret = "a long owner secret, not a guessable one"
    monkeypatch.setenv(access.OWNER_SECRET_VARIABLE, secret)
    labels_from_other_visitors(feedback_database, 2)
    app.run()
    history = open_tab(app, "History").tabs[1]
    assert [info.value for info in history.info] == [tabs.history.NO_OWN_LABELS_HINT]
    assert not history.get("link_button")  # nothing of this visitor's to download

    app.text_input(key=tabs.history.OWNER_SECRET_INPUT_KEY).input("a guess").run()
    assert "not the owner secret" in app.tabs[1].error[0].value
    assert not app.tabs[1].dataframe

    app.text_input(key=tabs.history.OWNER_SECRET_INPUT_KEY).input(secret).run()
    history = app.tabs[1]
    assert not app.exception
    (table,) = history.dataframe
    assert len(table.value) == 2
    links = history.get("link_button")
    store = feedback_store.configured_store({})
    assert downloads.links_for(store).find(links[0].proto.url.split("/")[1]).session_id is None
    (how_to_finetune,) = (c.value for c in history.caption if "fine-tune" in c.value)
    assert "python train_model.py finetune --data " in how_to_finetune
    assert f"at least {feedback_export.MIN_FEEDBACK} labelled drawings" in how_to_finetune


@pytest.fixture
def few_owner_guesses(monkeypatch) -> None:
    """The owner secret may be guessed twice per session and three times on the server."""
    monkeypatch.setattr(
        tabs.common, "GUESSES", dataclasses.replace(access.GUESSES, per_visitor=2, per_server=3)
    )


def test_guessing_the_owner_secret_is_limited_and_a_new_session_does_not_reset_it(
    canvas, feedback_database, monkeypatch, few_owner_guesses, caplog
):
    secret = "a long owner secret, not a guessable one"
    monkeypatch.setenv(access.OWNER_SECRET_VARIABLE, secret)
    labels_from_other_visitors(feedback_database, 2)
    first = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()
    open_tab(first, "History")

    assert "not the owner secret" in guess_owner_secret(first, "guess one")
    assert "not the owner secret" in guess_owner_secret(first, "guess two")
    refused = guess_owner_secret(first, secret)  # right, but this session has guessed enough
    assert "Too many guesses of the owner secret from this browser" in refused
    assert not first.tabs[1].dataframe

    second = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()
    open_tab(second, "History")
    assert "not the owner secret" in guess_owner_secret(second, "guess three")
    refused = guess_owner_secret(second, secret)  # a new session: the server's limit holds
    assert "Too many guesses of the owner secret for the whole app" in refused
    assert not second.tabs[1].dataframe
    wrong = [r for r in caplog.records if "wrong owner secret" in r.getMessage()]
    assert len(wrong) == 3 and all(r.levelname == "WARNING" for r in wrong)


def test_saving_faster_than_a_person_labels_is_refused_with_when_to_try_again(
    app, canvas, clear_digits, feedback_database, monkeypatch
):
    monkeypatch.setattr(tabs.common, "SAVES", dataclasses.replace(SAVES, per_visitor=2))
    for digit, placement in ((3, 0), (7, 1), (1, 2)):
        canvas.drawing = drawing(clear_digits[digit], PLACEMENTS[placement])
        app.run()
        confirm_button(app).click().run()

    assert not app.exception
    assert [label.true_digit for label in stored_labels(feedback_database)] == [3, 7]
    (error,) = app.error
    assert "2 labels in a minute" in error.value and "Try again in" in error.value
    assert not confirm_button(app).disabled  # the same drawing can be saved later


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("America", "UTC"),  # an area: a directory in the tz database
        ("Not/A_Zone", "UTC"),
        ("../../etc/passwd", "UTC"),
        ("", "UTC"),
        (None, "UTC"),
    ],
)
def test_a_browser_time_zone_that_is_not_a_zone_falls_back_to_utc(name, expected):
    assert str(tabs.history.time_zone(name)) == expected


def saved_lines(at: AppTest) -> list[str]:
    """The captions under the Draw tab's answer that say its drawing is saved."""
    return [caption.value for caption in at.caption if "Saved as" in caption.value]


@pytest.mark.parametrize("given_anew", [0, 1, 2])
def test_labels_deleted_in_another_tab_show_saved_there_no_more(
    app, canvas, clear_digits, given_anew
):
    """A visitor's first label, just saved in one tab, then deleted in another, where new
    labels may be given before the first tab reads again: the first tab shows its drawing
    unsaved again, to be confirmed anew, as the tab that deleted it would."""
    other = same_visitors_other_tab(app)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    assert saved_lines(app) == ["✓ Saved as a 3. Pick another digit to change it."]

    canvas.drawing = None
    other.run()
    delete_my_labels(other)
    assert [toast.value for toast in other.toast] == ["Deleted your 1 label."]
    open_tab(other, "Draw")
    for digit in (5, 6)[:given_anew]:
        canvas.drawing = drawing(clear_digits[digit])
        other.run()
        confirm_button(other).click().run()
        assert saved_lines(other) == [
            f"✓ Saved as {tabs.draw.shared.a_digit(digit)}. Pick another digit to change it."
        ]

    canvas.drawing = drawing(clear_digits[3])
    app.run()

    assert not app.exception
    assert saved_lines(app) == []
    assert not confirm_button(app).disabled
    assert digit_picker(app).value is None


def test_a_label_given_in_a_tab_just_after_another_deleted_them_all_shows_saved(
    app, canvas, clear_digits, feedback_database
):
    """A drawing saved in one tab, every label deleted in another, and the first tab's next
    move a new digit picked for that drawing: it is saved anew, said so, and shown saved."""
    other = same_visitors_other_tab(app)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    canvas.drawing = None
    other.run()
    delete_my_labels(other)
    canvas.drawing = drawing(clear_digits[3])

    digit_picker(app).set_value(5).run()

    assert not app.exception
    assert [toast.value for toast in app.toast] == ["Saved: a 5."]
    assert saved_lines(app) == ["✓ Saved as a 5. Pick another digit to change it."]
    assert [row.true_digit for row in stored_labels(feedback_database)] == [5]


def test_labels_deleted_then_given_anew_in_one_tab_are_the_examples_another_reads_with(
    app, canvas, clear_digits, classifier, feedback_database
):
    """A 7 mis-tapped as the digit it is next taken for makes another tab read a 7 less
    surely. Deleted, then a drawing of that other digit labelled: the database may number the
    new label as the deleted one (SQLite does), yet the other tab reads the 7 surely again."""
    other, said = mis_tap_a_seven(app, canvas, clear_digits, classifier)
    assert said in hints(other)
    (mistapped,) = [row.true_digit for row in stored_labels(feedback_database)]

    delete_my_labels(app)
    open_tab(app, "Draw")
    canvas.drawing = drawing(clear_digits[mistapped])
    app.run()
    confirm_button(app).click().run()
    assert [row.true_digit for row in stored_labels(feedback_database)] == [mistapped]

    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    other.run()

    assert not other.exception
    assert answer(other) == "7"
    assert said not in hints(other)


def test_labels_forgotten_in_another_tab_still_show_saved(app, canvas, clear_digits):
    """Forget all, in another tab, stops the labels from shaping readings but keeps them saved:
    the first tab still shows its drawing saved."""
    other = same_visitors_other_tab(app)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()

    canvas.drawing = drawing(clear_digits[3], PLACEMENTS[1])
    other.run()  # the other tab starts loading the visitor's labels...
    other.run()  # ...and its next reading waits for them, and reads with the label
    other.button(key="forget_examples").click().run()
    assert [toast.value for toast in other.toast] == [tabs.draw.shared.FORGOTTEN]

    canvas.drawing = drawing(clear_digits[3])
    app.run()

    assert not app.exception
    assert saved_lines(app) == ["✓ Saved as a 3. Pick another digit to change it."]
    assert confirm_button(app).disabled
