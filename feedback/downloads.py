"""Feedback downloads served over HTTP as streams, behind short-lived links the page hands out.

The History tab asks `links.issue` for a link to one visitor's labels (or, for the app's
owner, everyone's) and shows it; the route streams the CSV or the .npz straight from the
database, a chunk of rows at a time, so a download of any size takes little memory. A link
is a random token that names its store and whose labels it covers, and expires.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import monotonic

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from feedback.export import csv_chunks, npz_chunks
from feedback.store import FeedbackStore, StorageUnavailable

LINK_LIFETIME_S = 30 * 60  # a link works for this long after the History tab last showed it
MAX_LINKS = 10_000  # links alive at once per server process; more wait for some to expire
PATH_PREFIX = "downloads"
CSV_NAME, NPZ_NAME = "feedback.csv", "feedback.npz"


@dataclass(frozen=True)
class Grant:
    """What one link may download: a store's labels, one session's or (None) everyone's; and
    the session it was shown to."""

    store: FeedbackStore
    session_id: str | None
    requester: str
    expires_at: float


class DownloadLinks:
    """The links handed out by this server process; thread-safe and bounded.

    Every link lives LINK_LIFETIME_S from when it was last shown, so the table, kept in that
    order, has the expired links at its front: issuing drops those and adds one, in constant
    time on average. A session that opens History again is shown its own link again, given
    a new lifetime, so no number of openings pushes out anyone's link before it expires;
    with MAX_LINKS alive, a new session gets none until some expire.
    """

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: OrderedDict[str, Grant] = OrderedDict()  # token -> grant, oldest first
        self._tokens: dict[tuple[str, str | None], str] = {}  # (requester, whose) -> token

    def issue(self, store: FeedbackStore, session_id: str | None, requester: str) -> str | None:
        """The token of a link to one session's labels (everyone's when session_id is None),
        shown to the session `requester`; None when MAX_LINKS links are alive."""
        key = (requester, session_id)
        with self._lock:
            now = self._clock()
            self._forget_expired(now)
            token = self._tokens.get(key)
            if token is None:
                if len(self._grants) >= MAX_LINKS:
                    return None
                token = secrets.token_urlsafe(24)
                self._tokens[key] = token
            self._grants[token] = Grant(store, session_id, requester, now + LINK_LIFETIME_S)
            self._grants.move_to_end(token)
        return token

    def _forget_expired(self, now: float) -> None:
        while self._grants:
            grant = next(iter(self._grants.values()))
            if grant.expires_at > now:
                return
            self._grants.popitem(last=False)
            del self._tokens[grant.requester, grant.session_id]

    def find(self, token: str) -> Grant | None:
        """The grant behind a token, or None when it is unknown or has expired."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.expires_at <= self._clock():
            return None
        return grant


links = DownloadLinks()


def path(token: str, file_name: str) -> str:
    """Where a file behind a link is served, relative to the page."""
    return f"{PATH_PREFIX}/{token}/{file_name}"


async def download(request: Request) -> Response:
    """Stream the CSV or .npz a link grants; 404 for an unknown or expired link."""
    grant = links.find(request.path_params["token"])
    file_name = request.path_params["file_name"]
    if grant is None or file_name not in (CSV_NAME, NPZ_NAME):
        return PlainTextResponse(
            "This download link is unknown or has expired. Open the History tab again for "
            "a fresh one.",
            status_code=404,
        )
    try:
        # Counted first: it is the .npz's header, and it tells an outage before any byte.
        count = await run_in_threadpool(grant.store.count, grant.session_id)
    except StorageUnavailable as error:
        return PlainTextResponse(
            f"{error} Try again in a moment.", status_code=503, headers={"Retry-After": "10"}
        )
    rows = grant.store.rows(grant.session_id)
    chunks: Iterator[bytes]
    if file_name == CSV_NAME:
        chunks, media_type = csv_chunks(rows), "text/csv; charset=utf-8"
    else:
        chunks, media_type = npz_chunks(rows, count), "application/octet-stream"
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file_name}"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [Route(f"/{PATH_PREFIX}/{{token}}/{{file_name}}", download, methods=["GET"])]
