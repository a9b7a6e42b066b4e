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
import asyncio
import concurrent.futures
import contextlib
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

import digit_model
import tabs.draw
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
from devtools.timing import p50_p90
from preprocess import png_data_url
from server.reconnects import STREAM_PATH
from training.canvas_drawings import centre_line

LIMIT_MS = 150.0
LEVELS = (0, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100)
HEALTH_PATH = "/_stcore/health"
XSRF_COOKIE = "_streamlit_xsrf"
RUN_TIMEOUT_S = 120  # a script run that takes longer counts as lost
WHY_KEY = "why_digit"  # the "Why this answer?" toggle under the one-digit canvas
FABRIC_VERSION = "7.4.0"  # what the canvas's Fabric.js writes into its JSON
# The page's context, as headless Chromium sends it with every rerun.
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "color_scheme": "light"}
# A Fabric.js freedraw path's properties besides its place, size and points, as the canvas
# sends them.
PATH_PROPERTIES = {
    **dict.fromkeys(
        ["lockMovementX", "lockMovementY", "lockRotation", "lockScalingX", "lockScalingY"], False
    ),
    **dict.fromkeys(["lockSkewingX", "lockSkewingY", "lockScalingFlip"], False),
    "type": "Path",
    "version": FABRIC_VERSION,
    "originX": "center",
    "originY": "center",
}
PATH_STYLE = {
    "fill": None,
    "stroke": "#000000",
    "strokeDashArray": None,
    "strokeLineCap": "round",
    "strokeDashOffset": 0,
    "strokeLineJoin": "round",
    "strokeUniform": False,
    "strokeMiterLimit": 10,
    "scaleX": 1,
    "scaleY": 1,
    "angle": 0,
    "flipX": False,
    "flipY": False,
    "opacity": 1,
    "shadow": None,
    "visible": True,
    "backgroundColor": "",
    "fillRule": "nonzero",
    "paintFirst": "fill",
    "globalCompositeOperation": "source-over",
    "skewX": 0,
    "skewY": 0,
}


# --- What the canvas sends ---------------------------------------------------------------


@dataclass(frozen=True)
class Drawing:
    """One drawing as the canvas sends it: the digit drawn, and the canvas's JSON value."""

    label: int
    value: str


def fabric_path(points: Sequence[tuple[float, float]], brush: int) -> dict:
    """A pen stroke as the Fabric.js freedraw brush records it: a quadratic curve through the
    mouse positions, from the first to the last."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    path: list[list] = [["M", *points[0]]]
    for (x, y), (x_next, y_next) in itertools.pairwise(points[1:]):
        path.append(["Q", x, y, (x + x_next) / 2, (y + y_next) / 2])
    path.append(["L", *points[-1]])
    return {
        **PATH_PROPERTIES,
        "left": (min(xs) + max(xs)) / 2,
        "top": (min(ys) + max(ys)) / 2,
        "width": max(xs) - min(xs),
        "height": max(ys) - min(ys),
        **PATH_STYLE,
        "strokeWidth": brush,
        "path": path,
    }


def canvas_value(digit: Digit, placement: tuple[float, float, float]) -> str:
    """The canvas component's JSON value for this digit drawn at `placement`, as the browser
    sets it: the Fabric.js drawing, and the canvas as a PNG data URL (black on white)."""
    brush = tabs.draw.DEFAULT_BRUSH
    drawing = {
        "version": FABRIC_VERSION,
        "objects": [fabric_path(stroke, brush) for stroke in digit.strokes(*placement)],
        "background": "#ffffff",
    }
    image = digit.traced_image(*placement, brush=brush)
    return json.dumps(
        {"drawing": {"raw": drawing, "data": png_data_url(image)}}, separators=(",", ":")
    )


def simulated_drawings(count: int, seed: int) -> list[Drawing]:
    """`count` MNIST test digits, each traced at a random place and size on the canvas."""
    images, labels = mnist("test")
    rng = np.random.default_rng(seed)
    drawings = []
    for image, label in zip(images, labels):
        digit = Digit(int(label), centre_line(image.astype(np.float32) / 255.0))
        if not digit.segments:
            continue
        height = float(rng.uniform(110, 240))
        top, left = (float(v) for v in rng.uniform(12, tabs.draw.CANVAS_SIZE - height - 12, 2))
        if not digit.fits(height, top, left):
            continue
        drawings.append(Drawing(digit.label, canvas_value(digit, (height, top, left))))
        if len(drawings) == count:
            break
    return drawings


# --- One person's session, spoken over the WebSocket -------------------------------------


@dataclass(frozen=True)
class Answer:
    """One simulated stroke: when it finished, how long it took, what the page answered."""

    finished_at: float
    seconds: float
    drawn: int
    prediction: str | None
    status: str


def visit_cookies(url: str) -> dict[str, str]:
    """The cookies a browser holds when it opens the page's WebSocket: the visitor cookie
    from the page's HTML and the XSRF cookie from the health check the page makes first."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    cookies: dict[str, str] = {}
    for path in ("/", HEALTH_PATH):
        request = urllib.request.Request(url + path)
        if cookies:
            request.add_header("Cookie", cookie_header(cookies))
        with opener.open(request, timeout=60) as response:
            response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                cookies[name.strip()] = value.strip()
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    """The Cookie header a browser would send with these cookies."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class DrawingSession:
    """A person drawing on the page, speaking Streamlit's protocol over the page's WebSocket."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.socket: ClientConnection | None = None
        self.cookies: dict[str, str] = {}
        self.page_script_hash = ""
        self.widget_ids: dict[str, str] = {}
        self.fragment_id = ""
        self.media: http.client.HTTPConnection | None = None

    def context(self) -> ContextInfo:
        return ContextInfo(url=self.url + "/", is_embedded=False, **CONTEXT)

    async def open(self) -> None:
        """Open the session as the page does, run the page once, and find the canvas."""
        self.cookies = await asyncio.to_thread(visit_cookies, self.url)
        host = urllib.parse.urlsplit(self.url).netloc
        self.socket = await connect(
            f"ws://{host}{STREAM_PATH}",
            origin=Origin(self.url),
            subprotocols=[Subprotocol("streamlit"), Subprotocol(self.cookies[XSRF_COOKIE])],
            additional_headers={"Cookie": cookie_header(self.cookies)},
            proxy=None,
            ping_interval=None,  # the page sends no pings
            max_size=None,
            open_timeout=RUN_TIMEOUT_S,
        )
        first = ClientState(context_info=self.context())
        first.widget_states.SetInParent()  # no widget has a value yet
        messages, status = await self.run(first)
        if status != "FINISHED_SUCCESSFULLY":
            raise RuntimeError(f"the page's first run ended {status}")
        for message in messages:
            if message.WhichOneof("type") == "new_session":
                self.page_script_hash = message.new_session.page_script_hash
            if message.WhichOneof("type") != "delta":
                continue
            element = message.delta.new_element
            kind = element.WhichOneof("type")
            widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
            if not isinstance(widget_id, str):
                continue
            for key in (tabs.draw.MODE_KEY, tabs.draw.PICK_KEY, WHY_KEY, tabs.draw.CANVAS_KEY):
                if widget_id.endswith(f"-{key}"):
                    self.widget_ids[key] = widget_id
                    if key == tabs.draw.CANVAS_KEY:
                        self.fragment_id = message.delta.fragment_id
        missing = {tabs.draw.MODE_KEY, tabs.draw.PICK_KEY, WHY_KEY, tabs.draw.CANVAS_KEY} - set(
            self.widget_ids
        )
        if missing or not self.fragment_id or not self.page_script_hash:
            raise RuntimeError(f"the page's first run shows no {sorted(missing) or 'fragment'}")

    async def run(self, state: ClientState) -> tuple[list[ForwardMsg], str]:
        """Ask for a script run; the ForwardMsgs it sent, and how it finished."""
        await self.socket.send(BackMsg(rerun_script=state).SerializeToString())
        messages = []
        while True:
            message = ForwardMsg()
            message.ParseFromString(await self.socket.recv())
            messages.append(message)
            if message.WhichOneof("type") == "script_finished":
                return messages, ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)

    def stroke_state(self, drawing: Drawing) -> ClientState:
        """What the page sends when a stroke ends: a rerun of the drawing fragment alone, with
        the widget states the browser holds (the mode, the digit picker with nothing picked,
        the "Why" toggle off, and the canvas's new value)."""
        mode = WidgetState(id=self.widget_ids[tabs.draw.MODE_KEY])
        mode.string_array_value.data.append(tabs.draw.ONE_DIGIT)
        pick = WidgetState(id=self.widget_ids[tabs.draw.PICK_KEY])
        pick.string_array_value.SetInParent()
        why = WidgetState(id=self.widget_ids[WHY_KEY], bool_value=False)
        canvas = WidgetState(id=self.widget_ids[tabs.draw.CANVAS_KEY], json_value=drawing.value)
        state = ClientState(
            page_script_hash=self.page_script_hash,
            fragment_id=self.fragment_id,
            context_info=self.context(),
        )
        state.widget_states.widgets.extend([mode, pick, why, canvas])
        return state

    async def stroke(self, drawing: Drawing) -> Answer:
        """Send one drawing, wait for the fragment run to finish, then fetch the pictures it
        points to on the server."""
        sent = time.perf_counter()
        messages, status = await asyncio.wait_for(
            self.run(self.stroke_state(drawing)), RUN_TIMEOUT_S
        )
        finished = time.perf_counter()
        prediction, images = None, []
        for message in messages:
            element = message.delta.new_element if message.WhichOneof("type") == "delta" else None
            if element is None:
                continue
            if element.WhichOneof("type") == "metric" and element.metric.label == "Prediction":
                prediction = element.metric.body
            elif element.WhichOneof("type") == "imgs":
                # Pictures sent inside the message (data URLs) need no request.
                images += [i.url for i in element.imgs.imgs if not i.url.startswith("data:")]
            elif element.WhichOneof("type") == "exception":
                status = f"exception: {element.exception.message}"
        for image in images:
            await asyncio.to_thread(self.fetch, image)
        return Answer(finished, finished - sent, drawing.label, prediction, status)

    def fetch(self, path: str) -> None:
        """GET a media file over the session's keep-alive connection, as the browser does."""
        for attempt in range(2):
            if self.media is None:
                self.media = http.client.HTTPConnection(
                    urllib.parse.urlsplit(self.url).netloc, timeout=RUN_TIMEOUT_S
                )
            try:
                self.media.request("GET", path, headers={"Cookie": cookie_header(self.cookies)})
                response = self.media.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path}: {response.status}")
                return
            except (http.client.HTTPException, OSError):
                self.media.close()
                self.media = None  # the server closed an idle connection: open another
                if attempt:
                    raise

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.media is not None:
            self.media.close()


# --- The load: N sessions drawing ---------------------------------------------------------


@dataclass
class Load:
    """Simulated people drawing on one replica, run by an event loop in a thread of its own."""

    url: str
    drawings: list[Drawing]
    interval: float
    seed: int
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sessions: list[DrawingSession] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(16))
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.thread = threading.Thread(target=self.loop.run_forever, name="load", daemon=True)
        self.thread.start()

    def call(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def check(self, drawing: Drawing) -> Answer:
        """One session opened and one drawing sent: the answer, to check the load works."""

        async def once() -> Answer:
            session = DrawingSession(self.url)
            try:
                await session.open()
                return await session.stroke(drawing)
            finally:
                await session.close()

        return self.call(once())

    def grow_to(self, count: int) -> None:
        """Open sessions (each runs the whole page once) until `count` are drawing."""
        new = [DrawingSession(self.url) for _ in range(count - len(self.sessions))]
        self.call(self._open(new))

    async def _open(self, sessions: list[DrawingSession]) -> None:
        results = await asyncio.gather(*(s.open() for s in sessions), return_exceptions=True)
        for session, result in zip(sessions, results):
            if isinstance(result, BaseException):
                self.failures.append(f"open: {result!r}")
                continue
            number = len(self.sessions)
            self.sessions.append(session)
            self.tasks.append(asyncio.create_task(self._draw(session, number)))

    async def _draw(self, session: DrawingSession, number: int) -> None:
        """One person: a new drawing every interval (jittered), never before the last answer."""
        rng = np.random.default_rng([self.seed, number])
        start = int(rng.integers(len(self.drawings)))
        await self._pause(rng.uniform(0, self.interval))  # people do not start together
        stroke = 0
        while not self.stopping.is_set():
            sent = time.perf_counter()
            drawing = self.drawings[(start + stroke) % len(self.drawings)]
            stroke += 1
            try:
                self.answers.append(await session.stroke(drawing))
            except Exception as error:  # a lost session is counted, not raised
                self.failures.append(f"stroke: {error!r}")
                return
            wait = sent + self.interval * rng.uniform(0.5, 1.5) - time.perf_counter()
            await self._pause(wait)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), seconds)

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in list(self.answers) if start <= a.finished_at < end]

    def close(self) -> None:
        async def stop() -> None:
            self.stopping.set()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await asyncio.gather(*(s.close() for s in self.sessions), return_exceptions=True)

        self.call(stop(), timeout=RUN_TIMEOUT_S + 30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


# --- CPU and memory from /proc ------------------------------------------------------------


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


# --- The levels ---------------------------------------------------------------------------


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
