"""The page's modes beyond one digit under Streamlit's AppTest: numbers on the wide canvas,
photos of handwriting, and the heat-map of why the model answered.

As in the page's other tests (`tests/support/page_app.py`), a stand-in
`streamlit_drawable_canvas` module hands the page the canvas image a drawing would produce,
here one per canvas key; photos are made as phones and scanners save them (see
devtools/pictures.py) and uploaded through the page's file uploader. The tests under
`tests/page/modes/` get the fixtures `app` and `canvas` from their conftest.
"""

from __future__ import annotations

import os
import types

import numpy as np
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

import digit_model
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.photo
import tabs.draw.why
from devtools import REPO_ROOT
from devtools.pictures import png
from tests.support.page_app import RUN_TIMEOUT, stand_in_canvas

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
    return stand_in_canvas(monkeypatch, CanvasStandIn())


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
