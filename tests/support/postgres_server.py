"""A throwaway PostgreSQL server on a free loopback port, for tests that need the real thing.

Use the `postgres_server` fixture (session-wide): it runs initdb in a temporary directory,
starts the server on 127.0.0.1 with trust authentication, and removes everything at the end.
Each test can ask it for a fresh database. When PostgreSQL is not installed the fixture
skips with a clear message, or fails when the CI environment variable is set, so CI
never passes by skipping.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from devtools.page import free_port

SUPERUSER = "postgres"
START_TIMEOUT_S = 60


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl live: $PG_BIN, the PATH, or the newest Debian-style install."""
    candidates = [os.environ.get("PG_BIN", "")]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )[::-1]
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    return None


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, reachable on 127.0.0.1:port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.root / "data"
        self.port = free_port()
        # The server refuses to run as root; as root, hand the directory to the postgres user.
        self._as_owner = ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []
        if self._as_owner:
            shutil.chown(self.root, user=SUPERUSER)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "--no-sync")

    def _run(self, program: str, *args: str) -> None:
        """Run one PostgreSQL program as the cluster's owner; failures show its output."""
        command = [*self._as_owner, str(self.bindir / program), *args]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False
        )
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{tail}"
            )

    def start(self) -> None:
        """Start (or restart) the server on the same port and data, waiting until it accepts."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop the server at once, as a crash or a pulled cable would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def processes(self) -> list[int]:
        """The server's process ids: the postmaster and every backend and worker under it."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # The parent's pid follows the command name, which is in parentheses.
                if int(stat.read_text().rpartition(")")[2].split()[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop every server process (SIGSTOP): sockets stay open and nothing answers."""
        stopped = self.processes()
        try:
            for pid in stopped:
                # A backend may end between being listed and being stopped.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            yield
        finally:
            for pid in stopped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def stopped_at_commit(self, engine: sa.Engine) -> Iterator[None]:
        """Within the block, the first transaction of `engine` to commit finds the server
        stopped at once (see stop), after its last statement and before its COMMIT: a crash in
        the middle of a save. The server stays stopped until start()."""
        stopped = False

        def stop_before_commit(_connection: sa.Connection) -> None:
            nonlocal stopped
            if not stopped:
                stopped = True
                self.stop()

        sa.event.listen(engine, "commit", stop_before_commit)
        try:
            yield
        finally:
            sa.event.remove(engine, "commit", stop_before_commit)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create an empty database with a fresh name and return its URL."""
        import psycopg
        from psycopg import sql

        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def remove(self) -> None:
        """Stop the server if it runs and delete its directory."""
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for the whole test session (skip or, on CI, fail without one)."""
    bindir = find_bindir()
    if bindir is None:
        message = (
            "PostgreSQL is not installed (no initdb on PATH, in $PG_BIN or /usr/lib/postgresql); "
            "install the postgresql package to run the PostgreSQL tests"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.remove()
