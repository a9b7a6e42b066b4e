"""Several replicas of the page behind nginx, run with the configuration in `deploy/`.

The nginx configuration is `deploy/nginx.conf` as committed, with only the listen port and
the replicas' addresses (`deploy/replicas.conf`) changed, so what the replica test and the
benchmarks run is what docs/deploy.md tells an operator to run.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from devtools import REPO_ROOT
from devtools.page import free_port, stop_page, visitor_cookie
from feedback.visitor import is_visitor_id
from server.session_log import LINE_PATTERN, visitor_tag

DEPLOY = REPO_ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LISTEN = "listen 127.0.0.1:8080;"
REPLICA_LINE = re.compile(r"^server (\S+)( .*;)$", re.MULTILINE)
START_TIMEOUT_S = 20
PLACEMENT_PROBE = "/_stcore/host-config"  # a small page request any replica answers


def nginx_files(port: int, replicas: Sequence[str]) -> dict[str, str]:
    """deploy/'s nginx.conf and replicas.conf for nginx on 127.0.0.1:port in front of
    `replicas` (host:port each), every other line as committed."""
    config = (DEPLOY / "nginx.conf").read_text()
    if config.count(LISTEN) != 1:
        raise ValueError(f"deploy/nginx.conf should hold `{LISTEN}` once")
    committed = (DEPLOY / "replicas.conf").read_text()
    options = REPLICA_LINE.search(committed)
    if options is None:
        raise ValueError("deploy/replicas.conf lists no `server ...;` line")
    comments = "".join(line + "\n" for line in committed.splitlines() if line.startswith("#"))
    servers = "".join(f"server {address}{options.group(2)}\n" for address in replicas)
    return {
        "nginx.conf": config.replace(LISTEN, f"listen 127.0.0.1:{port};"),
        "replicas.conf": comments + servers,
    }


def _wait_until_listening(port: int, nginx: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if nginx.poll() is not None:
            raise RuntimeError(f"nginx exited with {nginx.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port} in time:\n{log.read_text()}")


@contextmanager
def load_balancer(workdir: Path, replicas: Sequence[str]) -> Iterator[str]:
    """nginx with deploy/'s configuration in front of `replicas` (their URLs), for the length
    of the block; yields its URL."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    addresses = [url.removeprefix("http://").removeprefix("https://") for url in replicas]
    for name, text in nginx_files(port, addresses).items():
        (workdir / name).write_text(text)
    # nginx.conf puts nginx's pid, error.log and access.log in the prefix, workdir; what nginx
    # says before it has read the file goes to the same error log.
    log = workdir / "error.log"
    command = [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"]
    with log.open("a") as early_errors:
        nginx = subprocess.Popen(command, stdout=early_errors, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(port, nginx, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_page(nginx)


def replica_of(page, balancer_url: str, access_log: Path) -> str:
    """The URL of the replica nginx sends this Playwright page's browser to now: a request
    with the browser's cookies, and the replica nginx's access log says answered it (the
    last field lists the replicas tried, the one that answered last)."""

    def probes() -> list[str]:
        return [line for line in access_log.read_text().splitlines() if PLACEMENT_PROBE in line]

    before = len(probes())
    page.request.get(balancer_url + PLACEMENT_PROBE)
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(probes()) == before:  # nginx logs a request just after answering it
        if time.monotonic() > deadline:
            raise RuntimeError("nginx logged no line for the probe")
        time.sleep(0.05)
    return "http://" + probes()[-1].split()[-1]


def replica_holding(page, logs: Mapping[str, Path]) -> str:
    """The URL of the replica that holds the sessions of this Playwright page's visitor (the
    page's own, and those of its browser's other tabs), by the line each replica logs when a
    session starts; `logs` gives each replica's log by its URL. Where nginx sends the page's
    next request can be another replica: one that has come back after the page's WebSocket
    moved away from it."""
    cookie = visitor_cookie(page)
    if not is_visitor_id(cookie):
        raise LookupError("The page's browser has no visitor cookie")
    visitor = visitor_tag(cookie)
    holding = [
        url
        for url, log in logs.items()
        if any(
            (line := LINE_PATTERN.search(text)) and line.group(3) == visitor
            for text in log.read_text(errors="replace").splitlines()
        )
    ]
    if len(holding) != 1:
        raise LookupError(f"Sessions of visitor {visitor} are on {len(holding)} replicas")
    return holding[0]
