"""Give every browser a visitor id: an ASGI middleware that sets the visitor cookie on the page.

The page's HTML is what a browser loads before it opens the page's WebSocket, so the cookie
set there travels with the WebSocket and with everything after it, and the page's script
reads it (`st.context.cookies`). A load balancer can keep a browser on one replica by it.
Requests that bring a valid cookie, and responses that are not HTML (the API, downloads),
are left alone. A request without one is also stripped of its conditional headers, so that
a browser holding a cached page (which would get a bodiless 304) gets the page whole, with
the cookie.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedback.visitor import VISITOR_COOKIE, VISITOR_MAX_AGE_S, is_visitor_id, new_visitor_id

CONDITIONAL_HEADERS = {b"if-none-match", b"if-modified-since"}


def visitor_cookie_header(visitor_id: str, secure: bool) -> bytes:
    """The Set-Cookie value: the whole site, a year, out of scripts' reach, same-site only."""
    cookie = SimpleCookie()
    cookie[VISITOR_COOKIE] = visitor_id
    morsel = cookie[VISITOR_COOKIE]
    morsel.update({"path": "/", "max-age": VISITOR_MAX_AGE_S, "samesite": "Lax"})
    morsel["httponly"] = True
    morsel["secure"] = secure
    return morsel.OutputString().encode("latin-1")


class VisitorCookie:
    """Set a new visitor cookie on HTML responses to requests that bring none (or a bad one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if is_visitor_id(cookie_parser(headers.get("cookie", "")).get(VISITOR_COOKIE)):
            await self.app(scope, receive, send)
            return
        unconditional = [
            (name, value) for name, value in scope["headers"] if name not in CONDITIONAL_HEADERS
        ]
        scope = {**scope, "headers": unconditional}
        secure = scope.get("scheme") == "https" or headers.get("x-forwarded-proto") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = Headers(raw=message.get("headers", []))
                if response_headers.get("content-type", "").startswith("text/html"):
                    set_cookie = (b"set-cookie", visitor_cookie_header(new_visitor_id(), secure))
                    message = {**message, "headers": [*message.get("headers", []), set_cookie]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
