"""Every answer sent as soon as it is written: TCP_NODELAY on each connection the server takes.

asyncio turns Nagle's algorithm off only on sockets made for TCP by name (`proto` 6), and
Streamlit binds its listening socket itself, with `proto` 0, so the connections it accepts
keep Nagle on. uvicorn writes an answer's headers and its body apart: on a kept-alive
connection the body then waits for the client's delayed acknowledgement of the headers,
about 40 ms (a new connection acknowledges at once). The page's WebSocket, upgraded from
one of these connections, sends each of a run's messages without that wait too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from server.deadlines import http_protocols


def send_without_delay() -> None:
    """Have every TCP connection uvicorn serves from now on send each write at once.
    Idempotent."""
    for protocol in http_protocols():
        _without_delay(protocol)


def _without_delay(protocol: type) -> None:
    if getattr(protocol, "_sends_without_delay", False):
        return
    connection_made = protocol.connection_made

    def connection_made_without_delay(self, transport: asyncio.Transport) -> None:
        no_nagle(transport.get_extra_info("socket"))
        connection_made(self, transport)

    protocol.connection_made = connection_made_without_delay
    protocol._sends_without_delay = True


def no_nagle(connection: socket.socket | None) -> None:
    """Turn Nagle's algorithm off on a TCP connection; anything else (a Unix socket) is left."""
    if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # a connection the client has already reset
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
