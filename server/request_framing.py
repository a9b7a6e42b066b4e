"""Refuse a request whose body has two lengths, and close its connection.

A request that carries both Content-Length and Transfer-Encoding can be read as two different
requests by two servers on its way (a proxy taking one length, this server the other): the
bytes one takes for the end of a body, the other takes for the start of a request, which is
how requests are smuggled past a proxy. uvicorn's h11 reads such a request by its
Transfer-Encoding and keeps the connection for more. RFC 9112 (section 6.1) lets a server
refuse it, and requires closing the connection after answering it; this ASGI middleware does
both, for every HTTP request the app serves.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TWO_LENGTHS = (
    "The request has both Content-Length and Transfer-Encoding, so its length is ambiguous. "
    "Send one of them."
)


class OneBodyLength:
    """Answer 400 and close the connection to a request with both Content-Length and
    Transfer-Encoding, before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        if "content-length" in headers and "transfer-encoding" in headers:
            refusal = PlainTextResponse(TWO_LENGTHS, 400, headers={"Connection": "close"})
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
