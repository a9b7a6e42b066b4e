"""Feedback downloads served over HTTP as streams, behind short-lived links the page hands out.

The History tab asks for a link to one visitor's labels (or, for the app's owner,
everyone's) and shows it; the route streams the CSV or the .npz straight from the
database, a chunk of rows at a time, so a download of any size takes little memory. A link
is a random token that names whose labels it covers, and expires. It downloads only with the
visitor cookie of the browser it was shown to (`feedback.visitor`): a link copied out of that
browser, into another or into a message, leaks nothing.

Where links are kept follows the feedback database (`links_for`): with PostgreSQL, in its
`download_link` table (`DatabaseLinks`), so that a link made on one replica of the app
downloads from any other; with SQLite, which belongs to one machine, in the memory of the
server process (`DownloadLinks`). The tab and the route both take the links of the
configured store, so they agree.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from time import monotonic

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from feedback.database import RETRY_AFTER_S, StorageUnavailable
from feedback.export import csv_chunks, npz_chunks
from feedback.labels import validate_session_id
from feedback.schema import download_link_table
from feedback.store import FeedbackStore, configured_store
from feedback.visitor import VISITOR_COOKIE, is_visitor_id, labels_id

LINK_LIFETIME_S = 30 * 60  # a link works for this long after the History tab last showed it
MAX_LINKS = 10_000  # links alive at once for the app; more wait for some to expire
TOKEN_BYTES = 24  # random bytes in a token, written in 32 URL-safe characters
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what a token may look like, checked before a query
PATH_PREFIX = "downloads"
CSV_NAME, NPZ_NAME = "feedback.csv", "feedback.npz"
NOT_YOURS = (
    "This download link works only in the browser whose History tab showed it, with its "
    "cookies. Open the History tab in this browser for a link of your own."
)


@dataclass(frozen=True)
class Grant:
    """What one link may download: a store's labels, one session's or (None) everyone's; and
    the session it was shown to."""

    store: FeedbackStore
    session_id: str | None
    requester: str
    expires_at: float


class DownloadLinks:
    """The links to one store's labels handed out by this server process; thread-safe and
    bounded.

    Every link lives LINK_LIFETIME_S from when it was last shown, so the table, kept in that
    order, has the expired links at its front: issuing drops those and adds one, in constant
    time on average. A session that opens History again is shown its own link again, given
    a new lifetime, so no number of openings pushes out anyone's link before it expires;
    with MAX_LINKS alive, a new session gets none until some expire.
    """

    def __init__(self, store: FeedbackStore, clock: Callable[[], float] = monotonic) -> None:
        self.store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: OrderedDict[str, Grant] = OrderedDict()  # token -> grant, oldest first
        self._tokens: dict[tuple[str, str | None], str] = {}  # (requester, whose) -> token

    def issue(self, session_id: str | None, requester: str) -> str | None:
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
                token = secrets.token_urlsafe(TOKEN_BYTES)
                self._tokens[key] = token
            self._grants[token] = Grant(self.store, session_id, requester, now + LINK_LIFETIME_S)
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


class DatabaseLinks:
    """The links to a PostgreSQL store's labels, kept in its `download_link` table for every
    process using it, as DownloadLinks keeps them in one process: the same lifetime, renewed
    each time a link is shown again, the same token for the same requester and labels, and
    at most `max_links` alive.

    Issuing is one transaction under an advisory lock, so that replicas take turns; it
    deletes the links that have expired first, so the table stays bounded. Times are
    seconds on the wall clock, the one every machine agrees on. A database that fails
    raises StorageUnavailable, as the store does.
    """

    def __init__(
        self,
        store: FeedbackStore,
        clock: Callable[[], float] = time.time,
        max_links: int = MAX_LINKS,
    ) -> None:
        self.store = store
        self._clock = clock
        self._max_links = max_links

    def issue(self, session_id: str | None, requester: str) -> str | None:
        """The token of a link to one session's labels (everyone's when session_id is None),
        shown to the session `requester`; None when `max_links` links are alive."""
        requester = validate_session_id(requester)
        links = download_link_table.c
        if session_id is None:
            same_labels = links.whose.is_(None)
        else:
            same_labels = links.whose == validate_session_id(session_id)
        with self.store.transaction("Download links", lock=download_link_table.name) as connection:
            now = self._clock()
            expires_at = now + LINK_LIFETIME_S
            connection.execute(sa.delete(download_link_table).where(links.expires_at <= now))
            token = connection.execute(
                sa.select(links.token).where(links.requester == requester, same_labels)
            ).scalar()
            if token is not None:
                connection.execute(
                    sa.update(download_link_table)
                    .where(links.token == token)
                    .values(expires_at=expires_at)
                )
                return token
            alive = connection.execute(
                sa.select(sa.func.count()).select_from(download_link_table)
            ).scalar_one()
            if alive >= self._max_links:
                return None
            token = secrets.token_urlsafe(TOKEN_BYTES)
            connection.execute(
                sa.insert(download_link_table).values(
                    token=token, whose=session_id, requester=requester, expires_at=expires_at
                )
            )
        return token

    def find(self, token: str) -> Grant | None:
        """The grant behind a token, or None when it is unknown or has expired."""
        if not TOKEN.fullmatch(token):
            return None
        links = download_link_table.c
        query = sa.select(links.whose, links.requester, links.expires_at).where(
            links.token == token, links.expires_at > self._clock()
        )
        with self.store.transaction("Download links") as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return Grant(self.store, row.whose, row.requester, row.expires_at)


_in_process: dict[FeedbackStore, DownloadLinks] = {}
_in_process_lock = threading.Lock()


def links_for(store: FeedbackStore) -> DownloadLinks | DatabaseLinks:
    """Where the links to a store's labels are kept: its database when replicas may share it
    (PostgreSQL), else this process's own table for the store."""
    if store.shared_by_replicas:
        return DatabaseLinks(store)
    with _in_process_lock:
        if store not in _in_process:
            _in_process[store] = DownloadLinks(store)
        return _in_process[store]


def path(token: str, file_name: str) -> str:
    """Where a file behind a link is served, relative to the page."""
    return f"{PATH_PREFIX}/{token}/{file_name}"


def routes(secrets: Mapping | None) -> list[Route]:
    """The download route, finding links where the History tab keeps them: with the store
    configured by the environment and `secrets` (the served app passes st.secrets)."""

    async def download(request: Request) -> Response:
        return await _download(request, secrets)

    return [Route(f"/{PATH_PREFIX}/{{token}}/{{file_name}}", download, methods=["GET"])]


def _grant(secrets: Mapping | None, token: str) -> Grant | None:
    """The grant behind a token, from the links of the configured store."""
    return links_for(configured_store(secrets)).find(token)


def _shown_to(request: Request, grant: Grant) -> bool:
    """Whether the request comes from the browser the link was shown to: the History tab
    gives a link to the labels id of the visitor cookie its page was opened with."""
    visitor = request.cookies.get(VISITOR_COOKIE)
    return is_visitor_id(visitor) and labels_id(visitor) == grant.requester


async def _download(request: Request, secrets: Mapping | None) -> Response:
    """Stream the CSV or .npz a link grants; 404 for an unknown or expired link, 403 for a
    request without the visitor cookie of the browser the link was shown to."""
    file_name = request.path_params["file_name"]
    try:
        grant = None
        if file_name in (CSV_NAME, NPZ_NAME):
            grant = await run_in_threadpool(_grant, secrets, request.path_params["token"])
        if grant is None:
            return PlainTextResponse(
                "This download link is unknown or has expired. Open the History tab again for "
                "a fresh one.",
                status_code=404,
            )
        if not _shown_to(request, grant):
            return PlainTextResponse(
                NOT_YOURS, status_code=403, headers={"Cache-Control": "no-store"}
            )
        # Counted first: it is the .npz's header, and it tells an outage before any byte.
        count = await run_in_threadpool(grant.store.count, grant.session_id)
    except StorageUnavailable as error:
        return PlainTextResponse(
            f"{error} Try again in a moment.",
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
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
