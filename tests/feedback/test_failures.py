"""The feedback store and bad input or a bad database: clear refusals, and a database that
is unreachable, frozen, or goes away and comes back."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import pytest
import sqlalchemy as sa

from devtools.page import free_port
from feedback import database as feedback_database
from feedback import labels as feedback_labels
from feedback import settings as feedback_settings
from feedback.database import StorageUnavailable
from feedback.labels import FeedbackError
from feedback.store import FeedbackStore
from tests.support.labels import label_for

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
