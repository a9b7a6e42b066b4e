"""The page served by `streamlit run webapp.py` on a free loopback port, and the headless
Chromium that views it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import digit_model
from devtools import REPO_ROOT
from feedback import store as feedback_store

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 180  # importing TensorFlow and loading the model on a busy 2-core machine
# After a reset the canvas takes a moment before it keeps new strokes (a person never draws
# that fast after pressing Clear); strokes drawn sooner can be lost.
RESET_SETTLE_MS = 300


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


def _wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer on {url} in time:\n{_tail(log)}")


def start_page(
    log: Path,
    feedback_url: str,
    settings: Mapping[str, str] | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run webapp.py` on a loopback port (a free one unless given), keeping
    labels in the database at `feedback_url`, with `settings` added to its environment;
    returns the server and the page's URL once it is healthy."""
    port = port or free_port()
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        feedback_store.URL_VARIABLES[0]: feedback_url,
        **(settings or {}),
    }
    environment.pop(digit_model.MODEL_PATH_VARIABLE, None)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "webapp.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("w") as output:
        server = subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, log)
    except BaseException:
        stop_page(server)
        raise
    return server, url


def stop_page(server: subprocess.Popen) -> None:
    """Stop a server started by start_page, politely first."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def served_page(
    log: Path, feedback_url: str, settings: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The page served by start_page for the length of the block; yields its URL."""
    server, url = start_page(log, feedback_url, settings)
    try:
        yield url
    finally:
        stop_page(server)
