"""The feedback store's fixtures: realistic drawings, and a fresh store on SQLite or on the
test PostgreSQL server (each test that asks for one runs on both)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from feedback import database as feedback_database
from feedback.store import FeedbackStore
from tests.support.data import mnist
from tests.support.labels import LABELS_PER_WRITER, canvas_drawing


@pytest.fixture(scope="module")
def drawings() -> list[tuple[np.ndarray, dict, int]]:
    """Realistic drawings of the sample digits: (input, strokes, true digit)."""
    images, labels = mnist("test")
    return [
        (*canvas_drawing(image), int(label))
        for image, label in zip(images[:LABELS_PER_WRITER], labels[:LABELS_PER_WRITER])
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file or a new database on the test PostgreSQL server."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.db'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def store(database_url) -> Iterator[FeedbackStore]:
    engine = feedback_database.create_engine(database_url)
    yield FeedbackStore(engine)
    engine.dispose()
