"""One line in the server's log when a session starts, naming the replica that holds it.

Behind a load balancer (docs/deploy.md) each page's Streamlit session lives in the memory of
one replica. The line says which: this machine's host name and the port Streamlit serves on
(`--server.port`), with a short random id of the session and the visitor it belongs to, by
the first 8 characters of the id their labels are kept under (as the owner-guess warnings
and the database's `session_id` column give it). Logged once, on the session's first script
run; later runs, a stroke's included, look up one key.
"""

from __future__ import annotations

import re
import secrets
import socket

import streamlit as st
from streamlit.logger import get_logger

from feedback.visitor import VISITOR_COOKIE, is_visitor_id, labels_id

SESSION_KEY = "session_log_id"
SESSION_ID_HEX_DIGITS = 8
LINE = "Session %s started on replica %s, visitor %s"
NO_VISITOR = "none"  # the visitor of a session whose browser brought no visitor cookie
VISITOR_TAG_LENGTH = 8
# The line as read back: session id, replica (host:port), visitor.
LINE_PATTERN = re.compile(
    rf"Session ([0-9a-f]{{{SESSION_ID_HEX_DIGITS}}}) started on replica (\S+), "
    rf"visitor ([0-9a-f]{{{VISITOR_TAG_LENGTH}}}|{NO_VISITOR})$"
)
# Streamlit's own handler and level (`logger.level`): the line goes where Streamlit logs.
logger = get_logger(__name__)


def replica_name() -> str:
    """This replica as the log names it: host name and port, e.g. `web1:8501`."""
    return f"{socket.gethostname()}:{st.get_option('server.port')}"


def log_session_start() -> None:
    """Log which replica this session runs on, once per session."""
    if SESSION_KEY in st.session_state:
        return
    session = secrets.token_hex(SESSION_ID_HEX_DIGITS // 2)
    st.session_state[SESSION_KEY] = session
    logger.info(LINE, session, replica_name(), visitor_tag(st.context.cookies.get(VISITOR_COOKIE)))


def visitor_tag(cookie: str | None) -> str:
    """The visitor as the line names them: the first characters of their labels' id."""
    return labels_id(cookie)[:VISITOR_TAG_LENGTH] if is_visitor_id(cookie) else NO_VISITOR
