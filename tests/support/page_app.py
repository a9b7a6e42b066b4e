"""The page under Streamlit's AppTest, with real drawings handed in where the canvas would be.

The canvas is a browser component and cannot draw inside AppTest, so these fixtures put a
stand-in `streamlit_drawable_canvas` module in its place: the page imports it as usual and
gets the canvas image a person's drawing would produce. The browser tests drive the real one.
Labels go to a SQLite file made for each test, or to a real PostgreSQL server, and are read
back with SQLAlchemy, beside the page. The tests under `tests/page/` get the fixtures `app`,
`canvas` and `feedback_database` (which each of them uses) from their conftest; another test
module imports them.
"""

from __future__ import annotations

import re
import sys
import types
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

import digit_model
import tabs.common
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.shared
import tabs.history
import webapp
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS, Digit
from devtools.pictures import png
from digit_model import Classifier
from reading import read_drawing

RUN_TIMEOUT = 120  # seconds; the first run imports TensorFlow and loads the model
StandIn = TypeVar("StandIn")  # an object called as `st_canvas` is


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


def stand_in_canvas(monkeypatch: pytest.MonkeyPatch, stand_in: StandIn) -> StandIn:
    """Put `stand_in` where the page imports `st_canvas` from, for one test; return it."""
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = stand_in
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return stand_in


@pytest.fixture
def canvas(monkeypatch) -> FakeCanvas:
    return stand_in_canvas(monkeypatch, FakeCanvas())


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


def same_visitors_other_tab(app: AppTest) -> AppTest:
    """Another tab of the same browser as `app`: the same visitor, a session of its own."""
    other = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)
    for tab in (app, other):
        tab.session_state[tabs.common.SESSION_ID_KEY] = "c" * 32  # one browser's visitor id
    return other


def mis_tap_a_seven(
    app: AppTest, canvas: FakeCanvas, clear_digits: dict[int, Digit], classifier: Classifier
) -> tuple[AppTest, str]:
    """A clear 7 labelled in `app` as the digit it is next taken for, then read at another
    place in another tab of the same visitor: that tab, and the line it shows for the label."""
    probabilities = read_drawing(classifier, drawing(clear_digits[7])).probabilities.copy()
    probabilities[7] = 0
    runner_up = int(np.argmax(probabilities))
    said = f"Less sure: it looks like your example of {tabs.draw.shared.a_digit(runner_up)}."
    other = same_visitors_other_tab(app)
    canvas.drawing = drawing(clear_digits[7])
    app.run()
    digit_picker(app).set_value(runner_up).run()
    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    other.run()  # the other tab starts loading the visitor's labels...
    other.run()  # ...and its next reading waits for them
    return other, said


def delete_my_labels(at: AppTest) -> AppTest:
    """Delete the visitor's labels from the History tab, confirming when asked."""
    open_tab(at, "History")
    (delete,) = [button for button in at.button if button.label == tabs.history.DELETE_TEXT]
    delete.click().run()
    (confirm,) = [
        button for button in at.button if button.label == tabs.history.DELETE_CONFIRM_TEXT
    ]
    return confirm.click().run()


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


def words_under(at: AppTest) -> dict[str, str]:
    """The few words under each metric's value (its delta), by the metric's label."""
    return {metric.label: metric.proto.delta for metric in at.metric}


def chart_rows(chart) -> list[dict]:
    """The data rows of a Vega-Lite chart element, which Streamlit sends as Arrow."""
    return pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()


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


def guess_owner_secret(app: AppTest, attempt: str) -> str:
    """Type an attempt at the owner secret on the History tab; what the tab says back."""
    app.text_input(key=tabs.history.OWNER_SECRET_INPUT_KEY).input(attempt).run()
    assert not app.exception
    return " ".join(error.value for error in app.tabs[1].error)
