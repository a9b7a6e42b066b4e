"""Who a visit is, and a page that reconnects to a new server: the visitor cookie on the page
(over real HTTP, from `streamlit run webapp.py`), and a reconnected page's first script-run
request made a whole run."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from feedback.visitor import VISITOR_COOKIE, is_visitor_id, labels_id, new_visitor_id
from server.reconnects import STREAM_PATH, WholeRunFirst, whole_run
from tests.support import event_loop


def set_cookies(url: str, cookie: str | None = None) -> list[str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get_all("Set-Cookie") or []


@pytest.mark.postgres
def test_the_page_gives_a_browser_without_one_a_visitor_cookie_once(app_url):
    (cookie,) = [c for c in set_cookies(app_url + "/") if c.startswith(VISITOR_COOKIE + "=")]
    value, *attributes = cookie.split("; ")
    assert is_visitor_id(value.partition("=")[2])
    assert {"HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)
    # A browser that has one keeps it; a forged or broken value is replaced.
    kept = set_cookies(app_url + "/", f"other=1; {value}")
    assert not any(c.startswith(VISITOR_COOKIE + "=") for c in kept)
    forged = set_cookies(app_url + "/", f"{VISITOR_COOKIE}=not-a-visitor-id")
    assert any(c.startswith(VISITOR_COOKIE + "=") for c in forged)


@pytest.mark.postgres
def test_a_browser_with_the_page_cached_but_no_cookie_gets_the_page_whole_with_one(app_url):
    with urllib.request.urlopen(app_url + "/", timeout=30) as response:
        etag = response.headers["ETag"]
    assert etag
    request = urllib.request.Request(app_url + "/", headers={"If-None-Match": etag})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200 and response.read()
        cookies = response.headers.get_all("Set-Cookie") or []
    assert any(c.startswith(VISITOR_COOKIE + "=") for c in cookies)


@pytest.mark.postgres
def test_the_api_and_downloads_set_no_visitor_cookie(app_url):
    for path in ("/api/model", "/_stcore/health", "/downloads/no-such-link/feedback.csv"):
        request = urllib.request.Request(app_url + path)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                cookies = response.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as error:
            cookies = error.headers.get_all("Set-Cookie") or []
        assert not any(c.startswith(VISITOR_COOKIE) for c in cookies), path


def test_visitor_ids_are_random_and_checked_and_labels_are_kept_under_their_hash():
    first, second = new_visitor_id(), new_visitor_id()
    assert first != second and is_visitor_id(first) and is_visitor_id(second)
    assert labels_id(first) == labels_id(first) != labels_id(second)
    assert first not in labels_id(first) and len(labels_id(first)) == 32
    for bad in ("", "0" * 31, "0" * 33, "G" * 32, "0" * 31 + "\n", None, 7):
        assert not is_visitor_id(bad)


def test_a_fragment_rerun_becomes_a_whole_run_with_the_same_widget_values():
    request = BackMsg()
    request.rerun_script.fragment_id = "drawing-fragment"
    request.rerun_script.widget_states.widgets.add(id="canvas", string_value="strokes")
    rewritten = BackMsg.FromString(whole_run(request.SerializeToString()))
    assert rewritten.rerun_script.fragment_id == ""
    assert rewritten.rerun_script.widget_states == request.rerun_script.widget_states


def test_other_messages_are_left_alone():
    heartbeat = BackMsg(app_heartbeat=True).SerializeToString()
    assert whole_run(heartbeat) is None
    assert whole_run(b"\xff\xff not a message") is None


def fragment_rerun(fragment: str) -> bytes:
    request = BackMsg()
    request.rerun_script.fragment_id = fragment
    return request.SerializeToString()


def test_only_a_connections_first_script_run_is_made_whole():
    heartbeat = BackMsg(app_heartbeat=True).SerializeToString()
    sent = [heartbeat, fragment_rerun("drawing"), fragment_rerun("drawing")]
    received: list[bytes] = []

    async def page_session(scope, receive, send):
        for _ in sent:
            received.append((await receive())["bytes"])

    async def browser():
        return {"type": "websocket.receive", "bytes": sent[len(received)]}

    scope = {"type": "websocket", "path": STREAM_PATH}
    event_loop.run(WholeRunFirst(page_session)(scope, browser, None))

    assert received[0] == heartbeat
    assert BackMsg.FromString(received[1]).rerun_script.fragment_id == ""
    assert BackMsg.FromString(received[2]).rerun_script.fragment_id == "drawing"
