"""Which replica holds a page: `streamlit run webapp.py` logs one line when a session starts,
naming this replica by host name and port, and none for the session's later runs."""

from __future__ import annotations

import socket

import pytest

from devtools.page import served_page, visitor_cookie, wait_for_run_to_end
from feedback.visitor import labels_id
from server.session_log import LINE_PATTERN, NO_VISITOR
from tests.support.browser import opened_page

pytestmark = [pytest.mark.browser]


def test_each_session_is_logged_once_with_the_replica_that_holds_it(browser, tmp_path):
    log = tmp_path / "server.log"
    with served_page(log, f"sqlite:///{tmp_path / 'feedback.db'}") as url:
        with opened_page(browser, url) as page:
            # Whole runs of the same session, each calling the page's script again.
            for tab in ("History", "Draw"):
                page.get_by_role("tab", name=tab).click()
                wait_for_run_to_end(page)
            first_visitor = visitor_cookie(page)
        with opened_page(browser, url):
            pass
    lines = [
        match.groups()
        for line in log.read_text().splitlines()
        if (match := LINE_PATTERN.search(line))
    ]
    assert len(lines) == 2, log.read_text()[-3000:]
    (first, replica, visitor), (second, other_replica, other_visitor) = lines
    port = url.rpartition(":")[2]
    assert replica == other_replica == f"{socket.gethostname()}:{port}"
    assert visitor == labels_id(first_visitor)[:8] != other_visitor != NO_VISITOR
    assert first != second
