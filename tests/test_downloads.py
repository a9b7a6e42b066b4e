"""Feedback downloads over real HTTP, from a real PostgreSQL server: streamed, private to the
link's holder, expiring, and found by every replica of the app; every response carries the
framing and content-type headers; saves and owner-secret guesses are limited for the whole
app, every replica counting together; with SQLite, links and limits stay in the process."""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from devtools.page import free_port
from feedback import access, downloads
from feedback import database as feedback_database
from feedback import schema as feedback_schema
from feedback import settings as feedback_settings
from feedback import store as feedback_store
from feedback.database import StorageUnavailable
from feedback.labels import LabelledDrawing
from feedback.rate_limit import (
    SAVES,
    DatabaseWindow,
    Limits,
    RateLimited,
    SaveLimiter,
    SlidingWindow,
    Window,
    window_for,
)
from feedback.store import FeedbackStore
from feedback.visitor import VISITOR_COOKIE, labels_id, new_visitor_id
from server.security_headers import SecurityHeaders
from tests.support.http import eventually, request, served

SECRET = "correct horse battery staple"
BROWSER = new_visitor_id()  # the visitor cookie of the browser the links are shown to
SHOWN_TO = labels_id(BROWSER)  # the requester the History tab names for that browser
WITH_COOKIE = {"Cookie": f"{VISITOR_COOKIE}={BROWSER}"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The download routes and the headers middleware, served by uvicorn on loopback; the
    routes find the feedback database from the environment, as a replica of the app does."""
    app = Starlette(
        routes=[*downloads.routes({}), Route("/page", lambda request: PlainTextResponse("page"))],
        middleware=[Middleware(SecurityHeaders)],
    )
    with served(app) as url:
        yield url


def configure(monkeypatch, url: str) -> None:
    """Make `url` the configured feedback database, for the routes served in this process."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv(feedback_settings.URL_VARIABLES[0], url)


@pytest.fixture
def database(postgres_server, monkeypatch) -> str:
    """A fresh PostgreSQL database, the one the served routes use; its URL."""
    url = postgres_server.create_database()
    configure(monkeypatch, url)
    return url


def replica(url: str) -> FeedbackStore:
    """A store with an engine of its own, as another replica of the app has."""
    return FeedbackStore(feedback_database.create_engine(url), retry_after_s=0)


@pytest.fixture
def store(database) -> Iterator[FeedbackStore]:
    """Replica A: a store of its own on the routes' database (the routes are replica B)."""
    made = replica(database)
    yield made
    made.engine.dispose()


@pytest.fixture
def other_store(database) -> Iterator[FeedbackStore]:
    """Replica C: one more store of its own on the same database."""
    made = replica(database)
    yield made
    made.engine.dispose()


def save_labels(store: FeedbackStore, session_id: str, count: int, first_digit: int = 0) -> None:
    for index in range(count):
        image = np.zeros((28, 28), np.uint8)
        image[index % 28, (index // 28) % 28] = 255
        digit = (first_digit + index) % 10
        store.save(LabelledDrawing(session_id, digit, 0.8, digit, image))


def rows_in(store: FeedbackStore, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def csv_rows(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode())))


# --- links --------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_visitor_link_downloads_only_that_visitors_labels(server, store):
    save_labels(store, "visitor-a", 3)
    save_labels(store, "visitor-b", 4, first_digit=5)
    token = downloads.links_for(store).issue("visitor-a", SHOWN_TO)

    csv_link = f"{server}/{downloads.path(token, 'feedback.csv')}"
    status, headers, body = request(csv_link, headers=WITH_COOKIE)
    assert status == 200 and headers["content-disposition"].endswith('filename="feedback.csv"')
    rows = csv_rows(body)
    assert {row["session_id"] for row in rows} == {"visitor-a"} and len(rows) == 3

    status, _, body = request(csv_link.replace("csv", "npz"), headers=WITH_COOKIE)
    with np.load(io.BytesIO(body)) as data:
        assert data["x"].shape == (3, 28, 28)
        np.testing.assert_array_equal(data["y"], [0, 1, 2])


@pytest.mark.postgres
def test_a_link_made_on_one_replica_is_found_and_downloaded_on_the_others(
    server, store, other_store
):
    save_labels(store, "visitor-a", 2)
    links = downloads.links_for(store)
    assert isinstance(links, downloads.DatabaseLinks)
    token = links.issue("visitor-a", SHOWN_TO)

    grant = downloads.links_for(other_store).find(token)
    assert grant.store is other_store and grant.session_id == "visitor-a"
    assert grant.requester == SHOWN_TO
    # Shown again by another replica: the same link, not a second one.
    assert downloads.links_for(other_store).issue("visitor-a", SHOWN_TO) == token
    assert rows_in(store, feedback_schema.download_link_table) == 1
    # The served routes are a replica of their own, with their own engine.
    link = f"{server}/{downloads.path(token, 'feedback.csv')}"
    status, _, body = request(link, headers=WITH_COOKIE)
    assert status == 200 and [row["session_id"] for row in csv_rows(body)] == ["visitor-a"] * 2


@pytest.mark.postgres
def test_the_owner_link_downloads_everyone_and_a_large_export_streams(server, store):
    save_labels(store, "visitor-a", 700)
    save_labels(store, "visitor-b", 300)
    statements = []
    routes_engine = feedback_store.configured_store({}).engine  # the served routes' store
    sa.event.listen(routes_engine, "before_cursor_execute", lambda *args: statements.append(1))
    token = downloads.links_for(store).issue(None, SHOWN_TO)
    url = f"{server}/{downloads.path(token, 'feedback.csv')}"
    with_cookie = urllib.request.Request(url, headers=WITH_COOKIE)
    with urllib.request.urlopen(with_cookie, timeout=30) as response:
        assert response.headers.get("content-length") is None  # sent in chunks as it is read
        rows = csv_rows(response.read())
    assert len(rows) == 1000 and {row["session_id"] for row in rows} == {"visitor-a", "visitor-b"}
    # The count, then the rows in chunks of 500: no read of all of them at once.
    assert len(statements) >= 1 + 1000 // feedback_store.EXPORT_CHUNK_ROWS


@pytest.mark.postgres
def test_unknown_expired_and_frozen_database_links_answer_clearly(server, store, postgres_server):
    save_labels(store, "visitor-a", 2)
    status, _, body = request(f"{server}/{downloads.path('not-a-token', 'feedback.csv')}")
    assert status == 404 and b"expired" in body
    for odd in ("%00", "x" * 100, "a%20b"):
        assert request(f"{server}/{downloads.path(odd, 'feedback.csv')}")[0] == 404
    token = downloads.links_for(store).issue("visitor-a", SHOWN_TO)
    assert request(f"{server}/{downloads.path(token, 'other.txt')}")[0] == 404
    url = f"{server}/{downloads.path(token, 'feedback.csv')}"

    with postgres_server.frozen():
        status, headers, body = request(url)
        assert status == 503 and headers["retry-after"] == str(feedback_database.RETRY_AFTER_S)
        assert b"unavailable right now" in body and b"127.0.0.1" not in body
    # The routes' store tries the database again after its retry period.
    within_s = feedback_database.RETRY_AFTER_S + 20
    assert eventually(url, 200, within_s, WITH_COOKIE)[0] == 200

    # Issued, on another replica, with a clock a lifetime behind: expired on arrival.
    late = downloads.DatabaseLinks(store, clock=lambda: time.time() - downloads.LINK_LIFETIME_S - 1)
    expired = late.issue("visitor-a", "a-later-visit")
    assert request(f"{server}/{downloads.path(expired, 'feedback.csv')}")[0] == 404
    assert request(url, headers=WITH_COOKIE)[0] == 200  # the other link still works


@pytest.mark.postgres
def test_database_links_are_renewed_when_shown_again_expire_and_are_bounded(store, other_store):
    clock = [1_000_000.0]
    lifetime = downloads.LINK_LIFETIME_S
    a, b = (
        downloads.DatabaseLinks(replica_store, clock=lambda: clock[0], max_links=3)
        for replica_store in (store, other_store)
    )
    token = a.issue("visitor-a", "visitor-a")
    clock[0] += lifetime - 1
    assert b.issue("visitor-a", "visitor-a") == token  # shown again: a new lifetime
    clock[0] += lifetime - 1
    assert b.find(token).expires_at == pytest.approx(clock[0] + 1)
    assert a.issue(None, "visitor-a") not in (None, token)  # other labels, another link
    visitor_c = b.issue("visitor-c", "visitor-c")
    assert visitor_c is not None
    assert a.issue("visitor-d", "visitor-d") is None  # three alive: no room
    assert b.issue("visitor-c", "visitor-c") == visitor_c  # a link alive is still shown again
    clock[0] += 1
    assert a.find(token) is None and a.find(visitor_c) is not None

    clock[0] += lifetime
    assert a.issue("visitor-d", "visitor-d") is not None  # the others have expired...
    assert rows_in(store, feedback_schema.download_link_table) == 1  # ...and are deleted


def test_in_process_links_survive_a_flood_of_history_openings_until_they_expire(tmp_path):
    store = FeedbackStore(feedback_database.create_engine(f"sqlite:///{tmp_path / 'feedback.db'}"))
    clock = [0.0]
    table = downloads.DownloadLinks(store, clock=lambda: clock[0])
    token = table.issue("visitor-a", "visitor-a")
    for _ in range(3 * downloads.MAX_LINKS):  # one session opening History again and again
        assert table.issue("flooder", "flooder") == table.issue("flooder", "flooder")
    given = [table.issue(f"session-{n}", f"session-{n}") for n in range(downloads.MAX_LINKS)]
    assert given.count(None) == 2  # visitor-a's and the flooder's links are alive: no room
    assert table.find(token).store is store

    clock[0] += downloads.LINK_LIFETIME_S - 1
    assert table.issue("visitor-a", "visitor-a") == token  # shown again: 30 more minutes
    clock[0] += 2
    assert table.issue("newcomer", "newcomer") is not None  # the others have expired
    assert table.find(token) is not None
    clock[0] += downloads.LINK_LIFETIME_S
    assert table.find(token) is None


def test_every_response_says_who_may_frame_it_and_not_to_sniff_types(server):
    for url in (f"{server}/page", f"{server}/{downloads.path('x', 'feedback.csv')}"):
        _, headers, _ = request(url)
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["content-security-policy"] == "frame-ancestors 'self'"
        assert headers["x-content-type-options"] == "nosniff"


# --- limits -------------------------------------------------------------------------------

Replicas = Callable[[Limits, Callable[[], float]], tuple[Window, Window]]


@pytest.fixture(params=["in-process", pytest.param("postgresql", marks=pytest.mark.postgres)])
def replicas(request) -> Iterator[Replicas]:
    """Two replicas' windows for some limits: with PostgreSQL, one on each of two stores with
    engines of their own on one database; in process (SQLite), the process's one window."""
    if request.param == "in-process":
        yield lambda limits, clock: (SlidingWindow(limits, clock),) * 2
        return
    url = request.getfixturevalue("postgres_server").create_database()
    stores = [replica(url), replica(url)]
    yield lambda limits, clock: tuple(DatabaseWindow(s, limits, clock) for s in stores)
    for made in stores:
        made.engine.dispose()


def test_saves_are_limited_per_visitor_and_for_the_whole_app_on_every_replica(replicas):
    clock = [1_000_000.0]
    a, b = (SaveLimiter(window) for window in replicas(Limits("saves", 3, 5, 60), lambda: clock[0]))
    a.admit("a")
    b.admit("a")
    a.admit("a")
    with pytest.raises(RateLimited, match="3 labels in a minute") as limited:
        b.admit("a")
    assert limited.value.retry_after_s == pytest.approx(60)
    clock[0] += 30
    with pytest.raises(RateLimited, match="3 labels in a minute"):
        a.admit("a")  # refused: nothing counted
    b.admit("b")
    a.admit("c")
    with pytest.raises(RateLimited, match="the server takes 5 labels a minute") as limited:
        b.admit("d")  # a new visitor, but the app's minute is full
    assert limited.value.retry_after_s == pytest.approx(30)
    clock[0] += 31  # a's three saves have left the window; the refusals were never in it
    for limiter in (a, b, a):
        limiter.admit("a")
    with pytest.raises(RateLimited, match="3 labels in a minute"):
        b.admit("a")


def test_owner_secret_guesses_are_limited_per_visitor_and_for_the_whole_app_and_logged(
    replicas, caplog
):
    clock = [1_000_000.0]
    limits = Limits("owner guesses", per_visitor=3, per_server=5, window_s=900)
    a, b = (access.OwnerGuesses(window) for window in replicas(limits, lambda: clock[0]))
    with caplog.at_level(logging.WARNING, logger=access.__name__):
        assert not a.check("guess", SECRET, "session-a")
        assert not b.check("guess", SECRET, "session-a")
        assert a.check(SECRET, SECRET, "session-a")
        with pytest.raises(RateLimited, match=r"from this browser\. Try again in 15 min"):
            b.check(SECRET, SECRET, "session-a")
        assert not b.check("guess", SECRET, "session-b")
        assert not a.check("guess", SECRET, "session-c")  # a fresh session...
        with pytest.raises(RateLimited, match="for the whole app"):
            b.check(SECRET, SECRET, "session-d")  # ...and another: the app's limit
    assert len([r for r in caplog.records if "wrong owner secret" in r.getMessage()]) == 4
    clock[0] += 901
    assert b.check(SECRET, SECRET, "session-a")  # the window has moved on


def test_the_in_process_limiter_forgets_quiet_visitors():
    clock = [0.0]
    window = SlidingWindow(Limits("saves", 2, 10_000, 60), clock=lambda: clock[0])
    for session in range(1000):
        assert window.admit(f"session-{session}") is None
    clock[0] += 61
    assert window.admit("late") is None
    assert len(window._visitors) == 1


@pytest.mark.postgres
def test_the_database_forgets_moments_that_left_the_window_and_keeps_limits_apart(store):
    clock = [1_000_000.0]
    saves = DatabaseWindow(store, Limits("saves", 2, 10_000, 60), clock=lambda: clock[0])
    guesses = DatabaseWindow(store, Limits("owner guesses", 1, 1, 60), clock=lambda: clock[0])
    for session in range(30):
        assert saves.admit(f"session-{session}") is None
    assert guesses.admit("session-0") is None  # its own count, not the saves'
    clock[0] += 61
    assert saves.admit("late") is None
    table = feedback_schema.rate_event_table
    with store.engine.connect() as connection:
        kept = connection.execute(sa.select(table.c.limit_name, table.c.session_id)).all()
    assert sorted(kept) == [("owner guesses", "session-0"), ("saves", "late")]


@pytest.mark.postgres
def test_replicas_admitting_at_once_never_count_past_the_limit(store, other_store):
    limits = Limits("saves", per_visitor=1000, per_server=10, window_s=600)
    admitted, errors = [], []

    def admit_four(window: DatabaseWindow, name: str) -> None:
        try:
            for attempt in range(4):
                admitted.append(window.admit(f"{name}-{attempt}") is None)
        except Exception as error:  # shown by the assertion below, not lost in the thread
            errors.append(error)

    threads = [
        threading.Thread(target=admit_four, args=(DatabaseWindow(s, limits), f"{n}-{i}"))
        for n, s in enumerate((store, other_store))
        for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(admitted) == 24 and admitted.count(True) == 10
    assert rows_in(store, feedback_schema.rate_event_table) == 10


def test_links_and_limits_say_unavailable_when_the_database_is():
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/feedback"
    unreachable = FeedbackStore(feedback_database.create_engine(url))
    with pytest.raises(StorageUnavailable):
        SaveLimiter(window_for(unreachable, SAVES)).admit("session-a")
    with pytest.raises(StorageUnavailable):
        access.OwnerGuesses(window_for(unreachable, access.GUESSES)).check("x", SECRET, "s")
    with pytest.raises(StorageUnavailable):
        downloads.links_for(unreachable).issue("session-a", "session-a")
    with pytest.raises(StorageUnavailable):
        downloads.links_for(unreachable).find("a-token")


def test_with_sqlite_links_and_limits_stay_in_the_process(server, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    configure(monkeypatch, url)
    store = feedback_store.configured_store({})  # the routes' store, as the page's
    save_labels(store, "visitor-a", 2)

    links = downloads.links_for(store)
    assert isinstance(links, downloads.DownloadLinks) and downloads.links_for(store) is links
    token = links.issue("visitor-a", SHOWN_TO)
    link = f"{server}/{downloads.path(token, 'feedback.csv')}"
    status, _, body = request(link, headers=WITH_COOKIE)
    assert status == 200 and len(csv_rows(body)) == 2

    window = window_for(store, SAVES)
    assert isinstance(window, SlidingWindow) and window_for(store, SAVES) is window
    assert window_for(store, access.GUESSES) is not window
    with pytest.raises(ValueError, match="Only a PostgreSQL database"):
        DatabaseWindow(store, SAVES).admit("visitor-a")
    # Nothing of links or limits in the file: it holds the labels only.
    assert sa.inspect(store.engine).get_table_names() == ["digit_feedback"]


def test_the_owner_secret_comes_from_the_environment_or_secrets_and_nothing_means_nobody():
    assert access.owner_secret({}, None) is None
    assert access.owner_secret({}, {}) is None
    assert access.owner_secret({}, {"owner_secret": SECRET}) == SECRET
    assert access.owner_secret({"DIGIT_OWNER_SECRET": SECRET}, {}) == SECRET
    assert access.owner_secret({"DIGIT_OWNER_SECRET": "short"}, {}) is None  # too guessable
    assert access.is_owner(SECRET, SECRET)
    assert not access.is_owner("", SECRET)
    assert not access.is_owner("correct horse", SECRET)
    assert not access.is_owner("anything", None)
