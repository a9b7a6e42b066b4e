"""Where the page keeps labels, under AppTest: the database named in secrets, one that cannot
be used or goes away mid-session, and a PostgreSQL server shared with other replicas."""

from __future__ import annotations

import csv
import dataclasses
import io
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

import tabs.common
import tabs.draw
import tabs.draw.feedback_row
import tabs.history
from devtools.drawing import PLACEMENTS
from feedback import access
from feedback import store as feedback_store
from feedback.database import create_engine
from feedback.rate_limit import SAVES, DatabaseWindow
from feedback.schema import download_link_table, feedback_table
from feedback.visitor import VISITOR_COOKIE, labels_id, new_visitor_id
from tests.support.page_app import (
    answer,
    confirm_button,
    drawing,
    guess_owner_secret,
    open_tab,
    stored_labels,
)

UNREACHABLE_URL = "postgresql+psycopg://digits:hunter2@127.0.0.1:1/digits"  # nothing on port 1


def test_labels_go_to_the_database_named_in_secrets_toml(
    app, canvas, clear_digits, tmp_path, monkeypatch
):
    monkeypatch.delenv("DIGIT_FEEDBACK_DB_URL")
    url = f"sqlite:///{tmp_path / 'from_secrets.db'}"
    section = {"url": url, "create_engine_kwargs": {"pool_size": 2, "connect_args": {}}}
    app.secrets["connections"] = {"feedback": section}
    canvas.drawing = drawing(clear_digits[2])
    app.run()

    confirm_button(app).click().run()

    assert not app.exception
    assert [label.true_digit for label in stored_labels(url)] == [2]
    # The page's store, with the engine settings of secrets.toml: it has saved through its pool.
    store = feedback_store.configured_store({"connections": {"feedback": section}})
    assert store.engine.pool.size() == 2 and store.engine.pool.checkedin() >= 1


@pytest.mark.parametrize(
    "url",
    [UNREACHABLE_URL, "oracle://digits:hunter2@127.0.0.1:1/digits"],
    ids=["unreachable PostgreSQL", "unsupported database"],
)
def test_without_a_usable_database_digits_are_still_read_and_saving_says_it_is_unavailable(
    app, canvas, clear_digits, monkeypatch, url
):
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    canvas.drawing = drawing(clear_digits[4])
    app.run()

    confirm_button(app).click().run()

    assert not app.exception
    assert answer(app) == "4"
    (warning,) = app.warning
    assert tabs.draw.feedback_row.UNAVAILABLE in warning.value
    for detail in ("hunter2", "digits", "127.0.0.1", "oracle", "postgresql"):
        assert detail not in warning.value
    assert not confirm_button(app).disabled  # it can be tried again
    assert len(app.toast) == 0

    open_tab(app, "History")

    assert not app.exception
    (history_warning,) = app.tabs[1].warning
    assert "history is unavailable" in history_warning.value
    for detail in ("hunter2", "127.0.0.1", "oracle", "postgresql"):
        assert detail not in history_warning.value
    assert answer(app) == "4"


@pytest.mark.postgres
def test_with_postgresql_saves_are_counted_with_every_other_replica(
    app, canvas, clear_digits, postgres_server, monkeypatch
):
    url = postgres_server.create_database()
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    limits = dataclasses.replace(SAVES, per_server=3)
    monkeypatch.setattr(tabs.common, "SAVES", limits)
    elsewhere = DatabaseWindow(feedback_store.FeedbackStore(create_engine(url)), limits)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    assert [toast.value for toast in app.toast] == ["Saved: a 3."]

    assert elsewhere.admit("visitor-elsewhere-1") is None  # saves on another replica
    assert elsewhere.admit("visitor-elsewhere-2") is None
    canvas.drawing = drawing(clear_digits[7], PLACEMENTS[1])
    app.run()
    confirm_button(app).click().run()

    assert not app.exception
    (error,) = app.error
    assert "the server takes 3 labels a minute" in error.value
    assert [label.true_digit for label in stored_labels(url)] == [3]
    assert elsewhere.admit("visitor-elsewhere-3").by_visitor is False  # the page's save counts
    elsewhere.store.engine.dispose()


@pytest.mark.postgres
def test_with_postgresql_owner_guesses_are_counted_with_every_other_replica(
    app, canvas, postgres_server, monkeypatch
):
    url = postgres_server.create_database()
    secret = "a long owner secret, not a guessable one"
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    monkeypatch.setenv(access.OWNER_SECRET_VARIABLE, secret)
    limits = dataclasses.replace(access.GUESSES, per_server=3)
    monkeypatch.setattr(tabs.common, "GUESSES", limits)
    store = feedback_store.FeedbackStore(create_engine(url))
    elsewhere = access.OwnerGuesses(DatabaseWindow(store, limits))
    assert not elsewhere.check("guess one", secret, "visitor-elsewhere-1")
    assert not elsewhere.check("guess two", secret, "visitor-elsewhere-2")
    open_tab(app.run(), "History")

    assert "not the owner secret" in guess_owner_secret(app, "guess three")
    refused = guess_owner_secret(app, secret)  # right, but the app has had its guesses
    assert "Too many guesses of the owner secret for the whole app" in refused
    store.engine.dispose()


@contextmanager
def leaving_no_labels(url: str, at: AppTest) -> Iterator[None]:
    """Delete the labels and links of the page's session at the end: the database is the
    served page's, whose own tests count every label in it."""
    try:
        yield
    finally:
        session = at.session_state[tabs.common.SESSION_ID_KEY]
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            feedback = feedback_table
            links = download_link_table
            connection.execute(sa.delete(feedback).where(feedback.c.session_id == session))
            connection.execute(sa.delete(links).where(links.c.requester == session))
        engine.dispose()


@pytest.mark.postgres
def test_with_postgresql_a_link_shown_here_downloads_from_another_replica(
    app, canvas, clear_digits, feedback_database_url, app_url, monkeypatch
):
    """This page runs in the test process; `app_url` is another process on the same database."""
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", feedback_database_url)
    visitor = new_visitor_id()  # the browser's cookie, which the link downloads with only
    app.session_state[tabs.common.SESSION_ID_KEY] = labels_id(visitor)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    with leaving_no_labels(feedback_database_url, app):
        confirm_button(app).click().run()
        (csv_link, _) = open_tab(app, "History").tabs[1].get("link_button")

        with_cookie = urllib.request.Request(
            f"{app_url}/{csv_link.proto.url}", headers={"Cookie": f"{VISITOR_COOKIE}={visitor}"}
        )
        with urllib.request.urlopen(with_cookie, timeout=30) as response:
            rows = list(csv.DictReader(io.StringIO(response.read().decode())))
        assert [(row["session_id"], row["true_digit"]) for row in rows] == [
            (app.session_state[tabs.common.SESSION_ID_KEY], "3")
        ]


def test_the_owner_secret_is_not_checked_while_the_database_is_unreachable(app, monkeypatch):
    secret = "a long owner secret, not a guessable one"
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", UNREACHABLE_URL)
    monkeypatch.setenv(access.OWNER_SECRET_VARIABLE, secret)
    open_tab(app.run(), "History")

    assert guess_owner_secret(app, secret) == tabs.history.OWNER_CHECK_UNAVAILABLE
    assert "history is unavailable" in app.tabs[1].warning[0].value


@contextmanager
def postgres_outage(postgres_server, kind: str) -> Iterator[None]:
    """The server stopped (connections refused), or frozen with SIGSTOP (nothing answers)."""
    if kind == "frozen":
        with postgres_server.frozen():
            yield
        return
    postgres_server.stop()
    try:
        yield
    finally:
        postgres_server.start()


@pytest.mark.postgres
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_postgresql_going_away_mid_session_stops_saving_but_not_reading(
    app, canvas, clear_digits, postgres_server, monkeypatch, outage
):
    url = postgres_server.create_database()
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()
    assert [toast.value for toast in app.toast] == ["Saved: a 3."]

    with postgres_outage(postgres_server, outage):
        canvas.drawing = drawing(clear_digits[5], PLACEMENTS[3])
        app.run()
        assert answer(app) == "5"
        # A run that waited on a frozen server would time out here.
        confirm_button(app).click().run(timeout=10)

        assert not app.exception
        assert answer(app) == "5"
        (warning,) = app.warning
        assert (
            tabs.draw.feedback_row.UNAVAILABLE in warning.value
            and url.split("/")[-1] not in warning.value
        )
        open_tab(app, "History")
        assert not app.exception
        assert "history is unavailable" in app.tabs[1].warning[0].value

    assert [label.true_digit for label in stored_labels(url)] == [3]
