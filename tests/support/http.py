"""Starlette apps served by uvicorn on a loopback port, and plain HTTP requests to them, for
tests of the server's routes without the whole page."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

from devtools.page import free_port

START_TIMEOUT_S = 30


@contextmanager
def served(app: Starlette, http: str = "auto") -> Iterator[str]:
    """Serve an app with uvicorn (through its `http` protocol) on a free loopback port; yields
    its base URL once it listens."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), http=http, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def request(
    url: str, method: str = "GET", headers: Mapping[str, str] | None = None
) -> tuple[int, dict, bytes]:
    """The status, headers (names in lower case) and body of one request; errors included."""
    sent = urllib.request.Request(url, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(sent, timeout=30) as got:
            return got.status, _lower(got.headers), got.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read()


def _lower(headers) -> dict:
    return {name.lower(): value for name, value in headers.items()}


def eventually(
    url: str, status: int, within_s: float, headers: Mapping[str, str] | None = None
) -> tuple[int, dict, bytes]:
    """Ask until the answer has this status or `within_s` has passed; the last answer.

    For what becomes true after a wait the test does not control (a store's retry period,
    a model loading), never to assert how long it took.
    """
    deadline = time.monotonic() + within_s
    while True:
        answer = request(url, headers=headers)
        if answer[0] == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)
