"""`streamlit run`, with the server's side of each stroke timed: for benchmarks only.

    python devtools/stroke_clock.py LOG run webapp.py [streamlit options]

Runs Streamlit's command line as `python -m streamlit` does, after wrapping three of its
methods to append a line of JSON to LOG at each event, stamped with the wall clock in
milliseconds (the browser's `performance.timeOrigin + performance.now()` on the same machine
shares it): a message from the browser handed to the runtime ("received", with its kind), a
script run begun and finished ("run started", "run finished"; fragment runs too), and each
message written to the page's WebSocket ("sent", with its size in bytes). The page served is
the one named, from the working directory, so that it times another revision's page too:
nothing here imports the project, and the page's own code is left as it is.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


def stamp(log: Path, lock: threading.Lock, event: str, **details: Any) -> None:
    """Append one event to the log, stamped with the wall clock in milliseconds."""
    line = json.dumps({"event": event, "at": time.time() * 1000, **details})
    with lock, log.open("a") as output:
        output.write(line + "\n")


def clock(log: Path) -> None:
    """Wrap the runtime's hand-over of browser messages, the script runner's runs and the
    WebSocket's writes to stamp each in `log`."""
    from starlette.websockets import WebSocket
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    lock = threading.Lock()
    handle_backmsg, run_script = Runtime.handle_backmsg, ScriptRunner._run_script
    send_bytes = WebSocket.send_bytes

    @functools.wraps(handle_backmsg)
    def handle_backmsg_stamped(self, session_id, msg, *args, **kwargs):
        stamp(log, lock, "received", kind=msg.WhichOneof("type"), bytes=msg.ByteSize())
        return handle_backmsg(self, session_id, msg, *args, **kwargs)

    @functools.wraps(run_script)
    def run_script_stamped(self, *args, **kwargs):
        stamp(log, lock, "run started")
        try:
            return run_script(self, *args, **kwargs)
        finally:
            stamp(log, lock, "run finished")

    @functools.wraps(send_bytes)
    async def send_bytes_stamped(self, data: bytes) -> None:
        stamp(log, lock, "sent", bytes=len(data))
        await send_bytes(self, data)

    Runtime.handle_backmsg = handle_backmsg_stamped
    ScriptRunner._run_script = run_script_stamped
    WebSocket.send_bytes = send_bytes_stamped


def main() -> None:
    """Clock the server, then run Streamlit's command line with the arguments after LOG."""
    sys.path.pop(0)  # this file's folder: the page imports from its own working directory
    log = Path(sys.argv[1])
    clock(log)
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *sys.argv[2:]]
    streamlit_main()


if __name__ == "__main__":
    main()
