"""How long a client may take to send a request: its headers (this module) and its body
(`api`), so that slow clients cannot hold connections, or the API's memory, for long.

Streamlit serves `st.App` with uvicorn and passes it none of these settings. uvicorn
closes a kept-alive connection that stays idle for 5 s, but sets no deadline for the
headers of a request: a client that sends a byte of them now and then keeps its
connection as long as it likes. `bound_header_time` gives uvicorn's HTTP protocols that
deadline; connections upgraded to a WebSocket (the page's own) are left alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping

HEADERS_TIMEOUT_VARIABLE = "DIGIT_HEADERS_TIMEOUT_S"
DEFAULT_HEADERS_TIMEOUT_S = 10.0

logger = logging.getLogger(__name__)


def seconds_setting(
    variable: str, default: float, environ: Mapping[str, str] = os.environ
) -> float:
    """A number of seconds from the environment variable, or the default when it is unset or
    is not a positive number (which is logged)."""
    setting = environ.get(variable)
    if setting is None:
        return default
    try:
        seconds = float(setting)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        logger.warning("%s=%r is not a number of seconds; using %g s.", variable, setting, default)
        return default
    return seconds


HEADERS_TIMEOUT_S = seconds_setting(HEADERS_TIMEOUT_VARIABLE, DEFAULT_HEADERS_TIMEOUT_S)


def bound_header_time() -> None:
    """Have every HTTP connection uvicorn serves from now on closed when a request's headers
    have not all arrived HEADERS_TIMEOUT_S after the connection opened or its last answer
    went out. Idempotent."""
    for protocol in http_protocols():
        _bound(protocol)


def http_protocols() -> list[type[asyncio.Protocol]]:
    """The protocols uvicorn may speak HTTP/1.1 through here: h11's, and httptools's where
    it is installed."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    protocols: list[type[asyncio.Protocol]] = [H11Protocol]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is optional; without it uvicorn speaks through h11
        pass
    else:
        protocols.append(HttpToolsProtocol)
    return protocols


def _bound(protocol: type) -> None:
    if getattr(protocol, "_headers_bounded", False):
        return
    connection_made = protocol.connection_made
    on_response_complete = protocol.on_response_complete

    def connection_made_with_deadline(self, transport: asyncio.Transport) -> None:
        connection_made(self, transport)
        self._answers_sent = 0
        _expect_headers(self)

    def response_complete_with_deadline(self) -> None:
        self._answers_sent += 1
        on_response_complete(self)  # may start a request pipelined behind this one
        _expect_headers(self)

    protocol.connection_made = connection_made_with_deadline
    protocol.on_response_complete = response_complete_with_deadline
    protocol._headers_bounded = True


def _expect_headers(protocol) -> None:
    """Close the connection HEADERS_TIMEOUT_S from now if by then no request has begun since
    its last answer (none answered since, none under way).

    uvicorn makes a request's cycle once its headers are all in. Through httptools, a
    request pipelined behind another has its cycle before the answer ahead of it is out, so
    "the same cycle as at the answer" would take it for a late one.
    """
    answers_sent = protocol._answers_sent

    def close_if_still_waiting() -> None:
        transport = protocol.transport
        cycle = protocol.cycle
        if (
            protocol._answers_sent == answers_sent
            and (cycle is None or cycle.response_complete)
            and transport.get_protocol() is protocol  # not handed over to a WebSocket
            and not transport.is_closing()
        ):
            transport.close()

    protocol.loop.call_later(HEADERS_TIMEOUT_S, close_if_still_waiting)
