"""The page under Streamlit's AppTest, with real drawings handed in where the canvas would be.

The canvas is a browser component and cannot draw inside AppTest, so these tests put a
stand-in `streamlit_drawable_canvas` module in its place: the page imports it as usual and
gets the canvas image a person's drawing would produce. The browser tests drive the real one.
Labels go to a SQLite file made for each test, or to a real PostgreSQL server, and are read
back with SQLAlchemy, beside the page.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import re
import shutil
import sys
import threading
import types
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from PIL import Image
from streamlit.testing.v1 import AppTest

import digit_model
import tabs.common
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.one_digit
import tabs.draw.shared
import tabs.history
import tabs.model_card
import webapp
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS, Digit
from devtools.pictures import png
from feedback import access, downloads
from feedback import export as feedback_export
from feedback import store as feedback_store
from feedback.database import StorageUnavailable, create_engine
from feedback.labels import LabelledDrawing
from feedback.rate_limit import SAVES, DatabaseWindow
from feedback.schema import download_link_table, feedback_table
from feedback.visitor import VISITOR_COOKIE, labels_id, new_visitor_id
from reading import UNSURE_BELOW, read_drawing
from tabs import charts
from tests.support.pictures import side_by_side

RUN_TIMEOUT = 120  # seconds; the first run imports TensorFlow and loads the model
LOAD_S = 30  # the most a test waits for a memory loading on a thread of its own
UNREACHABLE_URL = "postgresql+psycopg://digits:hunter2@127.0.0.1:1/digits"  # nothing on port 1


class FakeCanvas:
    """Stands in for `st_canvas`: hands the page `drawing` as the canvas's PNG and records how
    it was set up."""

    def __init__(self) -> None:
        self.drawing: np.ndarray | None = None
        self.strokes: dict = {"objects": []}
        self.calls: list[dict] = []

    def __call__(self, **options) -> types.SimpleNamespace:
        self.calls.append(options)
        image = None if self.drawing is None else png(self.drawing)
        return types.SimpleNamespace(image_bytes=image, json_data=self.strokes)


@pytest.fixture
def canvas(monkeypatch) -> FakeCanvas:
    fake = FakeCanvas()
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = fake
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return fake


@pytest.fixture(autouse=True)
def feedback_database(tmp_path, monkeypatch) -> str:
    """A SQLite file of this test's own for the page's labels; its URL."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    return url


@pytest.fixture
def app(monkeypatch) -> AppTest:
    """The page with the committed model."""
    monkeypatch.delenv(digit_model.MODEL_PATH_VARIABLE, raising=False)
    return AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)


def open_tab(at: AppTest, label: str) -> AppTest:
    """Switch the page to a tab, as a click on it does (the tabs rerun the page)."""
    at.session_state[webapp.TAB_KEY] = label
    return at.run()


def drawing(digit: Digit, placement: tuple[int, int, int] = PLACEMENTS[0]) -> np.ndarray:
    return digit.image(*placement)


def answer(at: AppTest) -> str | None:
    """The value of the "Prediction" metric, or None when the page shows no answer."""
    values = [metric.value for metric in at.metric if metric.label == tabs.draw.shared.PREDICTION]
    assert len(values) <= 1
    return values[0] if values else None


def metric_value(at: AppTest, label: str) -> str:
    """The value the one metric with this label shows."""
    (value,) = [metric.value for metric in at.metric if metric.label == label]
    return value


def percent(shown: str) -> int:
    """A share shown in whole percents, such as "97%"."""
    return int(shown.rstrip("%"))


def words_under(at: AppTest) -> dict[str, str]:
    """The few words under each metric's value (its delta), by the metric's label."""
    return {metric.label: metric.proto.delta for metric in at.metric}


def chart_rows(chart) -> list[dict]:
    """The data rows of a Vega-Lite chart element, which Streamlit sends as Arrow."""
    return pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()


def shown_values(table) -> pd.DataFrame:
    """A table's cells as the page shows them (its formatted text), not the numbers behind."""
    display = table.proto.arrow_data.styler.display_values
    return pa.ipc.open_stream(display).read_all().to_pandas()


def probability_bars(at: AppTest) -> list[dict]:
    """The Draw tab's ten probability bars as the page shows them: the digit each names to a
    screen reader, the probability its height shows and its colour."""
    (bars,) = [
        html.proto.body for html in at.tabs[0].get("html") if "digit-bars" in html.proto.body
    ]
    return [
        {"digit": digit, "probability": float(height) / 100, "colour": colour}
        for digit, height, colour in re.findall(
            r'aria-label="digit: (\d);.*?height: ([\d.]+)%; background: (#\w+)', bars
        )
    ]


def hints(at: AppTest) -> list[str]:
    """The captions on the Draw tab."""
    return [caption.value for caption in at.tabs[0].caption]


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


def test_model_card_shows_the_figures_from_the_metrics_file(app, canvas):
    metrics = digit_model.load_metrics()
    assert metrics is not None, "the committed model has no metrics file beside it"
    app.run()
    assert len(app.tabs[2].metric) == 0  # built only once the tab is opened
    open_tab(app, "Model card")

    card = app.tabs[2]
    # In words first: every unseen source's digits and letters counted together.
    (in_short,) = [text.value for text in card.markdown if text.value.startswith("**In short")]
    sources = metrics.unseen_sources.values()
    digits = sum(source.samples for source in sources)
    read = sum(source.accuracy * source.samples for source in sources) / digits
    assert f"reads {read:.1%} of the digits written by people kept out of its training" in in_short
    letters = sum(source.letters for source in sources)
    flagged = sum((source.letters_flagged or 0) * source.letters for source in sources) / letters
    assert f'says "not a digit" to {flagged:.1%} of handwritten letters' in in_short
    figures = {metric.label: metric.value for metric in card.metric}
    assert figures["Test accuracy"] == f"{metrics.test_accuracy:.2%}"
    assert figures["Parameters"] == f"{metrics.parameters:,}"
    assert figures["File size"] == f"{metrics.file_size_bytes / 1e6:.2f} MB"
    (canvas_style,) = [metric for metric in card.metric if metric.label == "Canvas-style accuracy"]
    assert canvas_style.value == f"{metrics.canvas.accuracy:.2%}"
    assert f"{metrics.canvas.samples:,} drawings." in canvas_style.proto.help
    flagged = f"{metrics.canvas.digits_flagged:.1%} of them were called not a digit."
    assert flagged in canvas_style.proto.help
    layers = card.dataframe[0]
    assert list(layers.value["Layer"]) == [layer.layer for layer in metrics.architecture]

    card_charts = list(card.get("vega_lite_chart"))
    per_digit, confusion = (chart_rows(chart) for chart in card_charts[:2])
    accuracy_curve, loss_curve = (chart_rows(chart) for chart in card_charts[-2:])
    assert [bar["accuracy"] for bar in per_digit] == metrics.per_digit_accuracy
    # Whole bars from zero: the share misread, which differs from digit to digit.
    assert [bar["misread"] for bar in per_digit] == [1 - a for a in metrics.per_digit_accuracy]
    per_digit_spec = json.loads(card_charts[0].proto.spec)
    assert per_digit_spec["encoding"]["y"]["scale"]["zero"] is True
    # Each bar is labelled with what it shows, and the tallest has room above it for its label.
    (labels,) = [layer for layer in per_digit_spec["layer"] if layer["mark"]["type"] == "text"]
    assert labels["encoding"]["text"]["field"] == "misread"
    tallest = max(bar["misread"] for bar in per_digit)
    assert per_digit_spec["encoding"]["y"]["scale"]["domainMax"] > tallest
    # Loss on a linear scale fitted to it, where its fall shows.
    loss_scale = json.loads(card_charts[-1].proto.spec)["encoding"]["y"]["scale"]
    assert loss_scale.get("type", "linear") == "linear" and loss_scale["zero"] is False
    cells = {(cell["true"], cell["predicted"]): cell["count"] for cell in confusion}
    assert cells == {
        (str(true), str(predicted)): count
        for true, row in enumerate(metrics.confusion_matrix)
        for predicted, count in enumerate(row)
    }
    training = [point["accuracy"] for point in accuracy_curve if point["split"] == "training"]
    assert training == metrics.history["accuracy"]
    validation = [point["loss"] for point in loss_curve if point["split"] == "validation"]
    assert validation == metrics.history["val_loss"]


def test_the_model_cards_summary_says_what_an_older_metrics_file_holds():
    metrics = digit_model.load_metrics()
    pen_only = dataclasses.replace(
        metrics, unseen_sources=None, unseen_calibration=None, leave_one_site_out=None
    )
    said = tabs.model_card.plain_summary(pen_only)
    assert said.startswith(
        f"The model reads {metrics.pen.accuracy:.1%} of the digits written by people kept out "
        f"of its training correctly ({metrics.pen.samples:,} digits)."
    )
    assert "tuned" not in said and "pen site" not in said

    mnist_only = dataclasses.replace(pen_only, pen=None)
    said = tabs.model_card.plain_summary(mnist_only)
    assert said.startswith(
        f"The model reads {metrics.test_accuracy:.1%} of the {metrics.test_samples:,} digits "
        "it was tested on correctly."
    )
    assert '"not a digit"' not in said

    never_refused = dataclasses.replace(metrics.pen, digits_flagged=0.0)
    said = tabs.model_card.plain_summary(dataclasses.replace(pen_only, pen=never_refused))
    assert 'It calls none of the real digits "not a digit".' in said


def test_model_card_describes_the_model_loaded_not_one_written_over_it(
    canvas, tmp_path, monkeypatch
):
    model_file = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_file)
    metrics_file = digit_model.metrics_path(model_file)
    shutil.copy(digit_model.metrics_path(digit_model.DEFAULT_PATH), metrics_file)
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_file))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)
    app.run()  # the page loads the model, and keeps it until the server restarts
    figures = json.loads(metrics_file.read_text())
    model_file.write_bytes(model_file.read_bytes() + b"retrained")
    metrics_file.write_text(json.dumps(figures | {"test_accuracy": 0.5}))
    open_tab(app, "Model card")

    assert not app.exception
    shown = {metric.label: metric.value for metric in app.tabs[2].metric}
    assert shown["Test accuracy"] == f"{figures['test_accuracy']:.2%}"


def test_model_card_shows_pen_handwriting_and_calibration_when_measured(
    tmp_path, monkeypatch, canvas
):
    metrics = digit_model.load_metrics().to_dict()
    bins = [
        {"low": 0.6, "high": 0.8, "confidence": 0.71, "accuracy": 0.64, "samples": 40},
        {"low": 0.8, "high": 1.0, "confidence": 0.97, "accuracy": 0.98, "samples": 960},
    ]
    metrics["pen"].update(
        accuracy=0.9512,
        samples=4000,
        writers=120,
        letters_flagged=0.873,
        letters=2500,
        digits_flagged=0.011,
        calibration={"ece": 0.0123, "samples": 4000, "bins": bins},
        by_site={"site a": 0.97},
        letters_by_site={"site a": 0.912},
    )
    metrics["unseen_calibration"] = {"ece": 0.0123, "samples": 4000, "bins": bins}
    metrics["unseen_sources"]["UNIPEN apa"]["accuracy"] = 0.9612
    del metrics["unseen_sources"]["CVL valid"]["confusion_matrix"]  # as metrics before it had
    confusion = np.diag([50] * 10)
    confusion[0, [4, 9]] = 20, 9
    confusion[1, 7] = 11
    left_out = {
        **metrics["unseen_sources"]["UNIPEN apa"],
        "accuracy": 0.9377,
        "writers": 4,
        "confusion_matrix": confusion.tolist(),
        "letters_read_as": {"a": [3, 0, 12] + [0] * 7, "y": [0] * 4 + [9] + [0] * 5},
    }
    tos = {**metrics["unseen_sources"]["UNIPEN tos"], "letters_read_as": {"a": [0, 0, 2] + [0] * 7}}
    coarse = {**metrics["unseen_sources"]["CVL valid"], "accuracy": 0.9471}
    metrics["scanned"] = {"28 px": metrics["unseen_sources"]["CVL valid"], "16 px": coarse}
    blocky = {**metrics["unseen_sources"]["UNIPEN tos"], "accuracy": 0.9234}
    metrics["coarse_scans"] = {"UNIPEN tos, 16x16": blocky}
    quick = {"epochs": 4, "mnist_digits": 15000, "sites": {"uqb": left_out, "tos": tos}}
    full_size = {
        "epochs": 12,
        "mnist_digits": 60000,
        "sites": {"uqb": {**left_out, "accuracy": 0.9833}},
    }
    metrics["leave_one_site_out"] = [quick, full_size]
    model_path = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_path)
    digit_model.metrics_path(model_path).write_text(json.dumps(metrics))
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_path))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()
    open_tab(app, "Model card")

    assert not app.exception
    card = app.tabs[2]
    figures = {metric.label: metric.value for metric in card.metric}
    assert figures["Pen digits, known sites"] == "95.12%"
    assert figures["Their letters flagged"] == "87.30%"
    assert figures["Calibration error"] == "1.23%"
    (in_short,) = [text.value for text in card.markdown if text.value.startswith("**In short")]
    assert "When it is about 97% sure, it is right 98% of the time (960 such answers)." in in_short
    # The sites left out by the largest models, those trained as the model is.
    assert in_short.endswith("of the digits of the site it never saw (1 site, 692 digits).")
    assert "it read 98.3%" in in_short
    _, unseen, scanned, coarse_scans, sites, sites_full_size, read_right = card.dataframe
    # The figures first, the words after, so that a phone shows the figures; digits alone
    # (scans) have no letters' columns; short headings, explained on hover, fit the page.
    assert list(unseen.value.columns) == [
        "Source", "Writers", "Digits", "Read right", "Taken for no digit", "Letters flagged",
        "Commonest misreads", "Letters taken for digits",
    ]  # fmt: skip
    assert "Letters flagged" not in scanned.value.columns
    assert tabs.model_card.HEADINGS_SAID in [caption.value for caption in card.caption]
    headings = json.loads(unseen.proto.columns)
    assert headings["Letters taken for digits"]["label"] == "Let through"
    assert "letter → digit" in headings["Letters taken for digits"]["help"]
    scans = dict(zip(scanned.value["Scanned at"], scanned.value["Read right"]))
    assert scans == {"28 px": metrics["scanned"]["28 px"]["accuracy"], "16 px": 0.9471}
    sources = dict(zip(unseen.value["Source"], unseen.value["Read right"]))
    assert set(sources) == set(metrics["unseen_sources"]) and sources["UNIPEN apa"] == 0.9612
    blocky_scans = dict(zip(coarse_scans.value["Scanned into"], coarse_scans.value["Read right"]))
    assert blocky_scans == {"UNIPEN tos, 16x16": 0.9234}
    misreads = dict(zip(unseen.value["Source"], unseen.value["Commonest misreads"]))
    assert np.isnan(misreads["CVL valid"]) and "→" in misreads["UNIPEN apa"]  # shown as "—"
    letters = dict(zip(unseen.value["Source"], unseen.value["Letters taken for digits"]))
    assert np.isnan(letters["CVL valid"])  # scanned digits only: no letters to let through
    # Shown as a person reads them: shares to two decimals, a dash where none was measured.
    shown = shown_values(unseen).set_index("Source")
    assert shown.loc["UNIPEN apa", "Read right"] == "96.12%"
    assert (
        shown.loc["CVL valid", "Letters flagged"]
        == shown.loc["CVL valid", "Letters taken for digits"]
        == "—"
    )
    assert unseen.proto.placeholder == "—"
    assert sites.value.to_dict("records")[0] == {
        "Site left out": "uqb",
        "Writers": 4,
        "Digits": left_out["samples"],
        "Read right": 0.9377,
        "Commonest misreads": "0→4 (20), 1→7 (11), 0→9 (9)",
        "Taken for no digit": left_out["digits_flagged"],
        "Letters flagged": left_out["letters_flagged"],
        "Letters taken for digits": "a→2 (12), y→4 (9)",  # two: the table fits the page
    }
    # The last row counts both sites' drawings together: the larger site weighs more.
    together = sites.value.to_dict("records")[-1]
    assert together["Site left out"] == "all together"
    assert together["Digits"] == left_out["samples"] + tos["samples"]
    assert together["Writers"] == 4 + tos["writers"]
    read = 0.9377 * left_out["samples"] + tos["accuracy"] * tos["samples"]
    assert together["Read right"] == pytest.approx(read / together["Digits"])
    flagged = sum(left_out["flagged_by_digit"]) + sum(tos["flagged_by_digit"])
    assert together["Taken for no digit"] == pytest.approx(flagged / together["Digits"])
    letters = left_out["letters"] + tos["letters"]
    caught = sum(site["letters_flagged"] * site["letters"] for site in (left_out, tos))
    assert together["Letters flagged"] == pytest.approx(caught / letters)
    assert together["Commonest misreads"].startswith("0→4 (20), 1→7 (11)")
    assert together["Letters taken for digits"] == "a→2 (14), y→4 (9)"
    # Models of another size, here one site left out, get a table of their own.
    captions = [caption.value for caption in card.caption]
    assert any("4 epochs on 15,000 MNIST digits" in caption for caption in captions)
    assert any("12 epochs on 60,000 MNIST digits" in caption for caption in captions)
    full_rows = sites_full_size.value.to_dict("records")
    assert [row["Site left out"] for row in full_rows] == ["uqb", "all together"]
    assert full_rows[0]["Read right"] == full_rows[1]["Read right"] == 0.9833
    measured_on = "4,000 digits of sources kept out of training"
    assert any(measured_on in caption.value for caption in card.caption)
    rows = read_right.value.set_index("Drawings")
    assert rows.loc["Pen digits, site site a"].tolist() == [0.97, 0.912]
    shown = shown_values(read_right).set_index("Drawings")
    assert shown.loc["Pen digits, site site a"].tolist() == ["97.00%", "91.20%"]
    assert np.isnan(rows.loc["Style: slashed zero", "Letters flagged"])
    assert shown.loc["Style: slashed zero", "Letters flagged"] == "—"
    assert read_right.proto.placeholder == "—"
    assert rows.loc["Style: slashed zero", "Read right"] == metrics["styles"]["slashed zero"]
    reliability = next(
        json.loads(chart.proto.spec)
        for chart in card.get("vega_lite_chart")
        if "Confidence given" in chart.proto.spec
    )
    assert reliability["layer"][1]["data"]["values"] == [
        {key: row[key] for key in ("confidence", "accuracy", "samples")} for row in bins
    ]
    # Each point says how many drawings it stands on: a label and a size.
    counts, points = reliability["layer"][2:]
    assert counts["encoding"]["text"]["field"] == points["encoding"]["size"]["field"] == "samples"


def committed_metrics_with_an_empty_fold() -> dict:
    """The committed figures, hand-edited so that a leave-one-site-out record names no site."""
    metrics = json.loads(digit_model.metrics_path(digit_model.DEFAULT_PATH).read_text())
    return metrics | {"leave_one_site_out": [{"epochs": 12, "mnist_digits": 60000, "sites": {}}]}


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        (None, "No model metrics"),
        ({"test_accuracy": 0.99}, "not a complete metrics file"),
        (committed_metrics_with_an_empty_fold(), "needs each site it names read on digits"),
    ],
    ids=["missing", "incomplete", "empty fold"],
)
def test_model_without_usable_metrics_still_reads_digits_and_says_how_to_fix_the_card(
    tmp_path, monkeypatch, canvas, clear_digits, metrics, problem
):
    model_path = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_path)
    if metrics is not None:
        digit_model.metrics_path(model_path).write_text(json.dumps(metrics))
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_path))
    canvas.drawing = drawing(clear_digits[4])
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()
    open_tab(app, "Model card")

    assert not app.exception
    assert answer(app) == "4"
    (warning,) = app.tabs[2].warning
    assert problem in warning.value
    assert digit_model.TRAIN_COMMAND in warning.value


@pytest.mark.parametrize(
    ("model_file", "problem"),
    [(None, "No model file"), (b"not a Keras archive", "could not be read")],
    ids=["missing", "corrupt"],
)
def test_unusable_model_file_shows_what_is_wrong_and_the_fix(
    tmp_path: Path, monkeypatch, canvas, model_file, problem
):
    model_path = tmp_path / "model.keras"
    if model_file is not None:
        model_path.write_bytes(model_file)
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_path))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()

    assert not app.exception
    (error,) = app.error
    assert problem in error.value
    assert str(model_path) in error.value
    assert digit_model.TRAIN_COMMAND in error.value
    assert [tab.label for tab in app.tabs] == ["Draw", "History", "Model card"]
    assert canvas.calls == []
    assert answer(app) is None


def confirm_button(at: AppTest):
    (button,) = (
        button for button in at.button if button.label == tabs.draw.feedback_row.CONFIRM_TEXT
    )
    return button


def digit_picker(at: AppTest):
    (picker,) = (
        group for group in at.button_group if group.label == tabs.draw.feedback_row.PICK_PROMPT
    )
    return picker


def stored_labels(url: str) -> list[sa.Row]:
    """The labels in the database, read beside the page, oldest first."""
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("digit_feedback"):
            return []
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT session_id, predicted_digit, confidence, true_digit, image, strokes"
                    " FROM digit_feedback ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()


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
    assert said not in hints(app)
    assert percent(metric_value(app, tabs.draw.shared.CONFIDENCE)) > percent(less_sure)


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
    # In whole percents, as the Draw tab shows the confidence; none where it showed none.
    assert np.isnan(rows["Confidence"][0])
    assert list(rows["Confidence"][1:]) == pytest.approx(
        [100 * label.confidence for label in stored[1:]]
    )
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


def test_history_without_labels_says_how_to_add_some(app, canvas):
    open_tab(app.run(), "History")

    assert not app.exception
    assert [info.value for info in app.tabs[1].info] == [tabs.history.NO_LABELS_HINT]
    assert len(app.tabs[1].dataframe) == 0


def test_labels_go_to_the_database_named_in_secrets_toml(
    app, canvas, clear_digits, tmp_path, monkeypatch
):
    monkeypatch.delenv("DIGIT_FEEDBACK_DB_URL")
    url = f"sqlite:///{tmp_path / 'from_secrets.db'}"
    section = {"url": url, "create_engine_kwargs": {"pool_size": 2, "connect_args": {}}}
    app.secrets["connections"] = {"feedback": section}
    canvas.drawing = drawing(clear_digits[2])
    app.run()

    confirm_button(app).click().run()

    assert not app.exception
    assert [label.true_digit for label in stored_labels(url)] == [2]
    # The page's store, with the engine settings of secrets.toml: it has saved through its pool.
    store = feedback_store.configured_store({"connections": {"feedback": section}})
    assert store.engine.pool.size() == 2 and store.engine.pool.checkedin() >= 1


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


@pytest.mark.parametrize(
    "url",
    [UNREACHABLE_URL, "oracle://digits:hunter2@127.0.0.1:1/digits"],
    ids=["unreachable PostgreSQL", "unsupported database"],
)
def test_without_a_usable_database_digits_are_still_read_and_saving_says_it_is_unavailable(
    app, canvas, clear_digits, monkeypatch, url
):
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    canvas.drawing = drawing(clear_digits[4])
    app.run()

    confirm_button(app).click().run()

    assert not app.exception
    assert answer(app) == "4"
    (warning,) = app.warning
    assert tabs.draw.feedback_row.UNAVAILABLE in warning.value
    for detail in ("hunter2", "digits", "127.0.0.1", "oracle", "postgresql"):
        assert detail not in warning.value
    assert not confirm_button(app).disabled  # it can be tried again
    assert len(app.toast) == 0

    open_tab(app, "History")

    assert not app.exception
    (history_warning,) = app.tabs[1].warning
    assert "history is unavailable" in history_warning.value
    for detail in ("hunter2", "127.0.0.1", "oracle", "postgresql"):
        assert detail not in history_warning.value
    assert answer(app) == "4"


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
    assert tabs.history.NO_OWN_LABELS_HINT in [info.value for info in app.info]


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


def guess_owner_secret(app: AppTest, attempt: str) -> str:
    """Type an attempt at the owner secret on the History tab; what the tab says back."""
    app.text_input(key=tabs.history.OWNER_SECRET_INPUT_KEY).input(attempt).run()
    assert not app.exception
    return " ".join(error.value for error in app.tabs[1].error)


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


@pytest.mark.postgres
def test_with_postgresql_saves_are_counted_with_every_other_replica(
    app, canvas, clear_digits, postgres_server, monkeypatch
):
    url = postgres_server.create_database()
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    limits = dataclasses.replace(SAVES, per_server=3)
    monkeypatch.setattr(tabs.common, "SAVES", limits)
    elsewhere = DatabaseWindow(feedback_store.FeedbackStore(create_engine(url)), limits)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    assert [toast.value for toast in app.toast] == ["Saved: a 3."]

    assert elsewhere.admit("visitor-elsewhere-1") is None  # saves on another replica
    assert elsewhere.admit("visitor-elsewhere-2") is None
    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    app.run()
    confirm_button(app).click().run()

    assert not app.exception
    (error,) = app.error
    assert "the server takes 3 labels a minute" in error.value
    assert [label.true_digit for label in stored_labels(url)] == [3]
    assert elsewhere.admit("visitor-elsewhere-3").by_visitor is False  # the page's save counts
    elsewhere.store.engine.dispose()


@pytest.mark.postgres
def test_with_postgresql_owner_guesses_are_counted_with_every_other_replica(
    app, canvas, postgres_server, monkeypatch
):
    url = postgres_server.create_database()
    secret = "a long owner secret, not a guessable one"
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    monkeypatch.setenv(access.OWNER_SECRET_VARIABLE, secret)
    limits = dataclasses.replace(access.GUESSES, per_server=3)
    monkeypatch.setattr(tabs.common, "GUESSES", limits)
    store = feedback_store.FeedbackStore(create_engine(url))
    elsewhere = access.OwnerGuesses(DatabaseWindow(store, limits))
    assert not elsewhere.check("guess one", secret, "visitor-elsewhere-1")
    assert not elsewhere.check("guess two", secret, "visitor-elsewhere-2")
    open_tab(app.run(), "History")

    assert "not the owner secret" in guess_owner_secret(app, "guess three")
    refused = guess_owner_secret(app, secret)  # right, but the app has had its guesses
    assert "Too many guesses of the owner secret for the whole app" in refused
    store.engine.dispose()


@contextmanager
def leaving_no_labels(url: str, at: AppTest) -> Iterator[None]:
    """Delete the labels and links of the page's session at the end: the database is the
    served page's, whose own tests count every label in it."""
    try:
        yield
    finally:
        session = at.session_state[tabs.common.SESSION_ID_KEY]
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            feedback = feedback_table
            links = download_link_table
            connection.execute(sa.delete(feedback).where(feedback.c.session_id == session))
            connection.execute(sa.delete(links).where(links.c.requester == session))
        engine.dispose()


@pytest.mark.postgres
def test_with_postgresql_a_link_shown_here_downloads_from_another_replica(
    app, canvas, clear_digits, feedback_database_url, app_url, monkeypatch
):
    """This page runs in the test process; `app_url` is another process on the same database."""
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", feedback_database_url)
    visitor = new_visitor_id()  # the browser's cookie, which the link downloads with only
    app.session_state[tabs.common.SESSION_ID_KEY] = labels_id(visitor)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    with leaving_no_labels(feedback_database_url, app):
        confirm_button(app).click().run()
        (csv_link, _) = open_tab(app, "History").tabs[1].get("link_button")

        with_cookie = urllib.request.Request(
            f"{app_url}/{csv_link.proto.url}", headers={"Cookie": f"{VISITOR_COOKIE}={visitor}"}
        )
        with urllib.request.urlopen(with_cookie, timeout=30) as response:
            rows = list(csv.DictReader(io.StringIO(response.read().decode())))
        assert [(row["session_id"], row["true_digit"]) for row in rows] == [
            (app.session_state[tabs.common.SESSION_ID_KEY], "3")
        ]


def test_the_owner_secret_is_not_checked_while_the_database_is_unreachable(app, monkeypatch):
    secret = "a long owner secret, not a guessable one"
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", UNREACHABLE_URL)
    monkeypatch.setenv(access.OWNER_SECRET_VARIABLE, secret)
    open_tab(app.run(), "History")

    assert guess_owner_secret(app, secret) == tabs.history.OWNER_CHECK_UNAVAILABLE
    assert "history is unavailable" in app.tabs[1].warning[0].value


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


@contextmanager
def postgres_outage(postgres_server, kind: str) -> Iterator[None]:
    """The server stopped (connections refused), or frozen with SIGSTOP (nothing answers)."""
    if kind == "frozen":
        with postgres_server.frozen():
            yield
        return
    postgres_server.stop()
    try:
        yield
    finally:
        postgres_server.start()


@pytest.mark.postgres
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_postgresql_going_away_mid_session_stops_saving_but_not_reading(
    app, canvas, clear_digits, postgres_server, monkeypatch, outage
):
    url = postgres_server.create_database()
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    assert [toast.value for toast in app.toast] == ["Saved: a 3."]

    with postgres_outage(postgres_server, outage):
        canvas.drawing = drawing(clear_digits[5], PLACEMENTS[3])
        app.run()
        assert answer(app) == "5"
        # A run that waited on a frozen server would time out here.
        confirm_button(app).click().run(timeout=10)

        assert not app.exception
        assert answer(app) == "5"
        (warning,) = app.warning
        assert (
            tabs.draw.feedback_row.UNAVAILABLE in warning.value
            and url.split("/")[-1] not in warning.value
        )
        open_tab(app, "History")
        assert not app.exception
        assert "history is unavailable" in app.tabs[1].warning[0].value

    assert [label.true_digit for label in stored_labels(url)] == [3]


def test_a_drawing_that_is_no_digit_says_so_and_still_offers_the_digit_row(
    app, canvas, not_a_digit
):
    canvas.drawing = drawing(not_a_digit)
    app.run()

    assert not app.exception
    assert answer(app) == tabs.draw.shared.NOT_A_DIGIT
    assert any(tabs.draw.shared.NOT_A_DIGIT_HINT in warning.value for warning in app.warning)
    assert confirm_button(app).disabled and not digit_picker(app).disabled
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
