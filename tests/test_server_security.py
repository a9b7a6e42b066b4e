"""The served app (`streamlit run webapp.py`, over real HTTP): response headers on the page and
its routes, and WebSocket connections only for the host names in .streamlit/config.toml."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from devtools import REPO_ROOT


def headers_of(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return dict(response.headers)
    except urllib.error.HTTPError as error:
        return dict(error.headers)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "path", ["/", "/_stcore/health", "/api/model", "/downloads/no-such-link/feedback.csv"]
)
def test_every_response_says_who_may_frame_it_and_not_to_sniff_types(app_url, path):
    headers = {name.lower(): value for name, value in headers_of(app_url + path).items()}
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["content-security-policy"] == "frame-ancestors 'self'"
    assert headers["x-content-type-options"] == "nosniff"


def websocket_handshake(app_url: str, host: str) -> str:
    """The status line the server answers a WebSocket upgrade with, sent with this Host."""
    with opened_websocket(app_url, host) as (_, status_line):
        return status_line


@contextlib.contextmanager
def opened_websocket(app_url: str, host: str) -> Iterator[tuple[socket.socket, str]]:
    """A connection that asked for the page's WebSocket with this Host, and the status line
    the server answered."""
    address = urllib.parse.urlsplit(app_url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}:{address.port}\r\n"
        f"Origin: http://{host}:{address.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(request.encode())
        yield connection, connection.recv(4096).decode(errors="replace").splitlines()[0]


@pytest.mark.postgres
def test_websockets_are_accepted_only_for_allowed_host_names(app_url):
    """A DNS-rebinding page reaches the server under its own host name: it is turned away."""
    assert " 101 " in websocket_handshake(app_url, "127.0.0.1")
    refused = websocket_handshake(app_url, "rebinding.attacker.example")
    assert " 101 " not in refused and refused.startswith("HTTP/1.1 4")


@pytest.mark.postgres
def test_headers_that_trickle_in_are_cut_off_and_the_pages_websocket_is_not(
    app_url, client_timeout_s
):
    address = urllib.parse.urlsplit(app_url)
    with (
        opened_websocket(app_url, "127.0.0.1") as (websocket, status_line),
        socket.create_connection((address.hostname, address.port), timeout=60) as slow,
    ):
        assert " 101 " in status_line
        started = time.monotonic()
        slow.sendall(f"GET / HTTP/1.1\r\nHost: {address.netloc}\r\nX-Slow: ".encode())
        assert slow.recv(4096) == b""  # closed, with no answer: the request never began
        # Generous slack for a busy machine; without the deadline it is never closed at all.
        assert time.monotonic() - started < client_timeout_s + 30
        time.sleep(1)
        websocket.settimeout(0.5)
        with contextlib.suppress(TimeoutError):  # nothing to read: still open
            assert websocket.recv(4096) != b""  # whatever the page's server sent: still open


def test_the_served_app_watches_no_files():
    """Streamlit's default watches every file under the project to rerun on a change; under
    load its inotify queue overflowed, thousands of warnings. The served settings turn it
    off: what `streamlit run webapp.py` in the project folder runs with."""
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    (line,) = (n for n, text in enumerate(shown) if text.startswith("fileWatcherType = "))
    assert shown[line] == 'fileWatcherType = "none"'
    assert shown[line - 1] == f"# The value below was set in {REPO_ROOT}/.streamlit/config.toml"
