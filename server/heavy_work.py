"""Admission by cost for the HTTP API: cheap readings go straight through, costly ones run
in a lane of their own under a budget, so that a few costly pictures never hold up the rest.

A reading's work is counted as it goes, before each costly step (`reading.limits.Work`), in
candidate crops' worth: about a millisecond of CPU each. A reading that stays within
LIGHT_COST (one digit; most numbers of up to 8 digits on the canvas) is never held back.
One that would pass it is heavy: it takes the heavy lane, which holds HEAVY_AT_ONCE reading
at a time, and draws the work it will have cost from a budget refilled at HEAVY_RATE a
second, up to HEAVY_BURST (a reading at the limits, photo and all). When the lane is taken
or the budget is short, the reading stops before that step, and `Busy` says in how many
seconds to try again: what the budget lacks, at its rate. Work a heavy reading goes on to
count is drawn too, below zero if need be, and delays the next one.

A client told to wait that sends again sooner is held, its request unread, until its time
has passed (`WaitingClients`, the API's `predict`): ignoring Retry-After gets it nothing
sooner and costs the server next to nothing, and a client that waits as told never meets
it. No Streamlit here.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from reading.limits import MAX_CANDIDATES, PHOTO_COST, Work

LIGHT_COST = 128  # crops' worth a reading may cost and never be held back
HEAVY_AT_ONCE = 1  # heavy readings at a time: the API's other threads stay free for the rest
HEAVY_RATE = 250.0  # crops' worth of heavy work a second: about a quarter of one core
HEAVY_BURST = MAX_CANDIDATES + PHOTO_COST  # the most the budget holds: one reading at the limits
WAITING_REMEMBERED = 10_000  # clients told to wait, remembered at most (the oldest forgotten)


class Busy(Exception):
    """A heavy reading with no room now; `retry_after_s`: when the budget will hold it."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "The server is reading as many large pictures as it can right now. "
            f"Try again in {retry_after_s} s, or send a smaller picture."
        )
        self.retry_after_s = retry_after_s


class WaitingClients:
    """The clients told to wait, by address, and when each may send again (thread-safe)."""

    def __init__(
        self, remembered: int = WAITING_REMEMBERED, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.remembered, self._clock = remembered, clock
        self._lock = threading.Lock()
        self._until: OrderedDict[str, float] = OrderedDict()

    def told_to_wait(self, client: str, seconds: int) -> None:
        """Remember that `client` was told to wait `seconds`."""
        with self._lock:
            self._until.pop(client, None)
            self._until[client] = self._clock() + seconds
            while len(self._until) > self.remembered:
                self._until.popitem(last=False)

    def left(self, client: str) -> float:
        """The seconds left of the wait `client` was given; 0 when it may send now."""
        with self._lock:
            until = self._until.get(client)
            if until is None:
                return 0.0
            left = until - self._clock()
            if left <= 0:
                del self._until[client]
            return max(0.0, left)


class HeavyLane:
    """The heavy lane and its budget, shared by the requests of one process (thread-safe:
    readings count their work on worker threads)."""

    def __init__(
        self,
        light_cost: int = LIGHT_COST,
        rate: float = HEAVY_RATE,
        burst: int = HEAVY_BURST,
        at_once: int = HEAVY_AT_ONCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.light_cost, self.rate, self.burst, self.at_once = light_cost, rate, burst, at_once
        self._clock = clock
        self._lock = threading.Lock()
        self._budget = float(burst)
        self._refilled_at = clock()
        self.running = 0  # heavy readings in the lane now

    def _refill(self) -> None:
        now = self._clock()
        self._budget = min(self.burst, self._budget + (now - self._refilled_at) * self.rate)
        self._refilled_at = now

    def _busy(self, cost: int) -> Busy:
        return Busy(max(1, math.ceil((cost - self._budget) / self.rate)))

    @contextmanager
    def reading(self) -> Iterator[Work]:
        """The counter of one reading's work, which takes the lane once the work passes
        LIGHT_COST, or raises Busy; the lane is given back when the reading ends."""
        drawn = 0  # what this reading has drawn from the budget; 0 while it is light

        def admit(cost: int) -> None:
            nonlocal drawn
            if cost <= self.light_cost:
                return
            with self._lock:
                self._refill()
                if not drawn:
                    if self.running >= self.at_once or self._budget < cost:
                        raise self._busy(cost)
                    self.running += 1
                self._budget -= cost - drawn
                drawn = cost

        try:
            yield Work(admit)
        finally:
            if drawn:
                with self._lock:
                    self.running -= 1
