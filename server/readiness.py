"""GET /api/ready: whether this server process is ready for visitors, for a load balancer's
or an orchestrator's readiness check.

    200 {"ready": true, "model": "loaded", "database": "ready"}
    503 {"ready": false, "model": "loading", "database": "ready"}     with Retry-After

Ready once the served model is loaded and compiled (`served_model.state`) and the configured
feedback database answers; otherwise 503, whose fields say which part is not ready ("model":
"loading" or "unavailable", "database": "unavailable"). Streamlit's `/_stcore/health` says
healthy as soon as the server runs, before the model is loaded. Every wait is bounded: the
model's state is read, never waited for (a model file put back after a failed load is loaded
again in the background), and the database is asked on a worker thread of its own
and given up on after PING_WAIT_S. A store that failed answers "unavailable" at once for
its retry period, so a database that has just come back shows ready a few seconds later.

It speaks for the one process that answers it. Asked through a load balancer, it checks only
the replica that request is placed on: check each replica at its own address (by hand,
`curl http://127.0.0.1:8501/api/ready`, then 8502, ...; docs/deploy.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from feedback.database import RETRY_AFTER_S, StorageUnavailable
from feedback.store import configured_store
from server import served_model
from server.api import api_route

PATH = "/api/ready"
# A store call answers within about 5 s, whatever the database does (feedback.database); a
# ping that has not answered by then, or is still waiting for the thread, is no answer.
PING_WAIT_S = 5.0
DATABASE_READY, DATABASE_UNAVAILABLE = "ready", "unavailable"

# Pings wait on a thread of their own, never behind the API's readings, nor on the event loop.
_pings = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")


def routes(secrets: Mapping | None) -> list[Route]:
    """The readiness route, asking the store configured by the environment and `secrets`
    (the served app passes st.secrets)."""

    async def ready(request: Request) -> JSONResponse:
        model = served_model.state()
        database = await _database_state(secrets)
        ready = model is served_model.ModelState.LOADED and database == DATABASE_READY
        headers = {"Cache-Control": "no-store"}
        if not ready:
            headers["Retry-After"] = str(RETRY_AFTER_S)
        return JSONResponse(
            {"ready": ready, "model": model, "database": database},
            status_code=200 if ready else 503,
            headers=headers,
        )

    return [api_route(PATH, "GET", ready)]


async def _database_state(secrets: Mapping | None) -> str:
    """Whether the configured feedback database answers within PING_WAIT_S."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(PING_WAIT_S):
            await loop.run_in_executor(_pings, _ping, secrets)
    except (StorageUnavailable, TimeoutError):
        return DATABASE_UNAVAILABLE
    return DATABASE_READY


def _ping(secrets: Mapping | None) -> None:
    """Ask the configured store for an answer; StorageUnavailable when none comes."""
    configured_store(secrets).ping()
