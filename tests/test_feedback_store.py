"""Feedback storage against SQLite and a real PostgreSQL server: saving, reading, exporting,
concurrent writers, bad input, and a database that is unreachable, frozen or goes away."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import logging
import multiprocessing
import pickle
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from devtools import REPO_ROOT
from devtools.page import free_port
from feedback import database as feedback_database
from feedback import export as feedback_export
from feedback import labels as feedback_labels
from feedback import schema as feedback_schema
from feedback import settings as feedback_settings
from feedback import store as feedback_store
from feedback.database import StorageUnavailable
from feedback.labels import FeedbackError, LabelledDrawing
from feedback.store import FeedbackStore
from tests.support.data import mnist

WRITERS = 8
LABELS_PER_WRITER = 200
SAVE_TRIES = 3


def canvas_drawing(digit: np.ndarray, height: float = 180.0) -> tuple[np.ndarray, dict]:
    """A digit drawn on the 280x280 canvas: the app's 28x28 input and Fabric-style json_data."""
    # Imported here so that writer processes, which import this module, start quickly.
    from preprocess import canvas_to_ink, normalize
    from training.canvas_drawings import centre_line, draw

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
    engine = feedback_database.create_engine(database_url)
    yield FeedbackStore(engine)
    engine.dispose()


def label_for(drawing, session_id="session-a", predicted=None, **changes) -> LabelledDrawing:
    image, strokes, true_digit = drawing
    fields = dict(
        session_id=session_id,
        predicted_digit=true_digit if predicted is None else predicted,
        confidence=0.93,
        true_digit=true_digit,
        image=image,
        strokes=strokes,
    )
    return LabelledDrawing(**(fields | changes))


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
    assert json.loads(next(store.rows()).strokes) == strokes


def test_history_is_newest_first_limited_and_per_visitor(store, drawings):
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for index, drawing in enumerate(drawings[:6]):
        session = "session-a" if index % 2 == 0 else "session-b"
        store.save(label_for(drawing, session, created_at=start + timedelta(minutes=index)))

    newest = store.history(limit=4)
    assert [e.created_at for e in newest] == [start + timedelta(minutes=m) for m in (5, 4, 3, 2)]
    mine = store.history(session_id="session-b")
    assert [e.created_at.minute for e in mine] == [5, 3, 1]
    assert store.history(session_id="nobody") == []


def test_labels_saved_at_one_time_are_listed_in_the_order_saved(store, drawings):
    """A number's digits share their time: listed newest first, the number would read
    backwards."""
    first, then = datetime(2025, 3, 1, 12, 0, tzinfo=UTC), datetime(2025, 3, 1, 12, 5, tzinfo=UTC)
    store.save(label_for(drawings[5], created_at=first))
    for drawing in drawings[:4]:
        store.save(label_for(drawing, created_at=then))

    listed = store.history()

    assert [entry.true_digit for entry in listed] == [d[2] for d in (*drawings[:4], drawings[5])]


def test_a_double_click_saves_the_drawing_once(store, drawings):
    label = label_for(drawings[1])
    assert store.save(label) is True
    assert store.save(label) is False
    assert store.count() == 1
    assert store.history()[0].true_digit == drawings[1][2]
    # The same drawing from another session is another person's label.
    assert store.save(label_for(drawings[1], session_id="session-b")) is True
    assert store.count() == 2


def test_a_mis_tap_is_mended_by_changing_the_digit_and_nothing_else(store, drawings):
    first = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    store.save(label_for(drawings[1], predicted=4, true_digit=9, confidence=0.61, created_at=first))

    # The page reads the drawing again after the label, so the answer it sends has moved.
    later = first + timedelta(minutes=1)
    mended = label_for(drawings[1], predicted=9, true_digit=4, confidence=0.5, created_at=later)
    assert store.save(mended) is False

    (entry,) = store.history()
    assert (entry.predicted_digit, entry.true_digit, entry.correct) == (4, 4, True)
    assert entry.confidence == pytest.approx(0.61) and entry.created_at == first
    # Another visitor's same drawing is theirs alone, and stays as they labelled it.
    assert store.save(label_for(drawings[1], session_id="session-b", true_digit=7)) is True
    store.save(label_for(drawings[1], true_digit=2, created_at=later))
    assert store.count() == 2
    assert [e.true_digit for e in store.history(session_id="session-b")] == [7]
    assert [e.true_digit for e in store.history(session_id="session-a")] == [2]


def test_text_that_looks_like_sql_is_stored_as_text(store, drawings):
    sneaky = "x'); DROP TABLE digit_feedback; --"
    strokes = {"objects": [], "note": "'; DELETE FROM digit_feedback; --"}
    assert store.save(label_for(drawings[2], session_id=sneaky, strokes=strokes))
    (entry,) = store.history()
    assert entry.session_id == sneaky
    assert json.loads(next(store.rows()).strokes) == strokes
    assert store.count() == 1


def test_accuracy_and_confusion_over_labelled_drawings(store, drawings):
    assert store.summary().accuracy is None
    answers = [(3, 3), (3, 3), (5, 3), (8, 8), (1, 7)]  # (true digit, predicted digit)
    for drawing, (true_digit, predicted) in zip(drawings, answers):
        store.save(label_for(drawing, true_digit=true_digit, predicted=predicted))
    store.save(label_for(drawings[9], session_id="session-b", true_digit=0, predicted=6))
    # A 4 the page called "not a digit", though the model leaned to 4: a miss, not a hit.
    store.save(
        label_for(drawings[10], session_id="session-b", true_digit=4, predicted=4, refused=True)
    )

    everyone = store.summary()
    assert (everyone.labelled, everyone.correct) == (7, 3)
    assert everyone.accuracy == pytest.approx(3 / 7)
    assert everyone.confusion.shape == (10, 11)
    assert everyone.confusion[3, 3] == 2 and everyone.confusion[5, 3] == 1
    assert everyone.confusion[1, 7] == 1 and everyone.confusion[0, 6] == 1
    assert everyone.confusion[4, feedback_store.NO_DIGIT] == 1 and everyone.confusion[4, 4] == 0
    assert everyone.confusion.sum() == 7
    assert store.summary(session_id="session-a").accuracy == pytest.approx(3 / 5)
    refused = store.history(session_id="session-b")[0]
    assert refused.refused and refused.predicted_digit == 4 and not refused.correct


def export_csv(store, session_id=None) -> str:
    return b"".join(feedback_export.csv_chunks(store.rows(session_id))).decode()


def export_npz(store, session_id=None) -> bytes:
    count = store.count(session_id)
    return b"".join(feedback_export.npz_chunks(store.rows(session_id), count))


def test_csv_export_has_every_label_oldest_first(store, drawings):
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for minute in (2, 0, 1):
        store.save(label_for(drawings[minute], created_at=start + timedelta(minutes=minute)))

    rows = list(csv.DictReader(io.StringIO(export_csv(store))))
    assert [row["time"] for row in rows] == [
        (start + timedelta(minutes=m)).isoformat() for m in (0, 1, 2)
    ]
    for row, (image, strokes, true_digit) in zip(rows, drawings):
        pixels = np.frombuffer(base64.b64decode(row["pixels"]), np.uint8).reshape(28, 28)
        np.testing.assert_array_equal(pixels, np.rint(image * 255).astype(np.uint8))
        assert int(row["true_digit"]) == true_digit and row["correct"] == "1"
        assert row["refused"] == "0"
        assert json.loads(row["strokes"]) == strokes


def test_npz_export_is_a_training_set_in_mnist_layout(store, drawings):
    for index, drawing in enumerate(drawings[:12]):
        store.save(label_for(drawing, predicted=0, refused=index == 3))

    with np.load(io.BytesIO(export_npz(store)), allow_pickle=False) as data:
        x, y, predicted = data["x"], data["y"], data["predicted"]
        confidence, refused = data["confidence"], data["refused"]
    np.testing.assert_array_equal(refused, np.arange(12) == 3)
    assert x.shape == (12, 28, 28) and x.dtype == np.uint8
    assert y.dtype == np.uint8 and predicted.dtype == np.uint8
    np.testing.assert_array_equal(y, [d[2] for d in drawings[:12]])
    np.testing.assert_array_equal(predicted, np.zeros(12))
    np.testing.assert_allclose(confidence, 0.93, rtol=1e-6)
    np.testing.assert_array_equal(x[5], np.rint(drawings[5][0] * 255).astype(np.uint8))


def test_exports_of_an_empty_store_are_empty_but_well_formed(store):
    with np.load(io.BytesIO(export_npz(store))) as data:
        assert data["x"].shape == (0, 28, 28) and data["y"].shape == (0,)
    assert export_csv(store).splitlines()[0].startswith("time,session_id,")


def test_exports_stream_in_chunks_across_many_reads(store, drawings, monkeypatch):
    """More labels than one read returns: each chunk is its own call, all rows come out once."""
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    same_time = start + timedelta(minutes=1)  # ties on time are ordered by insertion
    for index, drawing in enumerate(drawings[:25]):
        moment = same_time if 5 <= index < 15 else start + timedelta(minutes=index)
        store.save(label_for(drawing, session_id=f"s{index % 2}", created_at=moment))
    calls = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: calls.append(1))

    rows = list(store.rows(chunk_size=4))
    assert len(rows) == 25 and len({row.drawing_id for row in rows}) == 25
    assert [row.created_at for row in rows] == sorted(row.created_at for row in rows)
    assert len(calls) >= 7  # 25 rows in chunks of 4
    monkeypatch.setattr(feedback_export, "ROWS_PER_CHUNK", 5)
    chunks = list(feedback_export.csv_chunks(store.rows(chunk_size=4)))
    assert len(chunks) == 6 and b"".join(chunks).count(b"\n") == 26
    mine = list(store.rows(session_id="s1", chunk_size=3))
    assert len(mine) == 12 and {row.session_id for row in mine} == {"s1"}
    with np.load(io.BytesIO(export_npz(store, session_id="s0"))) as data:
        assert data["x"].shape == (13, 28, 28)


def make_earlier_table(url: str, drawing) -> None:
    """The feedback table as the release before made it, holding one label of `drawing`."""
    table = sa.Table(
        "digit_feedback",
        sa.MetaData(),
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, unique=True)
            if c.unique
            else sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in feedback_schema.feedback_table.columns
            if c.name not in ("refused", "forgotten")
        ),
    )
    earlier = feedback_database.create_engine(url)
    with earlier.begin() as connection:
        table.create(connection)
        row = feedback_labels.validate_label(label_for(drawing))
        del row["refused"]
        connection.execute(sa.insert(table).values(**row))
    earlier.dispose()


def test_a_table_from_before_refused_answers_were_kept_gets_the_column_and_keeps_its_rows(
    database_url, drawings
):
    make_earlier_table(database_url, drawings[0])

    engine = feedback_database.create_engine(database_url)
    store = FeedbackStore(engine)
    assert store.save(label_for(drawings[1], refused=True))
    (new, old) = store.history()
    assert (old.true_digit, old.refused, old.correct) == (drawings[0][2], False, True)
    assert (new.refused, new.correct) == (True, False)
    assert store.summary().confusion[drawings[1][2], feedback_store.NO_DIGIT] == 1
    engine.dispose()


# --- a visitor's examples of their handwriting: read back, forgotten, deleted -------------


def digits_of(examples) -> list[int]:
    return [example.true_digit for example in examples]


def test_a_visitors_examples_are_their_latest_labels_oldest_first(store, drawings):
    for drawing in drawings[:5]:
        store.save(label_for(drawing, session_id="mine"))
    store.save(label_for(drawings[5], session_id="theirs"))

    stamp, examples = store.examples("mine", limit=3)
    assert digits_of(examples) == [drawing[2] for drawing in drawings[2:5]]
    assert examples[0].image.dtype == np.uint8 and examples[0].image.shape == (28, 28)
    assert np.array_equal(examples[-1].image, np.rint(drawings[4][0] * 255))
    assert stamp == store.examples_stamp("mine")
    assert stamp[0] == 5
    assert store.examples("nobody", limit=3) == ((0, 0), [])


def test_the_stamp_changes_when_a_label_is_saved_forgotten_or_deleted(store, drawings):
    stamps = [store.examples_stamp("mine")]
    store.save(label_for(drawings[0], session_id="mine"))
    stamps.append(store.examples_stamp("mine"))
    store.save(label_for(drawings[1], session_id="mine"))
    stamps.append(store.examples_stamp("mine"))
    store.forget_examples("mine")
    stamps.append(store.examples_stamp("mine"))
    store.save(label_for(drawings[2], session_id="mine"))
    stamps.append(store.examples_stamp("mine"))
    store.delete("mine")
    stamps.append(store.examples_stamp("mine"))
    assert all(before != after for before, after in itertools.pairwise(stamps))
    assert stamps[0] == stamps[-1] == (0, 0)


def test_forgotten_labels_stay_saved_but_are_no_examples_until_labelled_again(store, drawings):
    for drawing in drawings[:3]:
        store.save(label_for(drawing, session_id="mine"))
    store.save(label_for(drawings[3], session_id="theirs"))

    assert store.forget_examples("mine") == 3
    assert store.examples("mine", limit=10)[1] == []
    assert store.count("mine") == 3  # still saved, in History and exports
    assert digits_of(store.examples("theirs", limit=10)[1]) == [drawings[3][2]]

    store.save(label_for(drawings[1], session_id="mine", true_digit=7))  # labelled anew
    store.save(label_for(drawings[4], session_id="mine"))  # a new label
    assert digits_of(store.examples("mine", limit=10)[1]) == [7, drawings[4][2]]


def test_deleting_a_visitors_labels_deletes_theirs_only(store, drawings):
    for drawing in drawings[:3]:
        store.save(label_for(drawing, session_id="mine"))
    store.save(label_for(drawings[3], session_id="theirs"))

    assert store.delete("mine") == 3
    assert store.count("mine") == 0
    assert store.examples("mine", limit=10)[1] == []
    assert store.count("theirs") == 1
    assert store.delete("mine") == 0


def test_a_table_from_before_forgetting_was_kept_gets_the_column_and_its_rows_are_examples(
    database_url, drawings
):
    make_earlier_table(database_url, drawings[0])

    engine = feedback_database.create_engine(database_url)
    store = FeedbackStore(engine)
    assert digits_of(store.examples("session-a", limit=10)[1]) == [drawings[0][2]]
    store.forget_examples("session-a")
    assert store.examples("session-a", limit=10)[1] == []
    engine.dispose()


def test_labels_survive_a_restart_of_the_app(database_url, drawings):
    first = feedback_database.create_engine(database_url)
    FeedbackStore(first).save(label_for(drawings[0]))
    first.dispose()
    second = feedback_database.create_engine(database_url)
    assert FeedbackStore(second).history()[0].true_digit == drawings[0][2]
    second.dispose()


def failures_of_replicas_creating_the_schema_at_once(url: str, replicas: int = 4) -> list:
    """What each of several stores, each on its own engine, raised on first use at once."""
    engines = [feedback_database.create_engine(url) for _ in range(replicas)]
    failures = []

    def ensure(engine):
        try:
            FeedbackStore(engine).count()
        except Exception as error:  # any failure, reported to the caller
            failures.append(error)

    threads = [threading.Thread(target=ensure, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    return failures


def test_many_replicas_can_create_the_schema_at_once(database_url):
    assert failures_of_replicas_creating_the_schema_at_once(database_url) == []
    engine = feedback_database.create_engine(database_url)
    assert FeedbackStore(engine).count() == 0
    engine.dispose()


def test_many_replicas_can_bring_an_earlier_releases_table_up_to_date_at_once(
    database_url, drawings
):
    make_earlier_table(database_url, drawings[0])
    assert failures_of_replicas_creating_the_schema_at_once(database_url, replicas=6) == []
    engine = feedback_database.create_engine(database_url)
    (entry,) = FeedbackStore(engine).history()
    assert not entry.refused and entry.correct
    engine.dispose()


def test_a_new_sqlite_file_opened_by_many_replicas_at_once_answers_every_time(tmp_path):
    # Two connections switching a new file to WAL at once made one fail about 1 time in 70.
    for attempt in range(300):
        url = f"sqlite:///{tmp_path / f'feedback-{attempt}.db'}"
        assert failures_of_replicas_creating_the_schema_at_once(url) == [], attempt


# --- concurrent writers --------------------------------------------------------------------


def saved_as_a_person_would(store: FeedbackStore, label: LabelledDrawing) -> int:
    """Save a label, and save it again when told saving is unavailable, as a person clicks
    again: on a loaded machine SQLite may starve one of eight writers of its lock past the
    busy timeout, which the person is told. At most SAVE_TRIES tries."""
    for _ in range(SAVE_TRIES - 1):
        try:
            return store.save(label)
        except feedback_database.StorageUnavailable:
            continue
    return store.save(label)


def write_labels(url, writer, drawings_file, start, results) -> None:
    """One writer: save its own labels, each followed at once by its neighbour's (a duplicate)."""
    drawings = pickle.loads(drawings_file.read_bytes())
    engine = feedback_database.create_engine(url)
    store = FeedbackStore(engine, retry_after_s=0)  # a save tried again is tried at once
    neighbour = (writer + 1) % WRITERS
    saved = 0
    try:
        start.wait()
        for drawing in drawings:
            saved += saved_as_a_person_would(store, label_for(drawing, f"writer-{writer}"))
            saved += saved_as_a_person_would(store, label_for(drawing, f"writer-{neighbour}"))
        results.put((writer, saved, None))
    except Exception as error:  # reported back to the test
        results.put((writer, saved, repr(error)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("writers_are", ["threads", "processes"])
def test_eight_writers_at_once_lose_and_double_nothing(
    writers_are, database_url, store, drawings, tmp_path
):
    assert store.count() == 0  # the schema is made before the writers start
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
        feedback_labels.validate_label(label_for(d, session_id=f"writer-{w}"))["drawing_id"]: d[2]
        for w in range(WRITERS)
        for d in ours
    }
    stored = {row.drawing_id: row.true_digit for row in store.rows()}
    assert stored == expected
    summary = store.summary()
    assert summary.labelled == WRITERS * LABELS_PER_WRITER == summary.correct


def test_a_save_waits_out_another_sqlite_writer_that_holds_the_lock_for_3_s(tmp_path, drawings):
    """Eight sessions saving at once on a busy machine can hold the file's lock for seconds
    between them; a save within the 5 s every call is allowed must not lose its label."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    store = FeedbackStore(feedback_database.create_engine(url))
    assert store.count() == 0
    holder = sqlite3.connect(
        tmp_path / "feedback.db", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    # Released 3 s from now: past the 2.5 s a save once waited, 1.5 s inside its 4.5 s.
    release = threading.Timer(3.0, holder.execute, ["COMMIT"])
    release.start()
    try:
        assert store.save(label_for(drawings[0]))
    finally:
        release.join()
        holder.close()
    assert store.count() == 1
    store.engine.dispose()


READ_ONLY_READER = """
import sys
from feedback.database import create_engine
from feedback.settings import URL_VARIABLES, database_url
from feedback.store import FeedbackStore
url = database_url({URL_VARIABLES[0]: sys.argv[1]})
print(FeedbackStore(create_engine(url)).count())
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare")
def test_the_sqlite_history_can_be_read_from_a_read_only_disk(tmp_path, drawings):
    """The file, written in WAL mode, is read under a read-only bind mount of its folder (in
    a user namespace of its own, so this needs no privileges); saving is for a writable disk."""
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'feedback.db'}"
    store = FeedbackStore(feedback_database.create_engine(url))
    for drawing in drawings[:3]:
        assert store.save(label_for(drawing))
    store.engine.dispose()
    script = f'mount --bind -o ro "$1" "$1" && exec "{sys.executable}" -c "$2" "$3"'
    command = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"]
    reader = subprocess.run(
        [*command, str(folder), READ_ONLY_READER, url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (reader.returncode, reader.stdout.strip()) == (0, "3"), reader.stderr[-2000:]


# --- bad input -----------------------------------------------------------------------------

WIDE_STROKE = {"objects": [{"type": "path", "path": [["L", 123.4, 567.8]] * 60_000}]}
MANY_STROKES = {"objects": [{"type": "path", "path": [["M", 1, 1]]}] * 201}
DEEP_STROKES: dict = {"objects": []}
for _ in range(100_000):
    DEEP_STROKES = {"objects": [DEEP_STROKES]}


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
        ({"session_id": "a\x00b"}, "printable characters only"),
        ({"session_id": "a\ud800b"}, "printable characters only"),
        ({"strokes": DEEP_STROKES}, "nested too deeply"),
        ({"strokes": MANY_STROKES}, "201 strokes, more than the 200 kept per drawing"),
        ({"created_at": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"refused": 1}, "refused must be True or False, got 1"),
        ({"refused": None}, "refused must be True or False, got None"),
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
    engine = feedback_database.create_engine(f"postgresql+psycopg://u@127.0.0.1:{free_port()}/x")
    with pytest.raises(FeedbackError, match="from 0 to 9"):
        FeedbackStore(engine).save(label_for(drawings[0], true_digit=12))


# --- an unreachable database, or one that goes away --------------------------------------


def unreachable_url(backend, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'feedback.db'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/feedback"


def test_an_unreachable_database_says_saving_is_unavailable(backend, tmp_path, drawings):
    engine = feedback_database.create_engine(unreachable_url(backend, tmp_path))
    store = FeedbackStore(engine)
    outcome = []

    def attempt():
        try:
            store.save(label_for(drawings[0]))
        except Exception as error:  # inspected below
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10 * feedback_database.CONNECT_TIMEOUT_S)
    assert not worker.is_alive(), "saving hung on an unreachable database"
    (error,) = outcome
    assert isinstance(error, StorageUnavailable)
    assert str(error) == "Saving feedback is unavailable right now."
    for read in (store.history, store.summary, lambda: next(store.rows()), store.ping):
        with pytest.raises(StorageUnavailable, match="is unavailable right now"):
            read()


def test_the_message_names_no_database_detail_and_the_log_keeps_them_without_password(
    drawings, caplog
):
    port = free_port()
    url = f"postgresql+psycopg://app:hunter2@127.0.0.1:{port}/feedback_db"
    with (
        caplog.at_level(logging.WARNING, logger="feedback.database"),
        pytest.raises(StorageUnavailable) as raised,
    ):
        FeedbackStore(feedback_database.create_engine(url)).save(label_for(drawings[0]))
    for detail in ("hunter2", "app", "127.0.0.1", str(port), "feedback_db"):
        assert detail not in str(raised.value)
    assert "127.0.0.1" in caplog.text and "feedback_db" in caplog.text
    assert "hunter2" not in caplog.text


def test_an_unencoded_at_sign_in_the_password_is_refused_without_showing_it():
    environ = {"DATABASE_URL": "postgresql://app:pa@ss-secret@db.example.org/digits"}
    with pytest.raises(ValueError, match="percent-encoded, as %40") as raised:
        feedback_settings.database_url(environ)
    assert "ss-secret" not in str(raised.value) and "pa" not in str(raised.value).split("'")[0]


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
    monkeypatch.setattr(feedback_database, "SQLITE_BUSY_TIMEOUT_S", 0.2)  # fail fast on the lock
    store = FeedbackStore(feedback_database.create_engine(database_url), retry_after_s=0)
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
    monkeypatch.setattr(feedback_database, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    clock = [1000.0]
    monkeypatch.setattr(feedback_database, "monotonic", lambda: clock[0])
    engine = feedback_database.create_engine(database_url)
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
        assert again.value.reason == first.value.reason != ""

    clock[0] += 2
    assert store.save(label_for(drawings[1]))
    assert attempts != []
    assert store.count() == 2
    engine.dispose()


def call_timed(action) -> tuple[float, BaseException | None]:
    """Seconds an action took (in a thread, so a hang cannot stall the tests) and its error."""
    outcome: list[BaseException | None] = []

    def attempt():
        try:
            action()
            outcome.append(None)
        except Exception as error:  # inspected by the caller
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the call hung"
    return time.monotonic() - started, outcome[0]


@pytest.mark.postgres
@pytest.mark.parametrize("pool", ["pooled connection", "new connection"])
def test_a_frozen_database_answers_unavailable_within_5_seconds(pool, postgres_server, drawings):
    """SIGSTOP leaves the sockets open and nothing answering: every call still ends in time."""
    engine = feedback_database.create_engine(postgres_server.create_database())
    store = FeedbackStore(engine, retry_after_s=0)
    assert store.save(label_for(drawings[0]))
    if pool == "new connection":
        engine.dispose()
    with postgres_server.frozen():
        for action in (
            lambda: store.save(label_for(drawings[1])),
            lambda: store.history(session_id="session-a"),
            store.summary,
            lambda: list(store.rows()),
            store.ping,
        ):
            seconds, error = call_timed(action)
            assert isinstance(error, StorageUnavailable), error
            assert str(error).endswith("is unavailable right now.")
            assert seconds < 5
    # Once the server runs again, the same store saves without a restart.
    assert store.save(label_for(drawings[1]))
    assert store.count() == 2
    engine.dispose()


@pytest.mark.postgres
def test_a_value_the_database_refuses_is_a_refused_label_not_an_outage(
    postgres_server, drawings, monkeypatch
):
    engine = feedback_database.create_engine(postgres_server.create_database())
    store = FeedbackStore(engine)  # retries only after 10 s: an outage would show at once
    # With the check on this field switched off, the server itself refuses the NUL byte.
    with monkeypatch.context() as patched:
        patched.setattr(feedback_labels, "validate_session_id", lambda value: value)
        with pytest.raises(FeedbackError, match="refused this label's values"):
            store.save(label_for(drawings[0], session_id="a\x00b"))
    assert store.save(label_for(drawings[0]))  # saving goes on for everyone at once
    with pytest.raises(FeedbackError, match="whole number from 1 to 10,000, got -1"):
        store.history(limit=-1)
    assert store.history(limit=5)[0].true_digit == drawings[0][2]
    engine.dispose()


# --- configuration -------------------------------------------------------------------------


class NoSecretsFile(dict):
    """Behaves like st.secrets when there is no secrets.toml."""

    def __getitem__(self, key):
        raise FileNotFoundError("No secrets found.")


def test_database_url_comes_from_environment_then_secrets_then_sqlite_default():
    secrets = {"connections": {"feedback": {"url": "postgresql+psycopg://s@db/from_secrets"}}}
    default = f"sqlite:///{feedback_settings.DEFAULT_SQLITE_PATH}"
    assert feedback_settings.database_url({}, None) == default
    assert feedback_settings.database_url({}, NoSecretsFile()) == default
    assert feedback_settings.database_url({}, {"connections": {}}) == default
    assert feedback_settings.database_url({}, secrets).endswith("/from_secrets")
    with pytest.raises(ValueError, match=r"\[connections.feedback\] .* needs a url"):
        feedback_settings.database_url({}, {"connections": {"feedback": {"host": "db"}}})
    pool_only = {"connections": {"feedback": {"create_engine_kwargs": {"pool_size": 2}}}}
    assert feedback_settings.database_url({}, pool_only) == default
    environ = {"DATABASE_URL": "postgresql+psycopg://e@db/generic"}
    assert feedback_settings.database_url(environ, secrets).endswith("/generic")
    environ["DIGIT_FEEDBACK_DB_URL"] = "postgresql+psycopg://e@db/specific"
    assert feedback_settings.database_url(environ, secrets).endswith("/specific")


def test_the_process_keeps_one_store_per_database_and_engine_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    found = []
    threads = [
        threading.Thread(target=lambda: found.append(feedback_store.shared_store(url)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and all(store is found[0] for store in found)
    assert feedback_store.shared_store(url, {}) is found[0]
    pooled = feedback_store.shared_store(url, {"pool_size": 2})
    assert pooled is not found[0] and feedback_store.shared_store(url, {"pool_size": 2}) is pooled
    assert pooled.engine.pool.size() == 2
    found[0].ping()


def test_engine_settings_come_from_secrets_toml():
    settings = {"pool_size": 2, "connect_args": {"application_name": "digits"}}
    secrets = {"connections": {"feedback": {"url": "sqlite://", "create_engine_kwargs": settings}}}
    assert feedback_settings.secrets_engine_kwargs(secrets) == settings
    assert feedback_settings.secrets_engine_kwargs({"connections": {"feedback": {}}}) == {}
    assert feedback_settings.secrets_engine_kwargs(NoSecretsFile()) == {}
    assert feedback_settings.secrets_engine_kwargs(None) == {}
    with pytest.raises(ValueError, match="must be a table"):
        feedback_settings.secrets_engine_kwargs(
            {"connections": {"feedback": {"create_engine_kwargs": 5}}}
        )


@pytest.mark.postgres
def test_engine_settings_update_the_apps_own_and_keep_its_timeouts(postgres_server, monkeypatch):
    for name in feedback_settings.URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings = {"pool_size": 3, "connect_args": {"application_name": "digits"}}
    section = {"url": postgres_server.create_database(), "create_engine_kwargs": settings}
    store = feedback_store.configured_store({"connections": {"feedback": section}})
    assert store.engine.pool.size() == 3
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW application_name").scalar() == "digits"
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "2500ms"


@pytest.mark.parametrize(
    ("section", "logged"),
    [
        ({"url": "postgresql//app:hunter2@db/x"}, "URL cannot be read"),
        ({"url": "oracle://app:hunter2@db/x"}, "No module named 'oracledb'"),
        ({"url": "sqlite://", "create_engine_kwargs": {"pool_sise": 2}}, "pool_sise"),
    ],
    ids=["unreadable URL", "unsupported database", "unknown engine setting"],
)
def test_a_setting_that_cannot_be_used_is_unavailable_and_logged_without_password(
    section, logged, monkeypatch, caplog
):
    for name in feedback_settings.URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with (
        caplog.at_level(logging.WARNING, logger="feedback.store"),
        pytest.raises(StorageUnavailable, match="Feedback storage is unavailable right now"),
    ):
        feedback_store.configured_store({"connections": {"feedback": section}})
    assert logged in caplog.text and "hunter2" not in caplog.text


def test_postgres_urls_without_a_driver_use_psycopg_3():
    for url in ("postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d"):
        assert feedback_settings.database_url({"DATABASE_URL": url}) == (
            "postgresql+psycopg://u:p@h:5432/d"
        )
    sqlite_url = "sqlite:////srv/feedback.db"
    assert feedback_settings.database_url({"DATABASE_URL": sqlite_url}) == sqlite_url


def test_the_default_sqlite_file_lies_in_the_project_and_is_ignored_by_git():
    root = REPO_ROOT
    assert feedback_settings.DEFAULT_SQLITE_PATH.parent == root
    for name in ("feedback.db", "feedback.db-wal", "feedback.db-shm"):
        checked = subprocess.run(["git", "check-ignore", "-q", name], cwd=root, check=False)
        assert checked.returncode == 0, f"{name} is not ignored by git"


def test_other_databases_are_refused_clearly():
    engine = sa.create_engine("mysql+pymysql://u@h/d", module=sqlite3)
    with pytest.raises(ValueError, match="SQLite and PostgreSQL, not mysql"):
        FeedbackStore(engine)
