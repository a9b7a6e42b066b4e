"""Which feedback database the app uses, and with what engine settings: the environment, then
`[connections.feedback]` of secrets.toml, then the local SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

CONNECTION_NAME = "feedback"  # [connections.feedback] in secrets.toml
URL_VARIABLES = ("DIGIT_FEEDBACK_DB_URL", "DATABASE_URL")  # checked in this order
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parent.parent / "feedback.db"


def database_url(environ: Mapping[str, str] | None = None, secrets: Mapping | None = None) -> str:
    """The feedback database's URL: environment, then secrets.toml, then the local SQLite file.

    `secrets` is `st.secrets` (or any mapping) holding `[connections.feedback] url = "..."`.
    PostgreSQL URLs without a driver get psycopg (version 3), the driver this app installs.
    """
    environ = os.environ if environ is None else environ
    url = next((environ[name] for name in URL_VARIABLES if environ.get(name)), None)
    source = next((name for name in URL_VARIABLES if environ.get(name)), "secrets.toml")
    if url is None:
        section = _secrets_section(secrets)
        url = section.get("url")
        if not url and any(key in section for key in ("dialect", "host", "username")):
            raise ValueError(
                f"[connections.{CONNECTION_NAME}] in .streamlit/secrets.toml needs a url, "
                'e.g. url = "postgresql://user:password@host:5432/digits".'
            )
    if not url:
        return readable_sqlite_url(f"sqlite:///{DEFAULT_SQLITE_PATH}")
    authority = url.partition("://")[2].partition("/")[0]
    if authority.count("@") > 1:
        # The URL would be split at the wrong "@", and part of the password taken for a host.
        raise ValueError(
            f"The feedback database URL in {source} has an '@' in its user name or password; "
            "write it percent-encoded, as %40."
        )
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url.removeprefix(bare)
    return readable_sqlite_url(url)


def _secrets_section(secrets: Mapping | None) -> Mapping:
    """`[connections.feedback]` of secrets.toml; empty without one."""
    if secrets is None:
        return {}
    try:
        return secrets["connections"][CONNECTION_NAME]
    except (KeyError, TypeError, FileNotFoundError):  # st.secrets without a secrets.toml
        return {}


def secrets_engine_kwargs(secrets: Mapping | None) -> dict:
    """`[connections.feedback.create_engine_kwargs]` of secrets.toml as plain dicts; {} without."""
    settings = _secrets_section(secrets).get("create_engine_kwargs", {})
    if not isinstance(settings, Mapping):
        raise ValueError(
            f"[connections.{CONNECTION_NAME}.create_engine_kwargs] in .streamlit/secrets.toml "
            "must be a table of SQLAlchemy engine settings, e.g. pool_size = 5."
        )
    return plain_dict(settings)


def plain_dict(mapping: Mapping) -> dict:
    """A mapping (st.secrets hands out its own kind) as a dict, at every depth."""
    return {
        key: plain_dict(value) if isinstance(value, Mapping) else value
        for key, value in mapping.items()
    }


def readable_sqlite_url(url: str) -> str:
    """The URL as given; for a SQLite file that exists but cannot be written (a read-only
    disk or folder), the same file opened immutable, so that its labels can still be read.

    In WAL mode even a reader writes beside the file (its -shm index), and fails on a
    read-only disk. Opened immutable, SQLite writes nothing and takes no locks; saving fails
    as unavailable, and the history shows what the file holds.
    """
    parsed = sa.make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path.startswith("file:"):
        return url
    file = Path(path)
    if not file.is_file() or (os.access(file, os.W_OK) and os.access(file.parent, os.W_OK)):
        return url
    return f"sqlite:///file:{file.resolve()}?immutable=1&uri=true"
