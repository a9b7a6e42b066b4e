"""Each connection the server takes sends every write at once (server/no_delay.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from server import deadlines, no_delay


class _Transport:
    """What uvicorn's protocols ask of a connection's transport here: its socket."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def get_extra_info(self, name: str) -> socket.socket | None:
        return self.connection if name == "socket" else None


@pytest.fixture
def connections_made(monkeypatch) -> Iterator[list[object]]:
    """uvicorn's HTTP protocols, each connection made recorded instead of served, and then
    wrapped as the served app wraps them, for the test alone."""
    made: list[object] = []
    for protocol in deadlines.http_protocols():
        monkeypatch.setattr(protocol, "connection_made", lambda self, transport: made.append(self))
        monkeypatch.setattr(protocol, "_sends_without_delay", False, raising=False)
    no_delay.send_without_delay()
    no_delay.send_without_delay()  # twice: wrapped once all the same
    yield made


@pytest.mark.parametrize("protocol", deadlines.http_protocols(), ids=lambda each: each.__name__)
def test_a_connection_accepted_from_a_socket_bound_as_streamlit_binds_it_sends_without_delay(
    connections_made, protocol
):
    # Streamlit binds its listening socket itself, without naming TCP: asyncio then leaves
    # Nagle's algorithm on in the connections it accepts.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        with socket.create_connection(listening.getsockname()):
            accepted, _ = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                served = object.__new__(protocol)
                protocol.connection_made(served, _Transport(accepted))
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert connections_made == [served]  # and uvicorn's own work done, once


def test_a_unix_socket_is_left_as_it_is():
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        no_delay.no_nagle(left)  # no TCP option to set: nothing raised
        no_delay.no_nagle(None)
