"""Which database the feedback store uses, and its engine settings: environment, secrets
and the SQLite default."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import threading

import pytest
import sqlalchemy as sa

from devtools import REPO_ROOT
from feedback import settings as feedback_settings
from feedback import store as feedback_store
from feedback.database import StorageUnavailable
from feedback.store import FeedbackStore


class NoSecretsFile(dict):
    """Behaves like st.secrets when there is no secrets.toml."""

    def __getitem__(self, key):
        raise FileNotFoundError("No secrets found.")


def test_database_url_comes_from_environment_then_secrets_then_sqlite_default():
    secrets = {"connections": {"feedback": {"url": "postgresql+psycopg://s@db/from_secrets"}}}
    default = f"sqlite:///{feedback_settings.DEFAULT_SQLITE_PATH}"
    assert feedback_settings.database_url({}, None) == default
    assert feedback_settings.database_url({}, NoSecretsFile()) == default
    assert feedback_settings.database_url({}, {"connections": {}}) == default
    assert feedback_settings.database_url({}, secrets).endswith("/from_secrets")
    with pytest.raises(ValueError, match=r"\[connections.feedback\] .* needs a url"):
        feedback_settings.database_url({}, {"connections": {"feedback": {"host": "db"}}})
    pool_only = {"connections": {"feedback": {"create_engine_kwargs": {"pool_size": 2}}}}
    assert feedback_settings.database_url({}, pool_only) == default
    environ = {"DATABASE_URL": "postgresql+psycopg://e@db/generic"}
    assert feedback_settings.database_url(environ, secrets).endswith("/generic")
    environ["DIGIT_FEEDBACK_DB_URL"] = "postgresql+psycopg://e@db/specific"
    assert feedback_settings.database_url(environ, secrets).endswith("/specific")


def test_the_process_keeps_one_store_per_database_and_engine_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    found = []
    threads = [
        threading.Thread(target=lambda: found.append(feedback_store.shared_store(url)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and all(store is found[0] for store in found)
    assert feedback_store.shared_store(url, {}) is found[0]
    pooled = feedback_store.shared_store(url, {"pool_size": 2})
    assert pooled is not found[0] and feedback_store.shared_store(url, {"pool_size": 2}) is pooled
    assert pooled.engine.pool.size() == 2
    found[0].ping()


def test_engine_settings_come_from_secrets_toml():
    settings = {"pool_size": 2, "connect_args": {"application_name": "digits"}}
    secrets = {"connections": {"feedback": {"url": "sqlite://", "create_engine_kwargs": settings}}}
    assert feedback_settings.secrets_engine_kwargs(secrets) == settings
    assert feedback_settings.secrets_engine_kwargs({"connections": {"feedback": {}}}) == {}
    assert feedback_settings.secrets_engine_kwargs(NoSecretsFile()) == {}
    assert feedback_settings.secrets_engine_kwargs(None) == {}
    with pytest.raises(ValueError, match="must be a table"):
        feedback_settings.secrets_engine_kwargs(
            {"connections": {"feedback": {"create_engine_kwargs": 5}}}
        )


@pytest.mark.postgres
def test_engine_settings_update_the_apps_own_and_keep_its_timeouts(postgres_server, monkeypatch):
    for name in feedback_settings.URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings = {"pool_size": 3, "connect_args": {"application_name": "digits"}}
    section = {"url": postgres_server.create_database(), "create_engine_kwargs": settings}
    store = feedback_store.configured_store({"connections": {"feedback": section}})
    assert store.engine.pool.size() == 3
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW application_name").scalar() == "digits"
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "2500ms"


@pytest.mark.parametrize(
    ("section", "logged"),
    [
        ({"url": "postgresql//app:hunter2@db/x"}, "URL cannot be read"),
        ({"url": "oracle://app:hunter2@db/x"}, "No module named 'oracledb'"),
        ({"url": "sqlite://", "create_engine_kwargs": {"pool_sise": 2}}, "pool_sise"),
    ],
    ids=["unreadable URL", "unsupported database", "unknown engine setting"],
)
def test_a_setting_that_cannot_be_used_is_unavailable_and_logged_without_password(
    section, logged, monkeypatch, caplog
):
    for name in feedback_settings.URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with (
        caplog.at_level(logging.WARNING, logger="feedback.store"),
        pytest.raises(StorageUnavailable, match="Feedback storage is unavailable right now"),
    ):
        feedback_store.configured_store({"connections": {"feedback": section}})
    assert logged in caplog.text and "hunter2" not in caplog.text


def test_postgres_urls_without_a_driver_use_psycopg_3():
    for url in ("postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d"):
        assert feedback_settings.database_url({"DATABASE_URL": url}) == (
            "postgresql+psycopg://u:p@h:5432/d"
        )
    sqlite_url = "sqlite:////srv/feedback.db"
    assert feedback_settings.database_url({"DATABASE_URL": sqlite_url}) == sqlite_url


def test_the_default_sqlite_file_lies_in_the_project_and_is_ignored_by_git():
    root = REPO_ROOT
    assert feedback_settings.DEFAULT_SQLITE_PATH.parent == root
    for name in ("feedback.db", "feedback.db-wal", "feedback.db-shm"):
        checked = subprocess.run(["git", "check-ignore", "-q", name], cwd=root, check=False)
        assert checked.returncode == 0, f"{name} is not ignored by git"


def test_other_databases_are_refused_clearly():
    engine = sa.create_engine("mysql+pymysql://u@h/d", module=sqlite3)
    with pytest.raises(ValueError, match="SQLite and PostgreSQL, not mysql"):
        FeedbackStore(engine)
