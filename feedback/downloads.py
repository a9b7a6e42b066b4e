"""Feedback downloads served over HTTP as streams, behind short-lived links the page hands out.

The History tab asks `links.issue` for a link to one visitor's labels (or, for the app's
owner, everyone's) and shows it; the route streams the CSV or the .npz straight from the
database, a chunk of rows at a time, so a download of any size takes little memory. A link
is a random token that names its store and whose labels it covers, and expires.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import monotonic

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from feedback.export import csv_chunks, npz_chunks
from feedback.store import FeedbackStore, StorageUnavailable

LINK_LIFETIME_S = 30 * 60  # a link works for this long after the History tab showed it
MAX_LINKS = 10_000  # links kept per server process; the oldest go first
PATH_PREFIX = "downloads"
CSV_NAME, NPZ_NAME = "feedback.csv", "feedback.npz"


@dataclass(frozen=True)
class Grant:
    """What one link may download: a store's labels, one session's or (None) everyone's."""

    store: FeedbackStore
    session_id: str | None
    expires_at: float


class DownloadLinks:
    """The links handed out by this server process; thread-safe and bounded."""

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}  # in the order they were issued

    def issue(self, store: FeedbackStore, session_id: str | None) -> str:
        """A new link's token for one session's labels, or everyone's when session_id is None."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            for old_token, grant in list(self._grants.items()):
                if grant.expires_at > now and len(self._grants) < MAX_LINKS:
                    break
                del self._grants[old_token]
            self._grants[token] = Grant(store, session_id, now + LINK_LIFETIME_S)
        return token

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
