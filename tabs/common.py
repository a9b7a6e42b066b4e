"""What the page's tabs share: the feedback store, one per server process, and the limits,
counted in its database for every replica when it is PostgreSQL; and who this visit is."""

from __future__ import annotations

import streamlit as st

from feedback import store as feedback_store
from feedback.access import GUESSES, OwnerGuesses
from feedback.rate_limit import SAVES, SaveLimiter, window_for
from feedback.store import FeedbackStore
from feedback.visitor import VISITOR_COOKIE, is_visitor_id, labels_id, new_visitor_id

NO_VALUE = "—"  # stands where there is none: a metric before a drawing, a table's empty cell
SESSION_ID_KEY = "feedback_session_id"


def open_feedback_store() -> FeedbackStore:
    """The store for the configured database, shared by every session and the server's routes;
    StorageUnavailable when the setting is unusable (what is wrong goes to the server log)."""
    return feedback_store.configured_store(st.secrets)


def save_limiter() -> SaveLimiter:
    """The save limits, per visitor and for the whole app; StorageUnavailable when the
    database setting is unusable."""
    return SaveLimiter(window_for(open_feedback_store(), SAVES))


def owner_guesses() -> OwnerGuesses:
    """The limits on guessing the owner secret, per visitor and for the whole app;
    StorageUnavailable when the database setting is unusable."""
    return OwnerGuesses(window_for(open_feedback_store(), GUESSES))


def session_id() -> str:
    """Whose labels this visit gives and sees: the browser's, by its visitor cookie, so that
    a reload or a move to another replica keeps them; a fresh id for a visit without one."""
    if SESSION_ID_KEY not in st.session_state:
        cookie = st.context.cookies.get(VISITOR_COOKIE)
        known = is_visitor_id(cookie)
        st.session_state[SESSION_ID_KEY] = labels_id(cookie) if known else new_visitor_id()
    return st.session_state[SESSION_ID_KEY]
