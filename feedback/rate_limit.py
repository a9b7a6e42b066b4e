"""How often something may happen: per visitor and for the whole app, in a sliding
window. Saving labels is limited so (a person labelling drawings one by one gives a few a
minute; a script flooding the fine-tuning set gives a hundred), and so are wrong guesses
of the owner secret (`access`).

A visitor is known by the visitor cookie (`feedback.visitor`; a reload keeps it), which a
script renews for free by dropping it, so the app-wide limit is what bounds a flood; the
per-visitor limit keeps one visitor from using all of it. Each is counted under the
visitor's id, which the database calls `session_id`.

Where the moments are counted follows the feedback database (`window_for`): with
PostgreSQL, in its `rate_event` table (`DatabaseWindow`), so that every replica of the app
counts towards the same limits; with SQLite, which belongs to one machine, in the memory
of the server process (`SlidingWindow`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Protocol

import sqlalchemy as sa

from feedback.labels import validate_session_id
from feedback.schema import rate_event_table
from feedback.store import FeedbackStore


@dataclass(frozen=True)
class Limits:
    """How many moments one visitor, and all visitors together, may have in `window_s`
    seconds; `name` keeps their counts apart from other limits'."""

    name: str
    per_visitor: int
    per_server: int
    window_s: float


SAVES = Limits("saves", per_visitor=20, per_server=300, window_s=60.0)


class RateLimited(Exception):
    """Too many in the window; the message says how long to wait."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Reached:
    """A limit reached: the visitor's own (`by_visitor`) or the whole app's, and the wait."""

    by_visitor: bool
    wait_s: float


class Window(Protocol):
    """Counts moments against limits: SlidingWindow or DatabaseWindow."""

    limits: Limits

    def admit(self, session_id: str) -> Reached | None:
        """Count one more for this visitor, or (nothing counted) the limit it is at."""


def _reached(
    limits: Limits,
    now: float,
    visitor: tuple[int, float | None],
    server: tuple[int, float | None],
) -> Reached | None:
    """The limit reached, if any, from the count and the oldest moment (None when there is
    none) in the window, of the visitor and of all visitors; the wait lasts until that
    oldest moment leaves the window."""
    (visitor_count, visitor_oldest), (server_count, server_oldest) = visitor, server
    if visitor_count >= limits.per_visitor and visitor_oldest is not None:
        return Reached(by_visitor=True, wait_s=visitor_oldest + limits.window_s - now)
    if server_count >= limits.per_server and server_oldest is not None:
        return Reached(by_visitor=False, wait_s=server_oldest + limits.window_s - now)
    return None


@dataclass
class SlidingWindow:
    """Moments counted per visitor and for the whole server process, in its memory;
    thread-safe, memory bounded.

    At most `per_server` moments are kept, as every one counted for a visitor is also
    counted for the server, and visitors with nothing in the window are forgotten.
    """

    limits: Limits
    clock: Callable[[], float] = monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: deque[float] = deque()
        self._visitors: dict[str, deque[float]] = {}

    def admit(self, session_id: str) -> Reached | None:
        """Count one more for this visitor, or (nothing counted) the limit it is at."""
        with self._lock:
            now = self.clock()
            self._forget_before(now - self.limits.window_s)
            visitor = self._visitors.get(session_id, deque())
            reached = _reached(
                self.limits,
                now,
                (len(visitor), visitor[0] if visitor else None),
                (len(self._server), self._server[0] if self._server else None),
            )
            if reached is None:
                self._visitors.setdefault(session_id, visitor).append(now)
                self._server.append(now)
            return reached

    def _forget_before(self, start: float) -> None:
        while self._server and self._server[0] <= start:
            self._server.popleft()
        for session_id, moments in list(self._visitors.items()):
            while moments and moments[0] <= start:
                moments.popleft()
            if not moments:
                del self._visitors[session_id]


@dataclass
class DatabaseWindow:
    """Moments counted per visitor and for every process using a PostgreSQL database, in its
    `rate_event` table.

    Each admission is one transaction under an advisory lock of the limits' name, so that
    replicas take turns and none counts past a limit; it first deletes the moments that have
    left the window, so the table holds at most `per_server` rows per limit. The clock is
    the wall clock, the one every machine agrees on. A database that fails raises
    StorageUnavailable, as the store does.
    """

    store: FeedbackStore
    limits: Limits
    clock: Callable[[], float] = time.time

    def admit(self, session_id: str) -> Reached | None:
        """Count one more for this visitor, or (nothing counted) the limit it is at."""
        session_id = validate_session_id(session_id)
        events = rate_event_table.c
        name = self.limits.name
        mine = events.session_id == session_id
        counts = sa.select(
            sa.func.count().filter(mine),
            sa.func.min(events.at).filter(mine),
            sa.func.count(),
            sa.func.min(events.at),
        ).where(events.limit_name == name)
        with self.store.transaction(
            f"Counting {name}", lock=f"{rate_event_table.name}/{name}"
        ) as connection:
            now = self.clock()  # read under the lock: the moments go in in the order taken
            connection.execute(
                sa.delete(rate_event_table).where(
                    events.limit_name == name, events.at <= now - self.limits.window_s
                )
            )
            visitor_count, visitor_oldest, server_count, server_oldest = connection.execute(
                counts
            ).one()
            reached = _reached(
                self.limits, now, (visitor_count, visitor_oldest), (server_count, server_oldest)
            )
            if reached is None:
                connection.execute(
                    sa.insert(rate_event_table).values(
                        limit_name=name, session_id=session_id, at=now
                    )
                )
        return reached


_in_process: dict[tuple[FeedbackStore, Limits], SlidingWindow] = {}
_in_process_lock = threading.Lock()


def window_for(store: FeedbackStore, limits: Limits) -> Window:
    """Where the moments counted against `limits` are kept for the app using `store`: its
    database when replicas may share it (PostgreSQL), else this process's own window."""
    if store.shared_by_replicas:
        return DatabaseWindow(store, limits)
    with _in_process_lock:
        if (store, limits) not in _in_process:
            _in_process[store, limits] = SlidingWindow(limits)
        return _in_process[store, limits]


class SaveLimiter:
    """Label saves per visitor and for the whole app, counted in `window` (see window_for);
    every save attempt counts, stored or not."""

    def __init__(self, window: Window) -> None:
        self.window = window

    def admit(self, session_id: str) -> None:
        """Count one save for this visitor, or raise RateLimited (nothing counted then);
        StorageUnavailable when the window's database fails."""
        reached = self.window.admit(session_id)
        if reached is None:
            return
        wait = math.ceil(reached.wait_s)
        limits = self.window.limits
        if reached.by_visitor:
            message = (
                f"That is {limits.per_visitor} labels in a minute, as many as one visitor may "
                f"give. Try again in {wait} s."
            )
        else:
            message = (
                "Many people are labelling drawings right now, and the server takes "
                f"{limits.per_server} labels a minute. Try again in {wait} s."
            )
        raise RateLimited(message, reached.wait_s)
