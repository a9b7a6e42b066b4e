"""How often something may happen: per visitor session and per server process, in a sliding
window. Saving labels is limited so (a person labelling drawings one by one gives a few a
minute; a script flooding the fine-tuning set gives a hundred), and so are wrong guesses
of the owner secret (`access`).

A session is what a visitor renews for free (a reload is a new one), so the server-wide
limit is what bounds a flood; the per-session limit keeps one visitor from using all of it.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

SESSION_SAVES_PER_MINUTE = 20
SERVER_SAVES_PER_MINUTE = 300
WINDOW_S = 60.0


class RateLimited(Exception):
    """Too many in the window; the message says how long to wait."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Reached:
    """A limit reached: the session's own (`by_session`) or the server's, and the wait."""

    by_session: bool
    wait_s: float


@dataclass
class SlidingWindow:
    """Moments counted per session and for the whole server; thread-safe, memory bounded.

    At most `per_server` moments are kept, as every one counted for a session is also
    counted for the server, and sessions with nothing in the window are forgotten.
    """

    per_session: int
    per_server: int
    window_s: float
    clock: Callable[[], float] = monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: deque[float] = deque()
        self._sessions: dict[str, deque[float]] = {}

    def admit(self, session_id: str) -> Reached | None:
        """Count one more for this session, or (nothing counted) the limit it is at."""
        with self._lock:
            now = self.clock()
            reached = self._reached(session_id, now)
            if reached is None:
                self._count(session_id, now)
            return reached

    def _reached(self, session_id: str, now: float) -> Reached | None:
        self._forget_before(now - self.window_s)
        session = self._sessions.get(session_id, ())
        if len(session) >= self.per_session:
            return Reached(by_session=True, wait_s=session[0] + self.window_s - now)
        if len(self._server) >= self.per_server:
            return Reached(by_session=False, wait_s=self._server[0] + self.window_s - now)
        return None

    def _count(self, session_id: str, now: float) -> None:
        self._sessions.setdefault(session_id, deque()).append(now)
        self._server.append(now)

    def _forget_before(self, start: float) -> None:
        while self._server and self._server[0] <= start:
            self._server.popleft()
        for session_id, moments in list(self._sessions.items()):
            while moments and moments[0] <= start:
                moments.popleft()
            if not moments:
                del self._sessions[session_id]


@dataclass
class SaveLimiter:
    """Label saves per session and for the whole server; every save attempt counts, stored
    or not."""

    per_session: int = SESSION_SAVES_PER_MINUTE
    per_server: int = SERVER_SAVES_PER_MINUTE
    window_s: float = WINDOW_S
    clock: Callable[[], float] = monotonic

    def __post_init__(self) -> None:
        self._window = SlidingWindow(self.per_session, self.per_server, self.window_s, self.clock)

    def admit(self, session_id: str) -> None:
        """Count one save for this session, or raise RateLimited (nothing counted then)."""
        reached = self._window.admit(session_id)
        if reached is None:
            return
        wait = math.ceil(reached.wait_s)
        if reached.by_session:
            message = (
                f"That is {self.per_session} labels in a minute, as many as one visitor may "
                f"give. Try again in {wait} s."
            )
        else:
            message = (
                "Many people are labelling drawings right now, and the server takes "
                f"{self.per_server} labels a minute. Try again in {wait} s."
            )
        raise RateLimited(message, reached.wait_s)
