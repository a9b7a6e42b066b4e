"""Only a developer's page may clear the server's caches: an ASGI middleware on the page's
WebSocket.

The page sends Streamlit's `clear_cache` message when "Clear cache" is chosen in its menu,
and Streamlit obeys it from any page: every st.cache_data and st.cache_resource of the
process is cleared, for every session (the model is looked up again, every cached figure
computed again). The menu offers it to developers only (`client.toolbarMode`, "viewer" in
.streamlit/config.toml), but anyone can send the message. This middleware drops it before
Streamlit reads it unless the toolbar is in developer mode; every other message passes as
it came.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config
from streamlit.proto.BackMsg_pb2 import BackMsg

from server.reconnects import STREAM_PATH

DEVELOPER_TOOLBAR = "developer"


def clears_caches(message: bytes) -> bool:
    """Whether a message from the page asks the server to clear its caches."""
    back = BackMsg()
    try:
        back.ParseFromString(message)
    except DecodeError:
        return False  # Streamlit refuses it itself
    return back.WhichOneof("type") == "clear_cache"


class CacheClearingForDevelopers:
    """On the page's WebSocket, drop requests to clear the caches unless the page's toolbar
    is in developer mode."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or not scope["path"].endswith(STREAM_PATH):
            await self.app(scope, receive, send)
            return

        async def receive_without_cache_clearing() -> Message:
            while True:
                message = await receive()
                data = message.get("bytes") if message["type"] == "websocket.receive" else None
                if _developer_toolbar() or not (data and clears_caches(data)):
                    return message

        await self.app(scope, receive_without_cache_clearing, send)


def _developer_toolbar() -> bool:
    return config.get_option("client.toolbarMode") == DEVELOPER_TOOLBAR
