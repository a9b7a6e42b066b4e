"""CPU time and memory used by processes and by the whole machine, read from Linux's /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int | str) -> float:
    """CPU seconds (user and system) a process has used, all its threads together; 0 for a
    process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid: int) -> set[int]:
    """The processes started by `pid`, and by them, and so on."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def machine_seconds() -> float:
    """Busy CPU seconds of the whole machine, every core together (idle and iowait left out)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICKS


def resident_mib(pid: int) -> float:
    """The process's resident memory in MiB; NaN once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def load_average() -> str:
    """The machine's load over 1, 5 and 15 minutes, as the kernel gives it."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class CpuClock:
    """CPU seconds used so far by the server, by this process, by the browser (everything else
    this process started: Playwright's driver, Chromium), and by the whole machine."""

    server: float
    bench: float
    browser: dict[int, float]
    machine: float

    @classmethod
    def read(cls, server: int) -> CpuClock:
        browser = descendants(os.getpid()) - {server}
        return cls(
            process_seconds(server),
            process_seconds("self"),
            {pid: process_seconds(pid) for pid in browser},
            machine_seconds(),
        )

    def since(self, start: CpuClock, seconds: float) -> dict[str, float]:
        """Each one's share of one core between `start` and now: 1.0 is one core busy."""
        browser = sum(used - start.browser.get(pid, 0.0) for pid, used in self.browser.items())
        shares = {
            "server": self.server - start.server,
            "bench": self.bench - start.bench,
            "browser": browser,
        }
        shares["others"] = max(0.0, self.machine - start.machine - sum(shares.values()))
        return {name: used / seconds for name, used in shares.items()}
