"""What the page's tabs share: the feedback database and the save limits, once per server
process; and who this visit is."""

from __future__ import annotations

import logging

import sqlalchemy as sa
import streamlit as st

from feedback import store as feedback_store
from feedback.access import OwnerGuesses
from feedback.rate_limit import SaveLimiter
from feedback.store import FeedbackStore, StorageUnavailable
from feedback.visitor import VISITOR_COOKIE, is_visitor_id, new_visitor_id

SESSION_ID_KEY = "feedback_session_id"

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def get_feedback_store(url: str) -> FeedbackStore:
    """One store per database for the server process; its engine's pool serves every session."""
    connection = st.connection(
        feedback_store.CONNECTION_NAME, type="sql", url=url, **feedback_store.engine_options(url)
    )
    return FeedbackStore(connection.engine)


def open_feedback_store() -> FeedbackStore:
    """The store for the configured database; StorageUnavailable when the setting is unusable.

    What is wrong with the setting goes to the server log, never to the page.
    """
    try:
        return get_feedback_store(feedback_store.database_url(secrets=st.secrets))
    except sa.exc.ArgumentError as error:
        # SQLAlchemy's message quotes the URL, password included: leave it out of the log too.
        logger.warning(
            "The feedback database URL cannot be read; check DIGIT_FEEDBACK_DB_URL, "
            "DATABASE_URL or [connections.feedback] in .streamlit/secrets.toml."
        )
        raise StorageUnavailable("Feedback storage", "unreadable database URL") from error
    except (ValueError, ImportError) as error:
        logger.warning("The feedback database cannot be used: %s", error)
        raise StorageUnavailable("Feedback storage", str(error)) from error


@st.cache_resource(show_spinner=False)
def save_limiter() -> SaveLimiter:
    """The save limits, per session and for the whole server process."""
    return SaveLimiter()


@st.cache_resource(show_spinner=False)
def owner_guesses() -> OwnerGuesses:
    """The limits on guessing the owner secret, per session and for the whole server process."""
    return OwnerGuesses()


def session_id() -> str:
    """Whose labels this visit gives and sees: the browser's visitor id, from its cookie, so
    that a reload or a move to another replica keeps them; a fresh id for a visit without one.
    """
    if SESSION_ID_KEY not in st.session_state:
        cookie = st.context.cookies.get(VISITOR_COOKIE)
        st.session_state[SESSION_ID_KEY] = cookie if is_visitor_id(cookie) else new_visitor_id()
    return st.session_state[SESSION_ID_KEY]
