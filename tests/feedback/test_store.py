"""The feedback store on SQLite and PostgreSQL: saving and reading labels back, accuracy,
the exports, and a table from an earlier release brought up to date."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from feedback import database as feedback_database
from feedback import export as feedback_export
from feedback import store as feedback_store
from feedback.store import FeedbackStore
from tests.support.labels import label_for, make_earlier_table


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
