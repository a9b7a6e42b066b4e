"""How many drawing sessions one replica holds before the answer passes 150 ms (p50).

    python benchmarks/bench_replica.py                        # 0, 5, 10, 15, ... sessions
    python benchmarks/bench_replica.py --levels 0,5 --strokes 5   # a short try

One replica: `streamlit run webapp.py` on loopback, saving labels to a fresh SQLite file. On
it, N simulated people draw, and one real page measures what a person sees.

The load: each simulated person is a real Streamlit session on the page's own WebSocket
(`/_stcore/stream`), opened as the page's JavaScript opens it: a GET of the page (which sets
the visitor cookie), a GET of `/_stcore/health` (which sets the `_streamlit_xsrf` cookie),
then the WebSocket with the subprotocols `streamlit` and the XSRF token, the cookies and the
page's Origin, and a first `rerun_script` that runs the whole page. From that run's
ForwardMsgs it takes the drawing canvas's widget id and the drawing fragment's id. Then,
every `--interval` seconds (a person draws a stroke about every 2 s; each wait is drawn at
random between half and one and a half of it, so the sessions do not move in lockstep, and a
stroke never goes before the answer to the last), it sends what the page sends on a stroke:
a `rerun_script` for the fragment alone, whose widget states are those the browser sends
(the mode, the digit picker, the "Why" toggle, and the canvas's JSON value with the
Fabric.js strokes and the PNG data URL of the drawing, as `st_canvas` reads it), and waits
for the run to finish. It then fetches any picture the answer points to on the server, as
the browser does (the page sends its pictures inside its messages, so there are none today).
Each drawing is another MNIST test digit, traced as pen strokes at a random place and size
on the 280x280 canvas; each session goes through them from its own starting point. Every
answer's "Prediction" metric is read from the deltas and compared with the digit drawn, and
before any load one session checks that a clearly drawn digit comes back as itself: a load
that gets no answers, or wrong ones, shows.

The probe: headless Chromium on one page of the same replica, drawing single-stroke digits
with the mouse after pressing Clear, as `bench_page.py` does for later strokes: the page
records the pointer-up and the first frame after a MutationObserver saw the "Prediction"
metric show the drawn digit, both with `performance.now()`.

Levels: no load first (the baseline, in the same run), then more and more sessions (added to
those already drawing, then `--settle` seconds to let them spread out) until the probe's
median passes `--limit-ms` (the baseline goes on to the first load in any case). Each level
prints the strokes per second the server answered for the simulated sessions (offered:
sessions / interval), the share of those answers that showed the digit drawn, the simulated
sessions' own send-to-finished time, the probe's p50 and p90, the server's resident memory,
and the CPU used, from /proc, by the server process, by this benchmark (the simulated
sessions and the probe's driver), by the browser (Chromium and Playwright's driver) and by
everything else on the machine. The simulated sessions and the browser run on the same cores
as the server and take CPU from it, as other jobs do: the columns say how much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digit_model
from devtools.canvas_json import Drawing, canvas_value, simulated_drawings
from devtools.datasets import mnist
from devtools.drawing import PLACEMENTS, Digit, find_clear_digits
from devtools.page import (
    CHROMIUM,
    CHROMIUM_ARGS,
    answer_delays,
    clear_canvas,
    open_visit,
    start_page,
    stop_page,
)
from devtools.proc_stats import CpuClock, load_average, resident_mib
from devtools.simulated_sessions import Answer, Load
from devtools.timing import p50_p90

LIMIT_MS = 150.0
LEVELS = (0, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100)


@dataclass
class Level:
    """What one level of simulated sessions measured."""

    sessions: int
    seconds: float
    answers: list[Answer]
    probe: list[float]  # pen-up to answer on screen, seconds; inf for a probe that timed out
    cpu: dict[str, float]
    server_mib: float


def measure_level(server: subprocess.Popen, load: Load, page, trials, sessions: int) -> Level:
    """The probe's strokes on the page while the simulated sessions draw."""
    started, clock = time.perf_counter(), CpuClock.read(server.pid)
    probe = []
    for digit, placement in trials:
        try:
            clear_canvas(page)
            probe.append(answer_delays(page, digit, placement)[-1])
        except Exception as error:  # a probe stroke lost to the load counts as failed
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}") from error
            print(f"  probe stroke lost: {error!r}".splitlines()[0], flush=True)
            probe.append(float("inf"))
    ended = time.perf_counter()
    return Level(
        sessions=sessions,
        seconds=ended - started,
        answers=load.between(started, ended),
        probe=probe,
        cpu=CpuClock.read(server.pid).since(clock, ended - started),
        server_mib=resident_mib(server.pid),
    )


HEADER = (
    f"{'sessions':>8}{'offered':>9}{'answered':>10}{'right':>7}{'load':>7}{'probe':>7}"
    f"{'probe':>7}{'CPU % of one core':>31}{'server':>8}"
)
UNITS = (
    f"{'':>8}{'per s':>9}{'per s':>10}{'%':>7}{'p50 ms':>7}{'p50 ms':>7}{'p90 ms':>7}"
    f"{'server':>8}{'bench':>7}{'browser':>8}{'others':>8}{'RSS MiB':>8}"
)
LEGEND = (
    "offered, answered: the simulated sessions' strokes per second (the probe's not counted); "
    "right: answers that showed the digit drawn; load: a simulated stroke sent to its run "
    "finished; probe: pen-up to the answer on screen in Chromium. CPU from /proc, 100 = one "
    "core busy, 200 = both: the server process; this benchmark (the simulated sessions and "
    "the probe's driver); the browser (Chromium and Playwright's driver); everything else on "
    "the machine (other jobs)."
)


def row(level: Level, interval: float) -> str:
    """One level as a line of the printed table."""
    answers = level.answers
    finished = [a for a in answers if a.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    right = [a for a in finished if a.prediction == str(a.drawn)]
    probe_p50, probe_p90 = p50_p90([1000 * second for second in level.probe])
    load_p50, _ = p50_p90([1000 * answer.seconds for answer in finished])
    cpu = {name: 100 * share for name, share in level.cpu.items()}
    return (
        f"{level.sessions:>8}{level.sessions / interval:>9.1f}"
        f"{len(finished) / level.seconds:>10.1f}"
        f"{(100 * len(right) / len(finished) if finished else float('nan')):>7.0f}"
        f"{load_p50:>7.0f}{probe_p50:>7.0f}{probe_p90:>7.0f}"
        f"{cpu['server']:>8.0f}{cpu['bench']:>7.0f}{cpu['browser']:>8.0f}{cpu['others']:>8.0f}"
        f"{level.server_mib:>8.0f}"
    )


def probe_trials(strokes: int) -> list[tuple[Digit, tuple[int, int, int]]]:
    """Single-stroke digits the model reads surely, each trial a pixel further right than the
    last at its placement, so that no drawing repeats, as in bench_page.py."""
    clear = find_clear_digits(digit_model.load(), *mnist("test"))
    single = [digit for digit in clear.values() if len(digit.strokes(*PLACEMENTS[0])) == 1]
    trials = []
    for i in range(strokes):
        height, top, left = PLACEMENTS[i % len(PLACEMENTS)]
        trials.append((single[i % len(single)], (height, top, left + i // len(PLACEMENTS))))
    return trials


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--levels",
        default=",".join(map(str, LEVELS)),
        help="simulated sessions per level, comma-separated; 0 (no load) always comes first",
    )
    parser.add_argument("--strokes", type=int, default=20, help="probe strokes per level")
    parser.add_argument(
        "--interval", type=float, default=2.0, help="mean seconds between a session's strokes"
    )
    parser.add_argument(
        "--settle", type=float, help="seconds between adding sessions and probing (2 intervals)"
    )
    parser.add_argument("--limit-ms", type=float, default=LIMIT_MS, help="the probe's p50 limit")
    parser.add_argument("--drawings", type=int, default=300, help="distinct simulated drawings")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    levels = sorted({0, *(int(n) for n in args.levels.split(","))})
    settle = 2 * args.interval if args.settle is None else args.settle

    from playwright.sync_api import sync_playwright

    print(f"python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores, load average {load_average()} at the start")
    trials = probe_trials(args.strokes)
    drawings = simulated_drawings(args.drawings, args.seed)
    print(
        f"{len(drawings)} simulated drawings; a stroke every {args.interval:g} s "
        f"(x0.5-1.5) per session; {args.strokes} probe strokes per level; "
        f"{settle:g} s to settle after adding sessions",
        flush=True,
    )
    levels_done: list[Level] = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        server, url = start_page(Path(scratch) / "server.log", f"sqlite:///{scratch}/feedback.db")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        load = Load(url, drawings, args.interval, args.seed)
        try:
            page = open_visit(browser, url, viewport={"width": 1000, "height": 1000})
            answer_delays(page, *trials[0])  # the page's first stroke warms it up; not counted
            digit, placement = trials[0]
            check = load.check(Drawing(digit.label, canvas_value(digit, placement)))
            print(
                f"check: a simulated session drew a {digit.label}; the page answered "
                f"{check.prediction!r} ({check.status}, {1000 * check.seconds:.0f} ms)"
            )
            if check.prediction != str(digit.label):
                raise SystemExit("the simulated session's answer is wrong: the load is broken")
            print(f"\n{HEADER}\n{UNITS}", flush=True)
            for sessions in levels:
                load.grow_to(sessions)
                time.sleep(settle if sessions else 0)
                level = measure_level(server, load, page, trials, len(load.sessions))
                levels_done.append(level)
                print(row(level, args.interval), flush=True)
                # The baseline goes on to the first load whatever it shows (a busy machine).
                if sessions and statistics.median(level.probe) * 1000 > args.limit_ms:
                    break
        finally:
            load.close()
            browser.close()
            if server.poll() is not None:
                log = (Path(scratch) / "server.log").read_text()[-3000:]
                print(f"\nthe server exited with {server.returncode}; its log ends:\n{log}")
            stop_page(server)

    print(textwrap.fill(LEGEND, 92))
    answers = load.answers
    finished = [a for a in answers if a.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    right = sum(a.prediction == str(a.drawn) for a in finished)
    others = sorted({a.status for a in answers} - {"FINISHED_FRAGMENT_RUN_SUCCESSFULLY"})
    print(
        f"\nsimulated strokes: {len(finished)} fragment runs finished, {right} of them "
        f"({100 * right / max(len(finished), 1):.1f} %) showing the digit drawn as the "
        f"Prediction; other endings: {others or 'none'}; sessions or strokes lost: "
        f"{len(load.failures)} {load.failures[:3]}"
    )
    within = []
    for level in levels_done:
        if statistics.median(level.probe) * 1000 > args.limit_ms:
            break
        within.append(level.sessions)
    if levels_done and within == [level.sessions for level in levels_done]:
        print(
            f"the probe's p50 stayed within {args.limit_ms:g} ms up to {within[-1]} sessions, "
            "the last level tried"
        )
    elif within:
        print(
            f"largest load with the probe's p50 within {args.limit_ms:g} ms: "
            f"{within[-1]} sessions drawing a stroke every {args.interval:g} s"
        )
    else:
        print(f"the probe's p50 passed {args.limit_ms:g} ms even with no load")
    print(f"load average {load_average()} at the end")


if __name__ == "__main__":
    main()
