"""Feedback storage: the digit a person meant, kept with their drawing, in SQLite or PostgreSQL.

Works on a plain SQLAlchemy Engine, so it runs and is tested without Streamlit; the
server process keeps one store per configured database (`configured_store`), which the
page's sessions and the server's routes (downloads, readiness) share. One schema in
SQLAlchemy Core serves both dialects, every value travels as a bound parameter, and a
drawing saved twice (a double click, two tabs, a retry) is stored once: its id is a hash
of its content, kept UNIQUE, and saving an id already there only sets its true digit.

On PostgreSQL, which every replica of the app shares, two more tables keep what the
replicas must agree on: the download links (`download_link`) and the moments counted by
the save and owner-guess limits (`rate_event`). A SQLite file belongs to one machine, so
with SQLite those stay in the process's memory (`downloads`, `rate_limit`).

The 28x28 input is kept as 784 bytes (uint8, row-major, 0 = no ink, 255 = full ink, as
in MNIST) and the canvas strokes (`json_data`) as JSON text, so a drawing can be
re-rendered later.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import numbers
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic, sleep

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from preprocess import FIELD

CONNECTION_NAME = "feedback"  # [connections.feedback] in secrets.toml
URL_VARIABLES = ("DIGIT_FEEDBACK_DB_URL", "DATABASE_URL")  # checked in this order
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parent.parent / "feedback.db"

IMAGE_SHAPE = (FIELD, FIELD)
NO_DIGIT = 10  # the summary's column of drawings the page gave no digit for
MAX_STROKES = 200  # strokes kept per drawing: a digit takes a handful, a long number dozens
MAX_STROKES_BYTES = 512 * 1024  # a messy digit's strokes take tens of kB
MAX_SESSION_ID_LENGTH = 64
MAX_ROWS_PER_CALL = 10_000  # the most rows one history or export chunk may ask for
EXPORT_CHUNK_ROWS = 500  # rows read per call while an export streams

# Every database call answers within about 5 s, whatever the database does: waiting for a
# pooled connection, opening one, and the call itself are each bounded.
POOL_TIMEOUT_S = 0.5  # waiting for a free connection in the pool
CONNECT_TIMEOUT_S = 2  # opening a PostgreSQL connection (libpq's smallest timeout)
QUERY_TIMEOUT_S = 2.5  # one call: the server's statement_timeout and the client's watchdog
# How long a save may wait for other SQLite writers: what is left of the 5 s once the pool
# has answered, as eight sessions saving at once on a busy machine can take 3 s between them.
SQLITE_BUSY_TIMEOUT_S = 4.5
SQLITE_WAL_RETRY_S = 0.05  # between tries to switch a new SQLite file to WAL (see _use_wal)
KEEPALIVE_IDLE_S = 10  # TCP keepalives find a vanished host behind an idle pooled connection
RETRY_AFTER_S = 10  # after a failure, answer "unavailable" at once for this long
SCHEMA_LOCK_KEY = 0x6469676974  # PostgreSQL advisory lock: one replica creates the schema

logger = logging.getLogger(__name__)

metadata = sa.MetaData()
feedback_table = sa.Table(
    "digit_feedback",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("drawing_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("session_id", sa.String(MAX_SESSION_ID_LENGTH), nullable=False),
    sa.Column("predicted_digit", sa.SmallInteger, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("true_digit", sa.SmallInteger, nullable=False),
    sa.Column("image", sa.LargeBinary, nullable=False),
    sa.Column("strokes", sa.Text, nullable=True),
    # The page gave no digit ("Not a digit", "Too small"): predicted_digit is only the digit
    # the model leaned to. Added after the table's first release (see _add_missing_columns).
    sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("predicted_digit BETWEEN 0 AND 9", name="predicted_digit_is_a_digit"),
    sa.CheckConstraint("true_digit BETWEEN 0 AND 9", name="true_digit_is_a_digit"),
    sa.CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_is_a_probability"),
    sa.CheckConstraint("length(image) = 784", name="image_is_28x28_bytes"),
    sa.Index("ix_digit_feedback_created_at", "created_at"),
    sa.Index("ix_digit_feedback_session_created_at", "session_id", "created_at"),
)
# What every replica must agree on, kept on PostgreSQL only (see the module's docstring).
download_link_table = sa.Table(
    "download_link",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("whose", sa.String(MAX_SESSION_ID_LENGTH), nullable=True),  # None: everyone's
    sa.Column("requester", sa.String(MAX_SESSION_ID_LENGTH), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # seconds since the epoch
    sa.Index("ix_download_link_requester", "requester"),
    sa.Index("ix_download_link_expires_at", "expires_at"),
)
rate_event_table = sa.Table(
    "rate_event",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("limit_name", sa.String(32), nullable=False),
    sa.Column("session_id", sa.String(MAX_SESSION_ID_LENGTH), nullable=False),
    sa.Column("at", sa.Float, nullable=False),  # seconds since the epoch
    sa.Index("ix_rate_event_limit_at", "limit_name", "at"),
    sa.Index("ix_rate_event_limit_session_at", "limit_name", "session_id", "at"),
)


class FeedbackError(ValueError):
    """A label that cannot be stored as given; the message says what is wrong."""


class StorageUnavailable(RuntimeError):
    """The feedback database cannot be reached or used right now; recognition still works.

    The message names no database detail, so it can be shown to anyone; `reason` (what the
    driver said, which may name the host) is for the server log.
    """

    def __init__(self, action: str, reason: str = "") -> None:
        super().__init__(f"{action} is unavailable right now.")
        self.reason = reason


@dataclass(frozen=True, eq=False)
class LabelledDrawing:
    """The digit a person meant for one drawing, with what the model answered."""

    session_id: str
    predicted_digit: int
    confidence: float
    true_digit: int
    image: np.ndarray  # the (28, 28) model input: float in [0, 1] or uint8 0..255
    strokes: Mapping | None = None  # the canvas's json_data
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    refused: bool = False  # the page answered with no digit, only `predicted_digit` leaned to


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


def validate_digit(value: object, what: str) -> int:
    """A digit 0-9 as int; anything else (10, -1, "3", None, True) is a FeedbackError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= 9:
        raise FeedbackError(f"The {what} must be a whole number from 0 to 9, got {value!r}.")
    return int(value)


def validate_flag(value: object, what: str) -> bool:
    """A bool (numpy's too); anything else is a FeedbackError."""
    if not isinstance(value, bool | np.bool_):
        raise FeedbackError(f"{what} must be True or False, got {value!r}.")
    return bool(value)


def validate_confidence(value: object) -> float:
    """A probability in [0, 1] as float."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise FeedbackError(f"The confidence must be a number from 0 to 1, got {value!r}.")
    return float(value)


def validate_session_id(value: object) -> str:
    """A non-empty session id of at most MAX_SESSION_ID_LENGTH printable characters."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SESSION_ID_LENGTH:
        shown = f"{len(value)} characters" if isinstance(value, str) else repr(value)
        raise FeedbackError(
            f"The session id must be text of 1 to {MAX_SESSION_ID_LENGTH} characters, got {shown}."
        )
    if not value.isprintable():  # NUL bytes, control characters, lone surrogates
        raise FeedbackError("The session id must hold printable characters only.")
    return value


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


def validate_image(image: object) -> bytes:
    """The 28x28 input as 784 uint8 bytes; floats must lie in [0, 1]."""
    shape = getattr(image, "shape", None)
    if not isinstance(image, np.ndarray) or image.shape != IMAGE_SHAPE:
        raise FeedbackError(f"The drawing's input must be a 28x28 array, got shape {shape}.")
    if image.dtype == np.uint8:
        return image.tobytes()
    if not np.issubdtype(image.dtype, np.floating):
        raise FeedbackError(
            f"The drawing's input must be float in [0, 1] or uint8, got dtype {image.dtype}."
        )
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise FeedbackError("The drawing's input must hold values from 0 to 1.")
    return np.rint(image * 255).astype(np.uint8).tobytes()


def validate_strokes(strokes: object) -> str | None:
    """The canvas's json_data as compact JSON text of at most MAX_STROKES_BYTES, or None."""
    if strokes is None:
        return None
    if not isinstance(strokes, Mapping):
        raise FeedbackError(
            f"The strokes must be the canvas's json_data (a dict), got {type(strokes).__name__}."
        )
    if too_many_strokes(strokes):
        raise FeedbackError(too_many_strokes_message(len(strokes["objects"])))
    try:
        text = json.dumps(strokes, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except RecursionError as error:
        raise FeedbackError("The strokes are nested too deeply to be a drawing.") from error
    except (TypeError, ValueError) as error:
        raise FeedbackError(f"The strokes cannot be stored as JSON: {error}.") from error
    size = len(text.encode())
    if size > MAX_STROKES_BYTES:
        raise FeedbackError(
            f"The drawing's strokes take {size / 1024:,.0f} kB, more than the "
            f"{MAX_STROKES_BYTES // 1024} kB kept per drawing; clear the canvas and draw "
            "the digit again with fewer strokes."
        )
    return text


def too_many_strokes(strokes: Mapping | None) -> bool:
    """Whether the canvas's json_data holds more than MAX_STROKES strokes."""
    objects = strokes.get("objects") if isinstance(strokes, Mapping) else None
    return isinstance(objects, list) and len(objects) > MAX_STROKES


def too_many_strokes_message(count: int) -> str:
    """What to tell a person whose drawing has more strokes than are kept."""
    return (
        f"This drawing has {count:,} strokes, more than the {MAX_STROKES} kept per drawing. "
        "Clear the canvas and draw again."
    )


def validate_label(label: LabelledDrawing) -> dict:
    """Check every field of a label and return the row to store, drawing id included."""
    if not isinstance(label, LabelledDrawing):
        raise FeedbackError(f"Expected a LabelledDrawing, got {type(label).__name__}.")
    created_at = label.created_at
    if not isinstance(created_at, datetime) or created_at.tzinfo is None:
        raise FeedbackError(
            f"The label's time must be a timezone-aware datetime, got {created_at!r}."
        )
    row = {
        "session_id": validate_session_id(label.session_id),
        "predicted_digit": validate_digit(label.predicted_digit, "predicted digit"),
        "confidence": validate_confidence(label.confidence),
        "true_digit": validate_digit(label.true_digit, "true digit"),
        "refused": validate_flag(label.refused, "refused"),
        "image": validate_image(label.image),
        "strokes": validate_strokes(label.strokes),
        "created_at": created_at.astimezone(UTC),
    }
    row["drawing_id"] = drawing_id(row["session_id"], row["image"], row["strokes"])
    return row


def drawing_id(session_id: str, image: bytes, strokes: str | None) -> str:
    """A drawing's id: a hash of whose it is, its 784-byte input and its strokes' JSON text, so
    that the same drawing labelled again by the same visitor has the same id."""
    content = hashlib.sha256()
    for part in (session_id.encode(), image, (strokes or "").encode()):
        content.update(len(part).to_bytes(8, "big") + part)
    return content.hexdigest()


def database_url(environ: Mapping[str, str] | None = None, secrets: Mapping | None = None) -> str:
    """The feedback database's URL: environment, then secrets.toml, then the local SQLite file.

    `secrets` is `st.secrets` (or any mapping) holding `[connections.feedback] url = "..."`.
    PostgreSQL URLs without a driver get psycopg (version 3), the driver this app installs.
    """
    environ = os.environ if environ is None else environ
    url = next((environ[name] for name in URL_VARIABLES if environ.get(name)), None)
    source = next((name for name in URL_VARIABLES if environ.get(name)), "secrets.toml")
    if url is None:
        section = _secrets_section(secrets)
        url = section.get("url")
        if not url and any(key in section for key in ("dialect", "host", "username")):
            raise ValueError(
                f"[connections.{CONNECTION_NAME}] in .streamlit/secrets.toml needs a url, "
                'e.g. url = "postgresql://user:password@host:5432/digits".'
            )
    if not url:
        return readable_sqlite_url(f"sqlite:///{DEFAULT_SQLITE_PATH}")
    authority = url.partition("://")[2].partition("/")[0]
    if authority.count("@") > 1:
        # The URL would be split at the wrong "@", and part of the password taken for a host.
        raise ValueError(
            f"The feedback database URL in {source} has an '@' in its user name or password; "
            "write it percent-encoded, as %40."
        )
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url.removeprefix(bare)
    return readable_sqlite_url(url)


def _secrets_section(secrets: Mapping | None) -> Mapping:
    """`[connections.feedback]` of secrets.toml; empty without one."""
    if secrets is None:
        return {}
    try:
        return secrets["connections"][CONNECTION_NAME]
    except (KeyError, TypeError, FileNotFoundError):  # st.secrets without a secrets.toml
        return {}


def secrets_engine_kwargs(secrets: Mapping | None) -> dict:
    """`[connections.feedback.create_engine_kwargs]` of secrets.toml as plain dicts; {} without."""
    settings = _secrets_section(secrets).get("create_engine_kwargs", {})
    if not isinstance(settings, Mapping):
        raise ValueError(
            f"[connections.{CONNECTION_NAME}.create_engine_kwargs] in .streamlit/secrets.toml "
            "must be a table of SQLAlchemy engine settings, e.g. pool_size = 5."
        )
    return _plain(settings)


def _plain(mapping: Mapping) -> dict:
    """A mapping (st.secrets hands out its own kind) as a dict, at every depth."""
    return {
        key: _plain(value) if isinstance(value, Mapping) else value
        for key, value in mapping.items()
    }


def readable_sqlite_url(url: str) -> str:
    """The URL as given; for a SQLite file that exists but cannot be written (a read-only
    disk or folder), the same file opened immutable, so that its labels can still be read.

    In WAL mode even a reader writes beside the file (its -shm index), and fails on a
    read-only disk. Opened immutable, SQLite writes nothing and takes no locks; saving fails
    as unavailable, and the history shows what the file holds.
    """
    parsed = sa.make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path.startswith("file:"):
        return url
    file = Path(path)
    if not file.is_file() or (os.access(file, os.W_OK) and os.access(file.parent, os.W_OK)):
        return url
    return f"sqlite:///file:{file.resolve()}?immutable=1&uri=true"


def engine_options(url: str) -> dict:
    """create_engine keyword arguments that bound every wait: pool, connect, statement, socket.

    PostgreSQL connections are pinged by FeedbackStore itself, under its watchdog, rather
    than by the pool (whose ping no timeout covers).
    """
    backend = sa.make_url(url).get_backend_name()
    if backend == "sqlite":
        return {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S},
            "pool_pre_ping": True,
            "pool_timeout": POOL_TIMEOUT_S,
        }
    if backend == "postgresql":
        query_ms = round(QUERY_TIMEOUT_S * 1000)
        return {
            "connect_args": {
                "connect_timeout": CONNECT_TIMEOUT_S,
                # A replica that stalls mid-transaction (frozen, cut off) would keep its locks,
                # the links' and limits' advisory locks among them, until TCP noticed: the
                # server ends such a transaction after this long instead.
                "options": (
                    f"-c statement_timeout={query_ms} "
                    f"-c idle_in_transaction_session_timeout={2 * query_ms}"
                ),
                "keepalives": 1,
                "keepalives_idle": KEEPALIVE_IDLE_S,
                "keepalives_interval": 2,
                "keepalives_count": 2,
                "tcp_user_timeout": query_ms,
            },
            "pool_timeout": POOL_TIMEOUT_S,
        }
    return {}


def create_engine(url: str | None = None, engine_kwargs: Mapping | None = None) -> sa.Engine:
    """An engine for the feedback database (the configured one by default, see database_url).

    It has engine_options(url), updated by `engine_kwargs` (secrets.toml's
    create_engine_kwargs: a pool size, say); `connect_args` given there are added to the
    app's own, so that the timeouts stay.
    """
    url = url or database_url()
    options = engine_options(url)
    given = dict(engine_kwargs or {})
    own = options.get("connect_args", {})
    connect_args = {**own, **given.pop("connect_args", {})}
    if "options" in own and connect_args["options"] != own["options"]:
        connect_args["options"] = f"{own['options']} {connect_args['options']}"
    options.update(given)
    if connect_args:
        options["connect_args"] = connect_args
    return sa.create_engine(url, **options)


class DatabaseTimeout(Exception):
    """The database took longer than QUERY_TIMEOUT_S to answer a call."""


class _Watchdog:
    """Shuts a PostgreSQL connection's socket when a call on it outlasts its time.

    A server that is stopped but still connected (frozen, swapping, behind a stalled link)
    never answers and never closes the connection; its kernel even acknowledges what is
    sent, so neither TCP timeouts nor statement_timeout end the wait. Shutting the socket
    down ends it at once with a connection error, and the pool replaces the connection.
    """

    def __init__(self, socket_fileno: int, seconds: float) -> None:
        self._socket_fileno = socket_fileno
        self._lock = threading.Lock()
        self._stopped = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            with (
                contextlib.suppress(OSError),
                socket.socket(fileno=os.dup(self._socket_fileno)) as duplicate,
            ):
                duplicate.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """The call is over: leave the connection alone from now on."""
        with self._lock:
            self._stopped = True
        self._timer.cancel()


class FeedbackStore:
    """Labels in one table of a SQLite or PostgreSQL database; the schema is made on first use.

    Every call is bounded in time (see engine_options and QUERY_TIMEOUT_S). After a failure
    the store answers StorageUnavailable at once for `retry_after_s` seconds instead of trying
    again, so a page that reads history on every rerun does not wait on a dead database each
    time. What went wrong is logged, without the password; the exception's message names no
    database detail, so it can be shown to anyone.
    """

    def __init__(self, engine: sa.Engine, retry_after_s: float = RETRY_AFTER_S) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(
                f"Feedback storage works with SQLite and PostgreSQL, not {engine.dialect.name}."
            )
        self.engine = engine
        self.retry_after_s = retry_after_s
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._last_failure: tuple[float, str] | None = None  # (monotonic time, reason)
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @property
    def shared_by_replicas(self) -> bool:
        """Whether replicas on other machines may use this database too: PostgreSQL, not a
        SQLite file, which belongs to one machine."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self, action: str, lock: str | None = None) -> Iterator[sa.Connection]:
        """A transaction, bounded and reported like every call of the store (StorageUnavailable
        when the database fails), for the feedback modules' own tables.

        With `lock`, a PostgreSQL advisory lock of that name is held until the transaction
        ends, so that every process using the database takes its turn. `action` names what
        is unavailable in the message.
        """
        if lock is not None and not self.shared_by_replicas:
            raise ValueError("Only a PostgreSQL database takes locks across processes.")
        with self._connection(action, write=True) as connection:
            if lock is not None:
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(lock))))
            yield connection

    def ping(self) -> None:
        """Check that the database answers now, within the bounds of every call; raises
        StorageUnavailable when it does not (or failed less than retry_after_s ago)."""
        with self._connection("Feedback storage") as connection:
            connection.execute(sa.select(1))

    @contextmanager
    def _connection(self, action: str, write: bool = False) -> Iterator[sa.Connection]:
        """A connection (a transaction when writing) with the schema in place.

        Connection and server failures become StorageUnavailable; values the database
        refuses become FeedbackError, which leaves the store available to everyone else.
        """
        failure = self._last_failure
        if failure is not None and monotonic() - failure[0] < self.retry_after_s:
            raise StorageUnavailable(action, failure[1])
        try:
            with self._answered_connection() as connection:
                self._create_schema_once(connection)
                with connection.begin() if write else contextlib.nullcontext():
                    yield connection
        except (sa.exc.DataError, sa.exc.IntegrityError) as error:
            cause = getattr(error, "orig", None) or error
            logger.info("The feedback database refused a value: %s", _first_line(cause))
            raise FeedbackError(
                "The database refused this label's values; nothing was saved."
            ) from error
        except (
            sa.exc.DBAPIError,
            sa.exc.TimeoutError,
            DatabaseTimeout,
            self._driver_error,
        ) as error:
            cause = getattr(error, "orig", None) or error
            reason = _first_line(cause)
            self._last_failure = (monotonic(), reason)
            logger.warning(
                "%s is unavailable: the feedback database (%s) failed: %s",
                action,
                self.engine.url.render_as_string(hide_password=True),
                reason,
            )
            raise StorageUnavailable(action, reason) from error
        self._last_failure = None

    @contextmanager
    def _answered_connection(self) -> Iterator[sa.Connection]:
        """A pooled connection, given up on when the database leaves a call unanswered.

        On PostgreSQL a watchdog guards the whole call, and the connection is pinged first: a
        pooled connection that the server dropped (it restarted, say) is replaced once.
        """
        if self.engine.dialect.name != "postgresql":
            with self.engine.connect() as connection:
                yield connection
            return
        for attempt in (1, 2):
            with self.engine.connect() as connection:
                dbapi_connection = connection.connection.dbapi_connection
                watchdog = _Watchdog(dbapi_connection.pgconn.socket, QUERY_TIMEOUT_S)
                try:
                    if self._answers_ping(connection, retry=attempt == 1):
                        yield connection
                        return
                except (sa.exc.DBAPIError, self._driver_error) as error:
                    if watchdog.fired:
                        raise DatabaseTimeout(f"no answer within {QUERY_TIMEOUT_S:g} s") from error
                    raise
                finally:
                    watchdog.stop()

    def _answers_ping(self, connection: sa.Connection, retry: bool) -> bool:
        """Whether the connection answers; False (and invalidated) when the server dropped it."""
        dbapi_connection = connection.connection.dbapi_connection
        try:
            self.engine.dialect.do_ping(dbapi_connection)
        except self._driver_error as error:
            if retry and self.engine.dialect.is_disconnect(error, dbapi_connection, None):
                connection.invalidate()
                return False
            raise
        return True

    def _create_schema_once(self, connection: sa.Connection) -> None:
        """Create the tables and their indexes if missing; safe from many replicas at once.

        On PostgreSQL this runs on the guarded connection; SQLite, a local file, uses
        connections of its own, as two steps on one connection can deadlock another writer.
        """
        with self._schema_lock:
            if self._schema_ready:
                return
            if self.engine.dialect.name == "sqlite":
                _use_wal(self.engine)
                with self.engine.begin() as own_connection:
                    _create_schema(own_connection, [feedback_table])
            else:
                with connection.begin():
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
                    _create_schema(connection, metadata.sorted_tables)
            self._schema_ready = True

    def save(self, label: LabelledDrawing) -> bool:
        """Store a label; True when the drawing is new. A drawing stored before keeps its one
        row, and its true digit becomes this label's (a double click, a retry, a mis-tap
        mended); what the page answered, and when, stay as first stored."""
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
            .values(true_digit=row["true_digit"])
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


def _use_wal(engine: sa.Engine) -> None:
    """Switch a SQLite file to WAL, which lets readers go on while a writer commits; the file
    keeps the setting.

    Two connections switching a new file at once would wait on each other, so SQLite answers
    one of them "database is locked" at once instead of waiting: that one tries again until
    the busy timeout, by when the other has switched the file. Other failures end it at once.
    """
    deadline = monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            return
        except sa.exc.OperationalError as error:
            busy = getattr(error.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or monotonic() >= deadline:
                raise
            sleep(SQLITE_WAL_RETRY_S)


def _create_schema(connection: sa.Connection, tables: list[sa.Table]) -> None:
    for table in tables:
        connection.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            connection.execute(CreateIndex(index, if_not_exists=True))
    _add_missing_columns(connection)


def _add_missing_columns(connection: sa.Connection) -> None:
    """Give a feedback table made by an earlier release the columns added since, with their
    defaults: its rows are kept and read as they were."""
    preparer = connection.dialect.identifier_preparer
    there = _column_names(connection)
    # Every column added since has a server default, which the rows already there take.
    for column in [column for column in feedback_table.columns if column.name not in there]:
        kind = column.type.compile(dialect=connection.dialect)
        default = column.server_default.arg.compile(dialect=connection.dialect)
        try:
            connection.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(feedback_table)} ADD COLUMN "
                f"{preparer.format_column(column)} {kind} NOT NULL DEFAULT {default}"
            )
        except sa.exc.OperationalError:
            # Another process opening the same SQLite file at once added it first. PostgreSQL
            # replicas take turns under the schema's lock, and a failed statement there
            # ends the transaction: its error is the one to report.
            if connection.dialect.name != "sqlite" or column.name not in _column_names(connection):
                raise


def _column_names(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns(feedback_table.name)}


def _lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit number) of a name, in every process."""
    digest = hashlib.sha256(f"digit-reader/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_stores: dict[tuple[str, str], FeedbackStore] = {}  # (url, engine settings as JSON) -> store
_stores_lock = threading.Lock()


def shared_store(url: str, engine_kwargs: Mapping | None = None) -> FeedbackStore:
    """The process's one store for a database URL and engine settings (see create_engine),
    made on first use; its engine's pool serves every session and route. Thread-safe."""
    settings = _plain(engine_kwargs or {})
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


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
