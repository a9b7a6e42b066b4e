"""The page under Streamlit's AppTest, with real drawings handed in where the canvas would be.

The canvas is a browser component and cannot draw inside AppTest, so these tests put a
stand-in `streamlit_drawable_canvas` module in its place: the page imports it as usual and
gets the canvas image a person's drawing would produce. The browser tests drive the real one.
"""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import digit_model
import webapp
from tests.conftest import PLACEMENTS, REPO_ROOT, Digit, read

RUN_TIMEOUT = 120  # seconds; the first run imports TensorFlow and loads the model


class FakeCanvas:
    """Stands in for `st_canvas`: hands the page `drawing` and records how it was set up."""

    def __init__(self) -> None:
        self.drawing: np.ndarray | None = None
        self.calls: list[dict] = []

    def __call__(self, **options) -> types.SimpleNamespace:
        self.calls.append(options)
        return types.SimpleNamespace(image_data=self.drawing, json_data={"objects": []})


@pytest.fixture
def canvas(monkeypatch) -> FakeCanvas:
    fake = FakeCanvas()
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = fake
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return fake


@pytest.fixture
def app(monkeypatch) -> AppTest:
    """The page with the committed model."""
    monkeypatch.delenv(webapp.MODEL_PATH_VARIABLE, raising=False)
    return AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)


def drawing(digit: Digit, placement: tuple[int, int, int] = PLACEMENTS[0]) -> np.ndarray:
    return digit.image(*placement)


def answer(at: AppTest) -> str | None:
    """The value of the "Prediction" metric, or None when the page shows no answer."""
    values = [metric.value for metric in at.metric if metric.label == "Prediction"]
    assert len(values) <= 1
    return values[0] if values else None


def chart_rows(chart) -> list[dict]:
    """The data rows of a Vega-Lite chart element, which Streamlit sends as Arrow."""
    return pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()


def draw_tab_charts(at: AppTest) -> list:
    return list(at.tabs[0].get("vega_lite_chart"))


def test_page_renders_with_the_real_canvas_component(app):
    app.run()

    assert not app.exception
    assert app.title[0].value.endswith("Digit reader")
    assert [tab.label for tab in app.tabs] == ["Draw", "Model card"]
    assert len(app.tabs[0].get("bidi_component")) == 1
    assert [info.value for info in app.info] == [webapp.DRAW_HINT]
    assert answer(app) is None


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
def test_blank_canvas_shows_the_hint_and_no_answer(app, canvas, blank):
    if blank == "cleared canvas":
        canvas.drawing = np.full((280, 280, 4), 255, dtype=np.uint8)
    app.run()

    assert not app.exception
    assert [info.value for info in app.info] == [webapp.DRAW_HINT]
    assert answer(app) is None
    assert draw_tab_charts(app) == []
    assert len(app.image) == 0


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
    confidence = next(metric.value for metric in app.metric if metric.label == "Confidence")
    assert confidence == f"{read(classifier, canvas.drawing).max():.0%}"
    assert len(app.info) == 0 and len(app.warning) == 0

    (chart,) = draw_tab_charts(app)
    bars = chart_rows(chart)
    assert [bar["digit"] for bar in bars] == [str(digit) for digit in range(10)]
    assert sum(bar["probability"] for bar in bars) == pytest.approx(1, abs=1e-4)
    assert [bar["digit"] for bar in bars if bar["winner"]] == [str(label)]
    colour = json.loads(chart.proto.spec)["encoding"]["color"]
    assert colour["condition"] == {"test": "datum.winner", "value": webapp.HIGHLIGHT}
    assert colour["value"] != webapp.HIGHLIGHT

    (model_view,) = app.image
    assert "What the model sees" in model_view.proto.imgs[0].caption


def test_each_drawing_replaces_the_answer_and_clearing_removes_it(app, canvas, clear_digits):
    canvas.drawing = drawing(clear_digits[2])
    app.run()
    assert answer(app) == "2"

    canvas.drawing = drawing(clear_digits[5], PLACEMENTS[3])
    app.run()
    assert answer(app) == "5"

    canvas.drawing = np.full((280, 280, 4), 255, dtype=np.uint8)
    app.run()
    assert answer(app) is None
    assert [info.value for info in app.info] == [webapp.DRAW_HINT]


def test_unsure_reading_says_so_and_names_the_top_two(app, canvas, clear_digits, classifier):
    """Two digits drawn over each other leave the model torn between them."""
    overlays = (
        np.minimum(drawing(clear_digits[a]), drawing(clear_digits[b]))
        for a in sorted(clear_digits)
        for b in sorted(clear_digits)
        if a < b
    )
    unsure = next(
        (rgba for rgba in overlays if read(classifier, rgba).max() < webapp.UNSURE_BELOW), None
    )
    assert unsure is not None, "no overlay of two digits left the model unsure"
    first, second = np.argsort(read(classifier, unsure))[::-1][:2]

    canvas.drawing = unsure
    app.run()

    assert answer(app) == str(first)
    (warning,) = app.warning
    assert warning.value.startswith("Not sure")
    assert warning.value.index(f"**{first}**") < warning.value.index(f"**{second}**")


def test_model_card_shows_the_figures_from_the_metrics_file(app, canvas):
    metrics = digit_model.load_metrics()
    assert metrics is not None, "the committed model has no metrics file beside it"
    app.run()

    card = app.tabs[1]
    figures = {metric.label: metric.value for metric in card.metric}
    assert figures["Test accuracy"] == f"{metrics['test_accuracy']:.2%}"
    assert figures["Parameters"] == f"{metrics['parameters']:,}"
    assert figures["File size"] == f"{metrics['file_size_bytes'] / 1e6:.2f} MB"
    (layers,) = card.dataframe
    assert list(layers.value["Layer"]) == [layer["layer"] for layer in metrics["architecture"]]

    per_digit, confusion, accuracy_curve, loss_curve = (
        chart_rows(chart) for chart in card.get("vega_lite_chart")
    )
    assert [bar["accuracy"] for bar in per_digit] == metrics["per_digit_accuracy"]
    cells = {(cell["true"], cell["predicted"]): cell["count"] for cell in confusion}
    assert cells == {
        (str(true), str(predicted)): count
        for true, row in enumerate(metrics["confusion_matrix"])
        for predicted, count in enumerate(row)
    }
    training = [point["accuracy"] for point in accuracy_curve if point["split"] == "training"]
    assert training == metrics["history"]["accuracy"]
    validation = [point["loss"] for point in loss_curve if point["split"] == "validation"]
    assert validation == metrics["history"]["val_loss"]


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [(None, "No model metrics"), ({"test_accuracy": 0.99}, "are incomplete")],
    ids=["missing", "incomplete"],
)
def test_model_without_usable_metrics_still_reads_digits_and_says_how_to_fix_the_card(
    tmp_path, monkeypatch, canvas, clear_digits, metrics, problem
):
    model_path = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_path)
    if metrics is not None:
        digit_model.metrics_path(model_path).write_text(json.dumps(metrics))
    monkeypatch.setenv(webapp.MODEL_PATH_VARIABLE, str(model_path))
    canvas.drawing = drawing(clear_digits[4])
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()

    assert not app.exception
    assert answer(app) == "4"
    (warning,) = app.tabs[1].warning
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
    monkeypatch.setenv(webapp.MODEL_PATH_VARIABLE, str(model_path))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()

    assert not app.exception
    (error,) = app.error
    assert problem in error.value
    assert str(model_path) in error.value
    assert digit_model.TRAIN_COMMAND in error.value
    assert [tab.label for tab in app.tabs] == ["Draw", "Model card"]
    assert canvas.calls == []
    assert answer(app) is None
