"""A page that reconnects to a server which has never run it gets a whole run of its script.

When the replica a browser was on goes away, the browser reconnects to another one, which
starts a new Streamlit session for it. Streamlit's page asks that session for a run at once
only when its last run was a fragment's; otherwise it waits, and its next stroke asks to rerun
the drawing's fragment, which the new session has never run. Streamlit refuses that ("The
fragment with id ... does not exist anymore"), and every stroke after it, so the page would
show its old answer over new drawings until reloaded. This ASGI middleware watches the page's
WebSocket: until the connection's first script run, a request to rerun a fragment becomes a
request to run the whole script, with the same widget values.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit.proto.BackMsg_pb2 import BackMsg

STREAM_PATH = "/_stcore/stream"


def whole_run(message: bytes) -> bytes | None:
    """A script-run request made to run the whole script; None for any other message."""
    back = BackMsg()
    try:
        back.ParseFromString(message)
    except DecodeError:
        return None
    if back.WhichOneof("type") != "rerun_script":
        return None
    back.rerun_script.ClearField("fragment_id")
    return back.SerializeToString()


class WholeRunFirst:
    """On the page's WebSocket, make the first script-run request a whole run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or not scope["path"].endswith(STREAM_PATH):
            await self.app(scope, receive, send)
            return
        first_run_sent = False

        async def receive_whole_run_first() -> Message:
            nonlocal first_run_sent
            message = await receive()
            if first_run_sent or message["type"] != "websocket.receive" or not message.get("bytes"):
                return message
            rewritten = whole_run(message["bytes"])
            if rewritten is None:
                return message
            first_run_sent = True
            return {**message, "bytes": rewritten}

        await self.app(scope, receive_whole_run_first, send)
