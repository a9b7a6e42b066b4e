"""How many labels may be saved: per visitor session and per server process, in a sliding window.

A person labelling drawings one by one gives a few a minute; a script flooding the
fine-tuning set gives a hundred. Every save attempt counts, stored or not.
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
    """Too many saves in the window; the message says how long to wait."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class SaveLimiter:
    """Counts saves per session and for the whole server; thread-safe, memory bounded.

    At most `per_server` moments are kept, as every one counted for a session is also
    counted for the server, and sessions with nothing in the window are forgotten.
    """

    per_session: int = SESSION_SAVES_PER_MINUTE
    per_server: int = SERVER_SAVES_PER_MINUTE
    window_s: float = WINDOW_S
    clock: Callable[[], float] = monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: deque[float] = deque()
        self._sessions: dict[str, deque[float]] = {}

    def admit(self, session_id: str) -> None:
        """Count one save for this session, or raise RateLimited (nothing counted then)."""
        with self._lock:
            now = self.clock()
            self._forget_before(now - self.window_s)
            session = self._sessions.get(session_id, deque())
            if len(session) >= self.per_session:
                wait = session[0] + self.window_s - now
                raise RateLimited(
                    f"That is {self.per_session} labels in a minute, as many as one visitor may "
                    f"give. Try again in {math.ceil(wait)} s.",
                    wait,
                )
            if len(self._server) >= self.per_server:
                wait = self._server[0] + self.window_s - now
                raise RateLimited(
                    "Many people are labelling drawings right now, and the server takes "
                    f"{self.per_server} labels a minute. Try again in {math.ceil(wait)} s.",
                    wait,
                )
            session.append(now)
            self._sessions[session_id] = session
            self._server.append(now)

    def _forget_before(self, start: float) -> None:
        while self._server and self._server[0] <= start:
            self._server.popleft()
        for session_id, moments in list(self._sessions.items()):
            while moments and moments[0] <= start:
                moments.popleft()
            if not moments:
                del self._sessions[session_id]
