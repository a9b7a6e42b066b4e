"""Feedback storage against SQLite and a real PostgreSQL server: saving, reading, exporting,
concurrent writers, bad input, and a database that is unreachable or goes away."""

from __future__ import annotations

import base64
import csv
import io
import json
import multiprocessing
import pickle
import queue
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

import feedback_store
from feedback_store import FeedbackError, FeedbackStore, Label, StorageUnavailable
from tests.mnist_data import mnist

pytest_plugins = ["tests.postgres_server"]

WRITERS = 8
LABELS_PER_WRITER = 200


def free_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def canvas_drawing(digit: np.ndarray, height: float = 180.0) -> tuple[np.ndarray, dict]:
    """A digit drawn on the 280x280 canvas: the app's 28x28 input and Fabric-style json_data."""
    # Imported here so that writer processes, which import this module, start quickly.
    from canvas_drawings import centre_line, draw
    from preprocess import canvas_to_ink, normalize

    segments = centre_line(digit.astype(np.float32) / 255.0)
    brush = 18.0
    image = normalize(canvas_to_ink(draw(segments, height, 50, 60, brush, "black on transparent")))
    scale = height / 28
    path = []
    for r0, c0, r1, c1 in segments:
        path.append(["M", round(60 + c0 * scale, 1), round(50 + r0 * scale, 1)])
        path.append(["L", round(60 + c1 * scale, 1), round(50 + r1 * scale, 1)])
    strokes = {
        "version": "5.3.0",
        "objects": [
            {
                "type": "path",
                "stroke": "#000000",
                "strokeWidth": brush,
                "strokeLineCap": "round",
                "fill": None,
                "path": path,
            }
        ],
        "background": "",
    }
    return image, strokes


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
    engine = feedback_store.create_engine(database_url)
    yield FeedbackStore(engine)
    engine.dispose()


def label_for(drawing, session_id="session-a", predicted=None, **changes) -> Label:
    image, strokes, true_digit = drawing
    fields = dict(
        session_id=session_id,
        predicted_digit=true_digit if predicted is None else predicted,
        confidence=0.93,
        true_digit=true_digit,
        image=image,
        strokes=strokes,
    )
    return Label(**(fields | changes))


# --- saving and reading back ---------------------------------------------------------------


def test_a_label_is_kept_with_its_input_strokes_and_time(store, drawings):
    image, strokes, _ = drawings[0]
    before = datetime.now(UTC)
    assert store.save(label_for(drawings[0], predicted=4, true_digit=9, confidence=0.61))

    (entry,) = store.history()
    assert (entry.predicted_digit, entry.true_digit, entry.correct) == (4, 9, False)
    assert entry.confidence == pytest.approx(0.61)
    assert entry.session_id == "session-a"
    assert entry.image.dtype == np.uint8 and entry.image.shape == (28, 28)
    np.testing.assert_array_equal(entry.image, np.rint(image * 255).astype(np.uint8))
    assert entry.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= entry.created_at <= datetime.now(UTC)
    assert store.strokes(entry.drawing_id) == strokes


def test_history_is_newest_first_limited_and_per_session(store, drawings):
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for index, drawing in enumerate(drawings[:6]):
        session = "session-a" if index % 2 == 0 else "session-b"
        store.save(label_for(drawing, session, created_at=start + timedelta(minutes=index)))

    newest = store.history(limit=4)
    assert [e.created_at for e in newest] == [start + timedelta(minutes=m) for m in (5, 4, 3, 2)]
    mine = store.history(session_id="session-b")
    assert [e.created_at.minute for e in mine] == [5, 3, 1]
    assert store.history(session_id="nobody") == []


def test_a_double_click_saves_the_drawing_once(store, drawings):
    label = label_for(drawings[1])
    assert store.save(label) is True
    assert store.save(label) is False
    # A second click on another digit for the same drawing keeps the first answer.
    assert store.save(label_for(drawings[1], true_digit=(drawings[1][2] + 1) % 10)) is False
    assert store.count() == 1
    assert store.history()[0].true_digit == drawings[1][2]
    # The same drawing from another session is another person's label.
    assert store.save(label_for(drawings[1], session_id="session-b")) is True
    assert store.count() == 2


def test_text_that_looks_like_sql_is_stored_as_text(store, drawings):
    sneaky = "x'); DROP TABLE digit_feedback; --"
    strokes = {"objects": [], "note": "'; DELETE FROM digit_feedback; --"}
    assert store.save(label_for(drawings[2], session_id=sneaky, strokes=strokes))
    (entry,) = store.history()
    assert entry.session_id == sneaky
    assert store.strokes(entry.drawing_id) == strokes
    assert store.count() == 1


def test_accuracy_and_confusion_over_labelled_drawings(store, drawings):
    assert store.summary().accuracy is None
    answers = [(3, 3), (3, 3), (5, 3), (8, 8), (1, 7)]  # (true digit, predicted digit)
    for drawing, (true_digit, predicted) in zip(drawings, answers):
        store.save(label_for(drawing, true_digit=true_digit, predicted=predicted))
    store.save(label_for(drawings[9], session_id="session-b", true_digit=0, predicted=6))

    everyone = store.summary()
    assert (everyone.labelled, everyone.correct) == (6, 3)
    assert everyone.accuracy == pytest.approx(0.5)
    assert everyone.confusion.shape == (10, 10)
    assert everyone.confusion[3, 3] == 2 and everyone.confusion[5, 3] == 1
    assert everyone.confusion[1, 7] == 1 and everyone.confusion[0, 6] == 1
    assert everyone.confusion.sum() == 6
    assert store.summary(session_id="session-a").accuracy == pytest.approx(3 / 5)


def test_csv_export_has_every_label_oldest_first(store, drawings):
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for minute in (2, 0, 1):
        store.save(label_for(drawings[minute], created_at=start + timedelta(minutes=minute)))

    rows = list(csv.DictReader(io.StringIO(store.export_csv().decode())))
    assert [row["time"] for row in rows] == [
        (start + timedelta(minutes=m)).isoformat() for m in (0, 1, 2)
    ]
    for row, (image, strokes, true_digit) in zip(rows, drawings):
        pixels = np.frombuffer(base64.b64decode(row["pixels"]), np.uint8).reshape(28, 28)
        np.testing.assert_array_equal(pixels, np.rint(image * 255).astype(np.uint8))
        assert int(row["true_digit"]) == true_digit and row["correct"] == "1"
        assert json.loads(row["strokes"]) == strokes


def test_npz_export_is_a_training_set_in_mnist_layout(store, drawings):
    for drawing in drawings[:12]:
        store.save(label_for(drawing, predicted=0))

    with np.load(io.BytesIO(store.export_npz()), allow_pickle=False) as data:
        x, y, predicted = data["x"], data["y"], data["predicted"]
        confidence = data["confidence"]
    assert x.shape == (12, 28, 28) and x.dtype == np.uint8
    assert y.dtype == np.uint8 and predicted.dtype == np.uint8
    np.testing.assert_array_equal(y, [d[2] for d in drawings[:12]])
    np.testing.assert_array_equal(predicted, np.zeros(12))
    np.testing.assert_allclose(confidence, 0.93, rtol=1e-6)
    np.testing.assert_array_equal(x[5], np.rint(drawings[5][0] * 255).astype(np.uint8))


def test_exports_of_an_empty_store_are_empty_but_well_formed(store):
    with np.load(io.BytesIO(store.export_npz())) as data:
        assert data["x"].shape == (0, 28, 28) and data["y"].shape == (0,)
    assert store.export_csv().decode().splitlines()[0].startswith("time,session_id,")


def test_labels_survive_a_restart_of_the_app(database_url, drawings):
    first = feedback_store.create_engine(database_url)
    FeedbackStore(first).save(label_for(drawings[0]))
    first.dispose()
    second = feedback_store.create_engine(database_url)
    assert FeedbackStore(second).history()[0].true_digit == drawings[0][2]
    second.dispose()


def test_many_replicas_can_create_the_schema_at_once(database_url):
    engines = [feedback_store.create_engine(database_url) for _ in range(4)]
    failures = []

    def ensure(engine):
        try:
            FeedbackStore(engine).ensure_schema()
        except Exception as error:  # any failure, reported below
            failures.append(error)

    threads = [threading.Thread(target=ensure, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert FeedbackStore(engines[0]).count() == 0
    for engine in engines:
        engine.dispose()


# --- concurrent writers --------------------------------------------------------------------


def write_labels(url, writer, drawings_file, start, results) -> None:
    """One writer: save its own labels, each followed at once by its neighbour's (a duplicate)."""
    drawings = pickle.loads(drawings_file.read_bytes())
    engine = feedback_store.create_engine(url)
    store = FeedbackStore(engine)
    neighbour = (writer + 1) % WRITERS
    saved = 0
    try:
        start.wait()
        for drawing in drawings:
            saved += store.save(label_for(drawing, session_id=f"writer-{writer}"))
            saved += store.save(label_for(drawing, session_id=f"writer-{neighbour}"))
        results.put((writer, saved, None))
    except Exception as error:  # reported back to the test
        results.put((writer, saved, repr(error)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("writers_are", ["threads", "processes"])
def test_eight_writers_at_once_lose_and_double_nothing(
    writers_are, database_url, store, drawings, tmp_path
):
    store.ensure_schema()
    ours = drawings[:LABELS_PER_WRITER]
    drawings_file = tmp_path / "drawings.pickle"
    drawings_file.write_bytes(pickle.dumps(ours))
    if writers_are == "threads":  # sessions of one app server
        start, results = threading.Barrier(WRITERS), queue.Queue()
        make_worker = threading.Thread
    else:  # app replicas, each with its own engine
        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(WRITERS), context.Queue()
        make_worker = context.Process
    workers = [
        make_worker(target=write_labels, args=(database_url, w, drawings_file, start, results))
        for w in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join()

    assert [error for _, _, error in outcomes if error] == []
    # Every label was saved twice, by two writers at about the same time: one of them stored it.
    assert sum(saved for _, saved, _ in outcomes) == WRITERS * LABELS_PER_WRITER
    assert store.count() == WRITERS * LABELS_PER_WRITER
    expected = {
        feedback_store.validate_label(label_for(d, session_id=f"writer-{w}"))["drawing_id"]: d[2]
        for w in range(WRITERS)
        for d in ours
    }
    stored = {e.drawing_id: e.true_digit for e in store.history(limit=10 * len(expected))}
    assert stored == expected
    summary = store.summary()
    assert summary.labelled == WRITERS * LABELS_PER_WRITER == summary.correct


# --- bad input -----------------------------------------------------------------------------

WIDE_STROKE = {"objects": [{"type": "path", "path": [["L", 123.4, 567.8]] * 60_000}]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"true_digit": 10}, "true digit must be a whole number from 0 to 9, got 10"),
        ({"true_digit": -1}, "true digit must be a whole number from 0 to 9, got -1"),
        ({"true_digit": "3"}, "true digit must be a whole number from 0 to 9, got '3'"),
        ({"true_digit": None}, "true digit must be a whole number from 0 to 9, got None"),
        ({"true_digit": 3.0}, "true digit must be a whole number"),
        ({"true_digit": True}, "true digit must be a whole number"),
        ({"predicted_digit": 11}, "predicted digit must be a whole number from 0 to 9"),
        ({"confidence": 1.5}, "confidence must be a number from 0 to 1"),
        ({"confidence": float("nan")}, "confidence must be a number from 0 to 1"),
        ({"image": np.zeros((28, 27), np.float32)}, r"28x28 array, got shape \(28, 27\)"),
        ({"image": np.zeros((280, 280, 4), np.uint8)}, "28x28 array, got shape"),
        ({"image": [[0.0] * 28] * 28}, "28x28 array, got shape None"),
        ({"image": np.full((28, 28), 2.0)}, "values from 0 to 1"),
        ({"image": np.full((28, 28), np.nan)}, "values from 0 to 1"),
        ({"image": np.zeros((28, 28), np.int64)}, "float in .0, 1. or uint8"),
        ({"strokes": WIDE_STROKE}, r"strokes take 1,\d{3} kB, more than the 512 kB"),
        ({"strokes": [1, 2]}, "strokes must be the canvas's json_data"),
        ({"strokes": {"objects": {1, 2}}}, "cannot be stored as JSON"),
        ({"session_id": ""}, "session id must be text of 1 to 64 characters, got 0"),
        ({"session_id": "s" * 65}, "session id must be text of 1 to 64 characters, got 65"),
        ({"created_at": datetime(2025, 1, 1)}, "timezone-aware"),
    ],
)
def test_bad_labels_are_refused_with_a_clear_message_and_nothing_written(
    store, drawings, changes, message
):
    with pytest.raises(FeedbackError, match=message):
        store.save(label_for(drawings[0], **changes))
    assert store.count() == 0
    assert store.save(label_for(drawings[0]))  # the same drawing, labelled properly, is saved


def test_bad_labels_are_refused_even_when_the_database_is_down(drawings):
    engine = feedback_store.create_engine(f"postgresql+psycopg://u@127.0.0.1:{free_port()}/x")
    with pytest.raises(FeedbackError, match="from 0 to 9"):
        FeedbackStore(engine).save(label_for(drawings[0], true_digit=12))


# --- an unreachable database, or one that goes away --------------------------------------


def unreachable_url(backend, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'feedback.db'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/feedback"


def test_an_unreachable_database_says_saving_is_unavailable(backend, tmp_path, drawings):
    engine = feedback_store.create_engine(unreachable_url(backend, tmp_path))
    store = FeedbackStore(engine)
    outcome = []

    def attempt():
        try:
            store.save(label_for(drawings[0]))
        except Exception as error:  # inspected below
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10 * feedback_store.CONNECT_TIMEOUT_S)
    assert not worker.is_alive(), "saving hung on an unreachable database"
    (error,) = outcome
    assert isinstance(error, StorageUnavailable)
    assert str(error).startswith("Saving feedback is unavailable: the feedback database")
    for read in (store.history, store.summary, store.export_csv, store.export_npz):
        with pytest.raises(StorageUnavailable, match="is unavailable"):
            read()


def test_passwords_stay_out_of_the_message(drawings):
    url = f"postgresql+psycopg://app:hunter2@127.0.0.1:{free_port()}/feedback"
    with pytest.raises(StorageUnavailable) as raised:
        FeedbackStore(feedback_store.create_engine(url)).save(label_for(drawings[0]))
    assert "hunter2" not in str(raised.value) and "127.0.0.1" in str(raised.value)


@contextmanager
def database_outage(backend, request, database_url) -> Iterator[None]:
    """Take the database away for a while: stop the server, or lock the SQLite file."""
    if backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
        server.stop()
        try:
            yield
        finally:
            server.start()
    else:
        holder = sqlite3.connect(sa.make_url(database_url).database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_saving_fails_cleanly_while_the_database_is_gone_and_resumes_after(
    backend, request, database_url, drawings, monkeypatch
):
    monkeypatch.setattr(feedback_store, "SQLITE_BUSY_TIMEOUT_S", 0.2)  # fail fast on the lock
    store = FeedbackStore(feedback_store.create_engine(database_url), retry_after_s=0)
    for drawing in drawings[:3]:
        assert store.save(label_for(drawing))

    with (
        database_outage(backend, request, database_url),
        pytest.raises(StorageUnavailable, match="Saving feedback is unavailable"),
    ):
        store.save(label_for(drawings[3]))

    assert store.save(label_for(drawings[3]))  # the same store, once the database is back
    assert store.save(label_for(drawings[4]))
    assert store.count() == 5
    store.engine.dispose()


def test_after_a_failure_the_store_answers_at_once_until_it_is_time_to_retry(
    backend, request, database_url, drawings, monkeypatch
):
    monkeypatch.setattr(feedback_store, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    clock = [1000.0]
    monkeypatch.setattr(feedback_store, "monotonic", lambda: clock[0])
    engine = feedback_store.create_engine(database_url)
    attempts = []
    sa.event.listen(engine, "do_connect", lambda *args: attempts.append(1))
    sa.event.listen(engine, "engine_connect", lambda *args: attempts.append(1))
    store = FeedbackStore(engine, retry_after_s=10)
    assert store.save(label_for(drawings[0]))

    with database_outage(backend, request, database_url):
        with pytest.raises(StorageUnavailable) as first:
            store.save(label_for(drawings[1]))
        attempts.clear()
        clock[0] += 9
        for action in (lambda: store.save(label_for(drawings[1])), store.history, store.summary):
            with pytest.raises(StorageUnavailable) as again:
                action()
        assert attempts == []  # nothing touched the database
        reason = str(first.value).split(" right now ")[1]
        assert str(again.value).endswith(reason)

    clock[0] += 2
    assert store.save(label_for(drawings[1]))
    assert attempts != []
    assert store.count() == 2
    engine.dispose()


# --- configuration -------------------------------------------------------------------------


class NoSecretsFile(dict):
    """Behaves like st.secrets when there is no secrets.toml."""

    def __getitem__(self, key):
        raise FileNotFoundError("No secrets found.")


def test_database_url_comes_from_environment_then_secrets_then_sqlite_default():
    secrets = {"connections": {"feedback": {"url": "postgresql+psycopg://s@db/from_secrets"}}}
    default = f"sqlite:///{feedback_store.DEFAULT_SQLITE_PATH}"
    assert feedback_store.database_url({}, None) == default
    assert feedback_store.database_url({}, NoSecretsFile()) == default
    assert feedback_store.database_url({}, {"connections": {}}) == default
    assert feedback_store.database_url({}, secrets).endswith("/from_secrets")
    with pytest.raises(ValueError, match=r"\[connections.feedback\] .* needs a url"):
        feedback_store.database_url({}, {"connections": {"feedback": {"host": "db"}}})
    pool_only = {"connections": {"feedback": {"create_engine_kwargs": {"pool_size": 2}}}}
    assert feedback_store.database_url({}, pool_only) == default
    environ = {"DATABASE_URL": "postgresql+psycopg://e@db/generic"}
    assert feedback_store.database_url(environ, secrets).endswith("/generic")
    environ["DIGIT_FEEDBACK_DB_URL"] = "postgresql+psycopg://e@db/specific"
    assert feedback_store.database_url(environ, secrets).endswith("/specific")


def test_postgres_urls_without_a_driver_use_psycopg_3():
    for url in ("postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d"):
        assert feedback_store.database_url({"DATABASE_URL": url}) == (
            "postgresql+psycopg://u:p@h:5432/d"
        )
    sqlite_url = "sqlite:////srv/feedback.db"
    assert feedback_store.database_url({"DATABASE_URL": sqlite_url}) == sqlite_url


def test_the_default_sqlite_file_lies_in_the_project_and_is_ignored_by_git():
    root = Path(feedback_store.__file__).resolve().parent
    assert feedback_store.DEFAULT_SQLITE_PATH.parent == root
    for name in ("feedback.db", "feedback.db-wal", "feedback.db-shm"):
        checked = subprocess.run(["git", "check-ignore", "-q", name], cwd=root, check=False)
        assert checked.returncode == 0, f"{name} is not ignored by git"


def test_other_databases_are_refused_clearly():
    engine = sa.create_engine("mysql+pymysql://u@h/d", module=sqlite3)
    with pytest.raises(ValueError, match="SQLite and PostgreSQL, not mysql"):
        FeedbackStore(engine)


def test_thumbnail_is_a_png_of_the_drawing_dark_on_light(drawings):
    from PIL import Image

    image = np.rint(drawings[0][0] * 255).astype(np.uint8)
    url = feedback_store.thumbnail(image, scale=2)
    assert url.startswith("data:image/png;base64,")
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert picture.shape == (56, 56)
    assert picture[0, 0] == 255 and picture.min() < 64
