"""The feedback database's engine and connections, SQLite or PostgreSQL: every call answers
within about 5 s whatever the database does, and a database that fails is StorageUnavailable,
with what went wrong in the server log, never the password.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from time import monotonic, sleep

import sqlalchemy as sa

from feedback.labels import FeedbackError
from feedback.schema import SCHEMA_LOCK_KEY, create_tables, feedback_table, metadata
from feedback.settings import database_url

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
POSTGRES_DISK_FULL = "53100"  # the SQLSTATE of PostgreSQL's disk_full

logger = logging.getLogger(__name__)


class StorageUnavailable(RuntimeError):
    """The feedback database cannot be reached or used right now; recognition still works.

    The message names no database detail, so it can be shown to anyone; `reason` (what the
    driver said, which may name the host) is for the server log.
    """

    said = "{action} is unavailable right now."  # the message, of the action that failed

    def __init__(self, action: str, reason: str = "") -> None:
        super().__init__(self.said.format(action=action))
        self.reason = reason


class StorageFull(StorageUnavailable):
    """The feedback database's disk is full: nothing more is saved until room is made there.

    What is stored stays stored and can be read, and recognition still works; trying again
    in a moment does not help, so the message says why instead.
    """

    said = "{action} is not possible: the server's disk is full."


def engine_options(url: str) -> dict:
    """create_engine keyword arguments that bound every wait: pool, connect, statement, socket.

    PostgreSQL connections are pinged by Database itself, under its watchdog, rather
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


class Database:
    """A SQLite or PostgreSQL database holding the feedback schema, made on first use; the
    feedback store (`feedback.store`) and the feedback modules' own tables are used through it.

    Every call is bounded in time (see engine_options and QUERY_TIMEOUT_S). After a failure
    it answers StorageUnavailable at once for `retry_after_s` seconds instead of trying
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

    @property
    def not_made_yet(self) -> bool:
        """Whether this is a SQLite file no one has saved to yet: reading it would only create
        an empty one."""
        url = self.engine.url
        return url.get_backend_name() == "sqlite" and not (
            url.database in (None, "", ":memory:") or Path(url.database).exists()
        )

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
            if _disk_full(cause):
                # The database answered at once, and reads still work: no waiting it out.
                logger.warning("%s failed: the feedback database's disk is full", action)
                raise StorageFull(action, reason) from error
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
                    create_tables(own_connection, [feedback_table])
            else:
                with connection.begin():
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
                    create_tables(connection, metadata.sorted_tables)
            self._schema_ready = True


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


def _lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit number) of a name, in every process."""
    digest = hashlib.sha256(f"digit-reader/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _disk_full(error: BaseException) -> bool:
    """Whether a driver's error says the database's disk is full (SQLite or PostgreSQL)."""
    sqlite_code = getattr(error, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF == sqlite3.SQLITE_FULL  # the primary code of an extended one
    return getattr(error, "sqlstate", None) == POSTGRES_DISK_FULL


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
