"""Smaller holes an adversarial pass found (issue 71), each tried over real HTTP or the page's
real WebSocket: requests pipelined on one connection, a request whose body has two lengths,
download links used without the cookie of the visitor they were shown to, and a visitor
asking the server to clear every session's caches."""

from __future__ import annotations

import asyncio
import io
import re
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.client import HTTPResponse

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState

from devtools.simulated_sessions import DrawingSession
from feedback import downloads
from feedback import settings as feedback_settings
from feedback import store as feedback_store
from feedback.visitor import VISITOR_COOKIE, labels_id, new_visitor_id
from server import deadlines
from tests.support import event_loop
from tests.support.http import request, served

READ_TIMEOUT_S = 30  # far longer than any answer here takes; uvicorn closes idle ones at 5 s
METRICS_PATH = "/_stcore/metrics"
MODEL_LOOKUPS = re.compile(
    r'^cache_lookups_total\{cache="[^"]*\.load_classifier",'
    r'cache_type="st_cache_resource",result="(hit|miss)"\} (\d+)$',
    re.MULTILINE,
)


def exchanged(url: str, sent: bytes) -> bytes:
    """Everything the server at `url` answers to these bytes on one connection, until it
    closes the connection."""
    address = urllib.parse.urlsplit(url)
    received = bytearray()
    with socket.create_connection((address.hostname, address.port), READ_TIMEOUT_S) as client:
        client.sendall(sent)
        try:
            while chunk := client.recv(65536):
                received += chunk
        except ConnectionResetError:  # closed with bytes of ours unread: closed all the same
            pass
    return bytes(received)


class _Received(io.BytesIO):
    """What a connection received, read by one response after another: never closed by the
    response that has read its own part."""

    def close(self) -> None:
        pass


class _Replayed:
    """A socket for http.client that gives back what a connection received."""

    def __init__(self, received: bytes) -> None:
        self.received = _Received(received)

    def makefile(self, mode: str) -> io.BytesIO:
        return self.received


def answers(received: bytes) -> list[tuple[int, dict, bytes]]:
    """The status, headers (names in lower case) and body of each response, in order."""
    replayed = _Replayed(received)
    parsed = []
    while replayed.received.tell() < len(received):
        response = HTTPResponse(replayed)  # type: ignore[arg-type]
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        parsed.append((response.status, headers, response.read()))
    return parsed


def get(path: str, url: str, closing: bool = False) -> bytes:
    """A GET request as bytes, asking the server to close the connection after it if `closing`."""
    host = urllib.parse.urlsplit(url).netloc
    close = "Connection: close\r\n" if closing else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{close}\r\n".encode()


# --- requests pipelined on one connection ------------------------------------------------


@pytest.mark.postgres
def test_requests_pipelined_on_one_connection_are_all_answered_in_order(app_url):
    pipelined = [
        get("/_stcore/health", app_url),
        get("/api/no-such-route", app_url),
        get("/api/model", app_url, closing=True),
    ]
    answered = answers(exchanged(app_url, b"".join(pipelined)))
    assert [status for status, _, _ in answered] == [200, 404, 200]
    assert answered[0][2] == b"ok" and b"error" in answered[1][2] and b"sha256" in answered[2][2]


@pytest.fixture
def headers_bounded(monkeypatch) -> Iterator[None]:
    """uvicorn's HTTP protocols with the served app's deadline for headers (0.5 s), in this
    process for the test alone."""
    for protocol in deadlines.http_protocols():
        for name in ("connection_made", "on_response_complete"):
            monkeypatch.setattr(protocol, name, getattr(protocol, name))
        bounded = getattr(protocol, "_headers_bounded", False)
        monkeypatch.setattr(protocol, "_headers_bounded", bounded, raising=False)
    monkeypatch.setattr(deadlines, "HEADERS_TIMEOUT_S", 0.5)
    deadlines.bound_header_time()
    yield


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_a_pipelined_request_is_answered_whole_however_long_it_takes(http, headers_bounded):
    """The deadline for the next request's headers starts when an answer goes out; a request
    that had already arrived behind it is under way, not late (uvicorn through httptools, as
    `uvicorn[standard]` installs it, makes its cycle before the answer ahead of it is out)."""
    if http == "httptools":
        pytest.importorskip("httptools")

    async def slow(request) -> PlainTextResponse:
        await asyncio.sleep(4 * deadlines.HEADERS_TIMEOUT_S)
        return PlainTextResponse("slow")

    app = Starlette(
        routes=[Route("/fast", lambda request: PlainTextResponse("fast")), Route("/slow", slow)]
    )
    with served(app, http=http) as url:
        received = exchanged(url, get("/fast", url) + get("/slow", url, closing=True))
    assert [body for _, _, body in answers(received)] == [b"fast", b"slow"]


# --- a body with two lengths ---------------------------------------------------------------


@pytest.mark.postgres
def test_a_request_with_two_body_lengths_is_refused_and_its_connection_closed(app_url):
    """RFC 9112, 6.1: a server may refuse a request with both Content-Length and
    Transfer-Encoding, and must close the connection after answering it: another server on
    the way may have taken the other length, and so a different request to follow."""
    host = urllib.parse.urlsplit(app_url).netloc
    both_lengths = (
        f"POST /api/predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/png\r\n"
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ).encode()
    answered = answers(exchanged(app_url, both_lengths + get("/_stcore/health", app_url)))
    assert len(answered) == 1  # the request behind it is never read
    status, headers, _ = answered[0]
    assert status == 400 and headers["connection"] == "close"


# --- download links ------------------------------------------------------------------------


def test_a_download_link_works_only_with_the_cookie_of_the_visitor_it_was_shown_to(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv(feedback_settings.URL_VARIABLES[0], f"sqlite:///{tmp_path / 'f.db'}")
    store = feedback_store.configured_store({})  # the routes' store, as the page's
    visitor = new_visitor_id()
    token = downloads.links_for(store).issue(labels_id(visitor), labels_id(visitor))
    with served(Starlette(routes=downloads.routes({}))) as url:
        link = f"{url}/{downloads.path(token, downloads.CSV_NAME)}"
        assert request(link, headers={"Cookie": f"{VISITOR_COOKIE}={visitor}"})[0] == 200
        for cookies in ({}, {"Cookie": f"{VISITOR_COOKIE}={new_visitor_id()}"}):
            status, headers, body = request(link, headers=cookies)
            assert status == 403 and headers["cache-control"] == "no-store"
            assert b"History tab" in body


# --- clearing the caches -------------------------------------------------------------------


def model_lookups(app_url: str) -> dict[str, int]:
    """How many times the page looked its model up in Streamlit's cache: hits and misses."""
    with urllib.request.urlopen(app_url + METRICS_PATH, timeout=READ_TIMEOUT_S) as response:
        metrics = response.read().decode()
    counted = {"hit": 0, "miss": 0}
    for result, count in MODEL_LOOKUPS.findall(metrics):
        counted[result] += int(count)
    return counted


@pytest.mark.postgres
def test_a_visitor_cannot_clear_the_caches_every_session_shares(app_url):
    """The page's menu offers visitors no "Clear cache" (client.toolbarMode = "viewer"), but
    Streamlit obeys the message from any page: the model would be looked up afresh for every
    session after it."""

    async def clear_then_run_both() -> None:
        visitor, other = DrawingSession(app_url), DrawingSession(app_url)
        try:
            await visitor.open()
            await other.open()
            before = await asyncio.to_thread(model_lookups, app_url)
            await visitor.socket.send(BackMsg(clear_cache=True).SerializeToString())
            # A session's messages are handled in order: once this run is over, so is the clear.
            for session in (visitor, other):
                whole_page = ClientState(
                    page_script_hash=session.page_script_hash, context_info=session.context()
                )
                assert (await session.run(whole_page))[1] == "FINISHED_SUCCESSFULLY"
            after = await asyncio.to_thread(model_lookups, app_url)
        finally:
            await visitor.close()
            await other.close()
        assert after == {"hit": before["hit"] + 2, "miss": before["miss"]}

    event_loop.run(clear_then_run_both())
