"""The feedback store shared: restarts, replicas creating or upgrading the schema at once,
writers saving at once, a writer holding SQLite's lock, and a read-only disk."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest

from devtools import REPO_ROOT
from feedback import database as feedback_database
from feedback import labels as feedback_labels
from feedback.labels import LabelledDrawing
from feedback.store import FeedbackStore
from tests.support.labels import LABELS_PER_WRITER, label_for, make_earlier_table

WRITERS = 8
SAVE_TRIES = 3


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
