"""Simulated people drawing on the page, each a real Streamlit session on the page's own
WebSocket, opened and spoken to as the page's JavaScript does (benchmarks/bench_replica.py
describes the protocol step by step).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http.client
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.one_digit
import tabs.draw.shared
from devtools.canvas_json import Drawing
from server.reconnects import STREAM_PATH

HEALTH_PATH = "/_stcore/health"
XSRF_COOKIE = "_streamlit_xsrf"
RUN_TIMEOUT_S = 120  # a script run that takes longer counts as lost
WHY_KEY = "why_digit"  # the "Why this answer?" toggle under the one-digit canvas
# The page's context, as headless Chromium sends it with every rerun.
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "color_scheme": "light"}


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
            for key in (
                tabs.draw.MODE_KEY,
                tabs.draw.feedback_row.PICK_KEY,
                WHY_KEY,
                tabs.draw.one_digit.CANVAS_KEY,
            ):
                if widget_id.endswith(f"-{key}"):
                    self.widget_ids[key] = widget_id
                    if key == tabs.draw.one_digit.CANVAS_KEY:
                        self.fragment_id = message.delta.fragment_id
        missing = {
            tabs.draw.MODE_KEY,
            tabs.draw.feedback_row.PICK_KEY,
            WHY_KEY,
            tabs.draw.one_digit.CANVAS_KEY,
        } - set(self.widget_ids)
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
        mode.string_array_value.data.append(tabs.draw.shared.ONE_DIGIT)
        pick = WidgetState(id=self.widget_ids[tabs.draw.feedback_row.PICK_KEY])
        pick.string_array_value.SetInParent()
        why = WidgetState(id=self.widget_ids[WHY_KEY], bool_value=False)
        canvas = WidgetState(
            id=self.widget_ids[tabs.draw.one_digit.CANVAS_KEY], json_value=drawing.value
        )
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
