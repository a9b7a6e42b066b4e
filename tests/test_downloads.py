"""Feedback downloads over real HTTP, from a real PostgreSQL server: streamed, private to the
link's holder, expiring; every response carries the framing and content-type headers; saves
are rate-limited; the owner's secret is the only way to everyone's labels."""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from devtools.page import free_port
from feedback import access, downloads
from feedback import store as feedback_store
from feedback.rate_limit import RateLimited, SaveLimiter, SlidingWindow
from feedback.store import FeedbackStore, LabelledDrawing
from server.security_headers import SecurityHeaders


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The download routes and the headers middleware, served by uvicorn on loopback."""
    app = Starlette(
        routes=[*downloads.ROUTES, Route("/page", lambda request: PlainTextResponse("page"))],
        middleware=[Middleware(SecurityHeaders)],
    )
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def store(postgres_server) -> Iterator[FeedbackStore]:
    engine = feedback_store.create_engine(postgres_server.create_database())
    yield FeedbackStore(engine, retry_after_s=0)
    engine.dispose()


def save_labels(store: FeedbackStore, session_id: str, count: int, first_digit: int = 0) -> None:
    for index in range(count):
        image = np.zeros((28, 28), np.uint8)
        image[index % 28, (index // 28) % 28] = 255
        digit = (first_digit + index) % 10
        store.save(LabelledDrawing(session_id, digit, 0.8, digit, image))


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.postgres
def test_a_visitor_link_downloads_only_that_visitors_labels(server, store):
    save_labels(store, "visitor-a", 3)
    save_labels(store, "visitor-b", 4, first_digit=5)
    token = downloads.links.issue(store, "visitor-a", "visitor-a")

    status, headers, body = get(f"{server}/{downloads.path(token, 'feedback.csv')}")
    assert status == 200 and headers["content-disposition"].endswith('filename="feedback.csv"')
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert {row["session_id"] for row in rows} == {"visitor-a"} and len(rows) == 3

    status, _, body = get(f"{server}/{downloads.path(token, 'feedback.npz')}")
    with np.load(io.BytesIO(body)) as data:
        assert data["x"].shape == (3, 28, 28)
        np.testing.assert_array_equal(data["y"], [0, 1, 2])


@pytest.mark.postgres
def test_the_owner_link_downloads_everyone_and_a_large_export_streams(server, store):
    save_labels(store, "visitor-a", 700)
    save_labels(store, "visitor-b", 300)
    statements = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(1))
    token = downloads.links.issue(store, None, "owner")
    with urllib.request.urlopen(f"{server}/{downloads.path(token, 'feedback.csv')}") as response:
        assert response.headers.get("content-length") is None  # sent in chunks as it is read
        rows = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert len(rows) == 1000 and {row["session_id"] for row in rows} == {"visitor-a", "visitor-b"}
    # The count, then the rows in chunks of 500: no read of all of them at once.
    assert len(statements) >= 1 + 1000 // feedback_store.EXPORT_CHUNK_ROWS


@pytest.mark.postgres
def test_unknown_expired_and_frozen_database_links_answer_clearly(
    server, store, postgres_server, monkeypatch
):
    save_labels(store, "visitor-a", 2)
    status, _, body = get(f"{server}/{downloads.path('not-a-token', 'feedback.csv')}")
    assert status == 404 and b"expired" in body
    token = downloads.links.issue(store, "visitor-a", "visitor-a")
    assert get(f"{server}/{downloads.path(token, 'other.txt')}")[0] == 404

    with postgres_server.frozen():
        started = time.monotonic()
        status, headers, body = get(f"{server}/{downloads.path(token, 'feedback.csv')}")
        assert status == 503 and headers["retry-after"] == "10"
        assert b"unavailable right now" in body and b"127.0.0.1" not in body
        assert time.monotonic() - started < 5
    assert get(f"{server}/{downloads.path(token, 'feedback.csv')}")[0] == 200

    clock = [0.0]
    expiring = downloads.DownloadLinks(clock=lambda: clock[0])
    monkeypatch.setattr(downloads, "links", expiring)
    token = expiring.issue(store, "visitor-a", "visitor-a")
    assert get(f"{server}/{downloads.path(token, 'feedback.csv')}")[0] == 200
    clock[0] += downloads.LINK_LIFETIME_S + 1
    assert get(f"{server}/{downloads.path(token, 'feedback.csv')}")[0] == 404


@pytest.mark.postgres
def test_a_flood_of_history_openings_pushes_out_no_link_before_it_expires(
    server, store, monkeypatch
):
    save_labels(store, "visitor-a", 2)
    clock = [0.0]
    table = downloads.DownloadLinks(clock=lambda: clock[0])
    monkeypatch.setattr(downloads, "links", table)
    token = table.issue(store, "visitor-a", "visitor-a")
    for _ in range(3 * downloads.MAX_LINKS):  # one session opening History again and again
        assert table.issue(store, "flooder", "flooder") == table.issue(store, "flooder", "flooder")
    given = [table.issue(store, f"session-{n}", f"session-{n}") for n in range(downloads.MAX_LINKS)]
    assert given.count(None) == 2  # visitor-a's and the flooder's links are alive: no room
    assert get(f"{server}/{downloads.path(token, 'feedback.csv')}")[0] == 200

    clock[0] += downloads.LINK_LIFETIME_S - 1
    assert table.issue(store, "visitor-a", "visitor-a") == token  # shown again: 30 more minutes
    clock[0] += 2
    assert table.issue(store, "newcomer", "newcomer") is not None  # the others have expired
    assert get(f"{server}/{downloads.path(token, 'feedback.csv')}")[0] == 200
    clock[0] += downloads.LINK_LIFETIME_S
    assert get(f"{server}/{downloads.path(token, 'feedback.csv')}")[0] == 404


def test_every_response_says_who_may_frame_it_and_not_to_sniff_types(server):
    for url in (f"{server}/page", f"{server}/{downloads.path('x', 'feedback.csv')}"):
        _, headers, _ = get(url)
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["content-security-policy"] == "frame-ancestors 'self'"
        assert headers["x-content-type-options"] == "nosniff"


def test_saves_are_limited_per_session_and_per_server():
    clock = [100.0]
    limiter = SaveLimiter(per_session=3, per_server=5, window_s=60, clock=lambda: clock[0])
    for _ in range(3):
        limiter.admit("a")
    with pytest.raises(RateLimited, match="3 labels in a minute") as limited:
        limiter.admit("a")
    assert limited.value.retry_after_s == pytest.approx(60)
    limiter.admit("b")
    limiter.admit("c")
    with pytest.raises(RateLimited, match="the server takes 5 labels a minute"):
        limiter.admit("d")  # a new visitor, but the server's minute is full
    clock[0] += 61
    limiter.admit("a")  # a minute later, both windows have moved on
    limiter.admit("d")


def test_the_limiter_forgets_quiet_sessions():
    clock = [0.0]
    window = SlidingWindow(per_session=2, per_server=10_000, window_s=60, clock=lambda: clock[0])
    for session in range(1000):
        assert window.admit(f"session-{session}") is None
    clock[0] += 61
    assert window.admit("late") is None
    assert len(window._sessions) == 1


def test_owner_secret_guesses_are_limited_per_session_and_per_server_and_logged(caplog):
    secret = "correct horse battery staple"
    clock = [0.0]
    guesses = access.OwnerGuesses(per_session=3, per_server=5, window_s=900, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger=access.__name__):
        assert not guesses.check("guess", secret, "session-a")
        assert not guesses.check("guess", secret, "session-a")
        assert guesses.check(secret, secret, "session-a")
        with pytest.raises(RateLimited, match=r"from this session\. Try again in 15 min"):
            guesses.check(secret, secret, "session-a")
        assert not guesses.check("guess", secret, "session-b")
        assert not guesses.check("guess", secret, "session-c")  # a fresh session...
        with pytest.raises(RateLimited, match="on this server"):
            guesses.check(secret, secret, "session-d")  # ...and another: the server's limit
    assert len([r for r in caplog.records if "wrong owner secret" in r.getMessage()]) == 4
    clock[0] += 901
    assert guesses.check(secret, secret, "session-a")  # the window has moved on


def test_the_owner_secret_comes_from_the_environment_or_secrets_and_nothing_means_nobody():
    long_secret = "correct horse battery staple"
    assert access.owner_secret({}, None) is None
    assert access.owner_secret({}, {}) is None
    assert access.owner_secret({}, {"owner_secret": long_secret}) == long_secret
    assert access.owner_secret({"DIGIT_OWNER_SECRET": long_secret}, {}) == long_secret
    assert access.owner_secret({"DIGIT_OWNER_SECRET": "short"}, {}) is None  # too guessable
    assert access.is_owner(long_secret, long_secret)
    assert not access.is_owner("", long_secret)
    assert not access.is_owner("correct horse", long_secret)
    assert not access.is_owner("anything", None)
