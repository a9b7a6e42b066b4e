"""What the page's tabs share: the feedback database, opened once per server process."""

from __future__ import annotations

import sqlalchemy as sa
import streamlit as st

import feedback_store
from feedback_store import FeedbackStore, StorageUnavailable


@st.cache_resource(show_spinner=False)
def get_feedback_store(url: str) -> FeedbackStore:
    """One store per database for the server process; its engine's pool serves every session."""
    connection = st.connection(
        feedback_store.CONNECTION_NAME, type="sql", url=url, **feedback_store.engine_options(url)
    )
    return FeedbackStore(connection.engine)


def open_feedback_store() -> FeedbackStore:
    """The store for the configured database; StorageUnavailable when the setting is unusable."""
    try:
        return get_feedback_store(feedback_store.database_url(secrets=st.secrets))
    except sa.exc.ArgumentError as error:
        # SQLAlchemy's message quotes the URL, password included: leave it off the page.
        raise StorageUnavailable(
            "The feedback database URL cannot be read; check DIGIT_FEEDBACK_DB_URL, "
            "DATABASE_URL or [connections.feedback] in .streamlit/secrets.toml."
        ) from error
    except (ValueError, ImportError) as error:
        raise StorageUnavailable(f"The feedback database cannot be used: {error}") from error
