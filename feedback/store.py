"""Feedback storage: the digit a person meant, kept with their drawing, in SQLite or PostgreSQL.

Works on a plain SQLAlchemy Engine, so it runs and is tested without Streamlit; the
server process keeps one store per configured database (`configured_store`), which the
page's sessions and the server's routes (downloads, readiness) share. One schema
(`feedback.schema`) serves both dialects, every value travels as a bound parameter, and a
drawing saved twice (a double click, two tabs, a retry) is stored once: its id is a hash
of its content (`feedback.labels`), kept UNIQUE, and saving an id already there only sets
its true digit. How the database is chosen is in `feedback.settings`; how every call is
bounded in time, and a failure reported, in `feedback.database`.
"""

from __future__ import annotations

import json
import logging
import numbers
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from feedback.database import Database, StorageUnavailable, create_engine
from feedback.labels import (
    IMAGE_SHAPE,
    FeedbackError,
    LabelledDrawing,
    drawing_id,
    validate_image,
    validate_label,
    validate_session_id,
    validate_strokes,
)
from feedback.schema import feedback_table
from feedback.settings import database_url, plain_dict, secrets_engine_kwargs

NO_DIGIT = 10  # the summary's column of drawings the page gave no digit for
MAX_ROWS_PER_CALL = 10_000  # the most rows one history or export chunk may ask for
EXPORT_CHUNK_ROWS = 500  # rows read per call while an export streams

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Entry:
    """One stored label as the history shows it (strokes are fetched on demand)."""

    drawing_id: str
    created_at: datetime
    session_id: str
    predicted_digit: int
    confidence: float
    true_digit: int
    image: np.ndarray  # (28, 28) uint8
    refused: bool  # the page answered with no digit

    @property
    def correct(self) -> bool:
        """Whether the page's answer was the digit the person meant."""
        return not self.refused and self.predicted_digit == self.true_digit


@dataclass(frozen=True, eq=False)
class StoredLabel(Entry):
    """One stored label in full, as exports write it."""

    strokes: str | None  # the canvas's json_data as JSON text


@dataclass(frozen=True, eq=False)
class Example:
    """One of a visitor's labels as an example of their handwriting: the drawing, by its id and
    its 28x28 input, and the digit they meant."""

    drawing_id: str
    image: np.ndarray  # (28, 28) uint8
    true_digit: int


class ExamplesStamp(NamedTuple):
    """Where a visitor's labels stand at one moment. Any label saved, forgotten, deleted or
    changed in place (a mis-tap mended in another tab) changes it, even where a new row takes
    the number of one deleted (SQLite reuses the numbers of the table's last rows)."""

    count: int  # labels remembered (not forgotten)...
    newest: int  # ...the newest one's row...
    digits: int  # ...and a checksum of their digits: each row's number times its digit and one
    first_saved: datetime | None  # when the oldest label, forgotten or not, was saved...
    last_saved: datetime | None  # ...and the newest

    def deleted_since(self, before: ExamplesStamp) -> bool:
        """Whether every label saved at `before` is gone: a visitor's labels are deleted all
        at once, and any given since are newer (a forgotten label given again is saved anew)."""
        return before.last_saved is not None and (
            self.first_saved is None or self.first_saved > before.last_saved
        )


NO_EXAMPLES = ExamplesStamp(0, 0, 0, None, None)
_REMEMBERED = sa.not_(feedback_table.c.forgotten)
# Built once: the stamp is asked for before every reading, and building the statement anew
# cost as long again as the database takes to answer it (0.2 ms with 1,000 labels).
_STAMP = sa.select(
    sa.func.coalesce(sa.func.sum(sa.case((_REMEMBERED, 1), else_=0)), 0),
    sa.func.coalesce(sa.func.max(sa.case((_REMEMBERED, feedback_table.c.id))), 0),
    sa.func.coalesce(
        sa.func.sum(
            sa.case((_REMEMBERED, feedback_table.c.id * (feedback_table.c.true_digit + 1)))
        ),
        0,
    ),
    sa.func.min(feedback_table.c.created_at),
    sa.func.max(feedback_table.c.created_at),
).where(feedback_table.c.session_id == sa.bindparam("whose"))


@dataclass(frozen=True, eq=False)
class Summary:
    """How the model did on labelled drawings: counts and a confusion matrix."""

    labelled: int
    correct: int
    # (10, 11) counts; rows are true digits, columns the digit answered, the last one no digit
    confusion: np.ndarray

    @property
    def accuracy(self) -> float | None:
        """Share of labelled drawings the model read right, None before the first label."""
        return self.correct / self.labelled if self.labelled else None


def validate_limit(value: object) -> int:
    """A number of rows to read: a whole number from 1 to MAX_ROWS_PER_CALL."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 < value <= MAX_ROWS_PER_CALL
    ):
        raise FeedbackError(
            f"The number of rows must be a whole number from 1 to {MAX_ROWS_PER_CALL:,}, "
            f"got {value!r}."
        )
    return int(value)


class FeedbackStore(Database):
    """Labels in one table of the database: saved (a drawing saved again is relabelled),
    counted, listed newest first, exported oldest first, and summed up as a confusion matrix.
    """

    def save(self, label: LabelledDrawing) -> bool:
        """Store a label; True when the drawing is new. A drawing stored before keeps its one
        row, and its true digit becomes this label's (a double click, a retry, a mis-tap
        mended); what the page answered stays as first stored, and so does when, but for a
        label forgotten: labelled again, it is as new as a new label, in History and among
        the examples."""
        row = validate_label(label)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = (
            dialect.insert(feedback_table)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["drawing_id"])
            .returning(feedback_table.c.id)
        )
        relabel = (
            sa.update(feedback_table)
            .where(feedback_table.c.drawing_id == row["drawing_id"])
            .values(
                true_digit=row["true_digit"],
                forgotten=False,  # labelled anew: remembered
                created_at=sa.case(
                    (feedback_table.c.forgotten, row["created_at"]),
                    else_=feedback_table.c.created_at,
                ),
            )
        )
        with self._connection("Saving feedback", write=True) as connection:
            if connection.execute(insert).first() is not None:
                return True
            connection.execute(relabel)
            return False

    def saved_digit(
        self, session_id: str, image: np.ndarray, strokes: Mapping | None
    ) -> int | None:
        """The digit this visitor saved for this drawing, or None when they have not saved it."""
        drawing = drawing_id(
            validate_session_id(session_id), validate_image(image), validate_strokes(strokes)
        )
        query = sa.select(feedback_table.c.true_digit).where(feedback_table.c.drawing_id == drawing)
        with self._connection("Reading feedback") as connection:
            return connection.execute(query).scalar_one_or_none()

    def examples_stamp(self, session_id: str) -> ExamplesStamp:
        """Where this visitor's examples stand now (see ExamplesStamp): one indexed query, cheap
        enough to ask before every reading."""
        whose = validate_session_id(session_id)
        if self.not_made_yet:
            return NO_EXAMPLES
        with self._connection("Reading feedback") as connection:
            return self._stamp(connection, whose)

    def examples(self, session_id: str, limit: int) -> tuple[ExamplesStamp, list[Example]]:
        """This visitor's latest `limit` labels not forgotten, oldest first, and their stamp."""
        columns = feedback_table.c
        whose = validate_session_id(session_id)
        query = (
            sa.select(columns.drawing_id, columns.image, columns.true_digit)
            .where(columns.session_id == whose, sa.not_(columns.forgotten))
            .order_by(columns.created_at.desc(), columns.id.desc())
            .limit(validate_limit(limit))
        )
        if self.not_made_yet:
            return NO_EXAMPLES, []
        with self._connection("Reading feedback") as connection:
            stamp = self._stamp(connection, whose)
            rows = connection.execute(query).all()
        examples = [
            Example(
                drawing_id=row.drawing_id,
                image=np.frombuffer(row.image, dtype=np.uint8).reshape(IMAGE_SHAPE),
                true_digit=row.true_digit,
            )
            for row in reversed(rows)
        ]
        return stamp, examples

    def forget_examples(self, session_id: str) -> int:
        """Stop this visitor's labels from being examples of their handwriting, for good; they
        stay saved. How many were forgotten."""
        columns = feedback_table.c
        whose = columns.session_id == validate_session_id(session_id)
        forget = (
            sa.update(feedback_table)
            .where(whose, sa.not_(columns.forgotten))
            .values(forgotten=True)
        )
        with self._connection("Forgetting examples", write=True) as connection:
            return connection.execute(forget).rowcount

    def delete(self, session_id: str) -> int:
        """Delete every label this visitor saved, and nobody else's; how many were deleted."""
        whose = feedback_table.c.session_id == validate_session_id(session_id)
        with self._connection("Deleting labels", write=True) as connection:
            return connection.execute(sa.delete(feedback_table).where(whose)).rowcount

    @staticmethod
    def _stamp(connection: sa.Connection, session_id: str) -> ExamplesStamp:
        count, newest, digits, first, last = connection.execute(_STAMP, {"whose": session_id}).one()
        return ExamplesStamp(int(count), int(newest), int(digits), first, last)

    def count(self, session_id: str | None = None) -> int:
        """How many labels are stored, or how many one session gave."""
        query = sa.select(sa.func.count()).select_from(feedback_table)
        if session_id is not None:
            query = query.where(feedback_table.c.session_id == validate_session_id(session_id))
        with self._connection("Reading feedback") as connection:
            return connection.execute(query).scalar_one()

    def history(self, limit: int = 100, session_id: str | None = None) -> list[Entry]:
        """The latest labels, newest first, those saved at one time (a number's digits) in the
        order saved; only one session's when session_id is given."""
        columns = feedback_table.c
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .order_by(columns.created_at.desc(), columns.id)
            .limit(validate_limit(limit))
        )
        if session_id is not None:
            query = query.where(columns.session_id == validate_session_id(session_id))
        with self._connection("Reading feedback") as connection:
            rows = connection.execute(query).all()
        return [_entry(row) for row in rows]

    def rows(
        self, session_id: str | None = None, chunk_size: int = EXPORT_CHUNK_ROWS
    ) -> Iterator[StoredLabel]:
        """Every stored label (one session's when given), oldest first, strokes included.

        Read in chunks, each its own short call, so no connection is held while the rows
        are consumed (an export streamed to a slow download, say), and memory stays bounded.
        """
        columns = feedback_table.c
        query = (
            sa.select(*_ENTRY_COLUMNS, columns.strokes, columns.id)
            .order_by(columns.created_at, columns.id)
            .limit(validate_limit(chunk_size))
        )
        if session_id is not None:
            query = query.where(columns.session_id == validate_session_id(session_id))
        after: tuple[datetime, int] | None = None
        while True:
            chunk_query = query
            if after is not None:
                chunk_query = query.where(
                    sa.or_(
                        columns.created_at > after[0],
                        sa.and_(columns.created_at == after[0], columns.id > after[1]),
                    )
                )
            with self._connection("Exporting feedback") as connection:
                chunk = connection.execute(chunk_query).all()
            for row in chunk:
                yield StoredLabel(**vars(_entry(row)), strokes=row.strokes)
            if len(chunk) < chunk_size:
                return
            after = (chunk[-1].created_at, chunk[-1].id)

    def summary(self, session_id: str | None = None) -> Summary:
        """Accuracy and confusion matrix over all labels, or one session's."""
        columns = feedback_table.c
        answered = sa.case((columns.refused, NO_DIGIT), else_=columns.predicted_digit)
        query = sa.select(columns.true_digit, answered, sa.func.count()).group_by(
            columns.true_digit, answered
        )
        if session_id is not None:
            query = query.where(columns.session_id == validate_session_id(session_id))
        with self._connection("Reading feedback") as connection:
            cells = connection.execute(query).all()
        confusion = np.zeros((10, NO_DIGIT + 1), dtype=np.int64)
        for true_digit, answer, count in cells:
            confusion[true_digit, answer] = count
        return Summary(
            labelled=int(confusion.sum()), correct=int(confusion.trace()), confusion=confusion
        )


_stores: dict[tuple[str, str], FeedbackStore] = {}  # (url, engine settings as JSON) -> store
_stores_lock = threading.Lock()


def shared_store(url: str, engine_kwargs: Mapping | None = None) -> FeedbackStore:
    """The process's one store for a database URL and engine settings (see create_engine),
    made on first use; its engine's pool serves every session and route. Thread-safe."""
    settings = plain_dict(engine_kwargs or {})
    key = (url, json.dumps(settings, sort_keys=True, default=repr))
    with _stores_lock:
        if key not in _stores:
            _stores[key] = FeedbackStore(create_engine(url, settings))
        return _stores[key]


def configured_store(secrets: Mapping | None = None) -> FeedbackStore:
    """The process's store for the configured database (see database_url) with secrets.toml's
    engine settings; StorageUnavailable when the setting cannot be used.

    The page passes `st.secrets`, and so does the server for its routes. What is wrong with
    the setting goes to the server log, never with the URL's password.
    """
    try:
        return shared_store(database_url(secrets=secrets), secrets_engine_kwargs(secrets))
    except sa.exc.ArgumentError as error:
        # SQLAlchemy's message quotes the URL, password included: leave it out of the log too.
        logger.warning(
            "The feedback database URL cannot be read; check DIGIT_FEEDBACK_DB_URL, "
            "DATABASE_URL or [connections.feedback] in .streamlit/secrets.toml."
        )
        raise StorageUnavailable("Feedback storage", "unreadable database URL") from error
    except (ValueError, TypeError, ImportError) as error:
        logger.warning("The feedback database cannot be used: %s", error)
        raise StorageUnavailable("Feedback storage", str(error)) from error


_ENTRY_COLUMNS = tuple(
    feedback_table.c[name]
    for name in (
        "drawing_id",
        "created_at",
        "session_id",
        "predicted_digit",
        "confidence",
        "true_digit",
        "image",
        "refused",
    )
)


def _entry(row: sa.Row) -> Entry:
    return Entry(
        drawing_id=row.drawing_id,
        created_at=_as_utc(row.created_at),
        session_id=row.session_id,
        predicted_digit=row.predicted_digit,
        confidence=row.confidence,
        true_digit=row.true_digit,
        image=np.frombuffer(row.image, dtype=np.uint8).reshape(IMAGE_SHAPE),
        refused=bool(row.refused),
    )


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
