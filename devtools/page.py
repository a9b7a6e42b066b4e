"""The page served by `streamlit run webapp.py` on a free loopback port, the headless
Chromium that views it, and the time from pen-up to the answer on screen, recorded in the page
itself."""

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
from typing import TYPE_CHECKING

import digit_model
import tabs.draw.one_digit
import tabs.draw.shared
from devtools import REPO_ROOT
from feedback.settings import URL_VARIABLES
from feedback.visitor import VISITOR_COOKIE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

    from devtools.drawing import Digit

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STROKE_CLOCK = Path(__file__).with_name("stroke_clock.py")
SERVER_START_SECONDS = 180  # importing TensorFlow and loading the model on a busy 2-core machine
# A person looks at a page for at least this long before the first stroke.
FIRST_LOOK_MS = 1000
PAGE_LOAD_MS = 180_000  # the first page after a start waits for TensorFlow and the model

# Records, in the page, when the pointer goes up, when the page sends to the server, and when
# each message from the server arrives, with its size in bytes.
RECORD_EVENTS = """
window.pageEvents = {penUps: [], sends: [], receipts: []};
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (...message) {
  window.pageEvents.sends.push(performance.now());
  return send.apply(this, message);
};
window.WebSocket = class extends WebSocket {
  constructor(...options) {
    super(...options);
    this.addEventListener("message", ({data}) => window.pageEvents.receipts.push(
      [performance.now(), data.byteLength ?? data.size ?? data.length]));
  }
};
window.addEventListener("pointerup", () => window.pageEvents.penUps.push(performance.now()), true);
"""
# True once the page has sent a message since the last pen-up (with RECORD_EVENTS).
SENT_SINCE_PEN_UP = "window.pageEvents.sends.at(-1) >= window.pageEvents.penUps.at(-1)"

# The values the "Prediction" metrics show (one for each mode opened): a JavaScript expression.
SHOWN_PREDICTIONS = """
[...document.querySelectorAll('[data-testid="stMetric"]')]
  .filter((metric) =>
    metric.querySelector('[data-testid="stMetricLabel"]')?.textContent.trim() === "Prediction")
  .map((metric) => metric.querySelector('[data-testid="stMetricValue"]')?.textContent.trim())
"""

# Resolves with the time the page's document first holds the "Prediction" metric showing
# `expected` (answerAppliedAt) and of the first frame drawn with it (answerShownAt).
WATCH_FOR_ANSWER = (
    """
(expected) => {
  window.answerShownAt = null;
  const shown = () => ("""
    + SHOWN_PREDICTIONS
    + """).includes(expected);
  const observer = new MutationObserver(() => {
    if (shown()) {
      observer.disconnect();
      window.answerAppliedAt = performance.now();
      requestAnimationFrame(() => { window.answerShownAt = performance.now(); });
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""
)

ANSWER_MS = 15_000  # an answer, or a script run, takes far less once the model is loaded

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
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer on {url} in time:\n{_tail(log)}")


def start_page(
    log: Path,
    feedback_url: str,
    settings: Mapping[str, str] | None = None,
    port: int | None = None,
    root: Path = REPO_ROOT,
    clock_log: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run webapp.py` from `root` (this working tree unless given) on a
    loopback port (a free one unless given), keeping labels in the database at
    `feedback_url`, with `settings` added to its environment, and with the server's side of
    each stroke timed into `clock_log` when given (devtools/stroke_clock.py); returns the
    server and the page's URL once it is healthy."""
    port = port or free_port()
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        URL_VARIABLES[0]: feedback_url,
        **(settings or {}),
    }
    environment.pop(digit_model.MODEL_PATH_VARIABLE, None)
    launcher = ["-m", "streamlit"] if clock_log is None else [str(STROKE_CLOCK), str(clock_log)]
    command = [
        sys.executable,
        *launcher,
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
            command, cwd=root, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, log)
    except BaseException:
        stop_page(server)
        raise
    return server, url


def stop_page(server: subprocess.Popen) -> None:
    """Stop a server (the page's, or nginx in front of it), politely first."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def served_page(
    log: Path,
    feedback_url: str,
    settings: Mapping[str, str] | None = None,
    root: Path = REPO_ROOT,
    clock_log: Path | None = None,
) -> Iterator[str]:
    """The page served by start_page for the length of the block; yields its URL."""
    server, url = start_page(log, feedback_url, settings, root=root, clock_log=clock_log)
    try:
        yield url
    finally:
        stop_page(server)


def drawing_surface(page: Page, canvas_key: str = tabs.draw.one_digit.CANVAS_KEY) -> Locator:
    """A canvas's drawing surface, inside the component's shadow root."""
    return page.locator(f".st-key-{canvas_key} {tabs.draw.shared.SURFACE}")


def wait_until_drawable(
    page: Page, canvas_key: str = tabs.draw.one_digit.CANVAS_KEY, timeout_ms: float = PAGE_LOAD_MS
) -> None:
    """Wait until a canvas shows, laid out where it stays, so that strokes land on it."""
    from playwright.sync_api import expect

    drawing_surface(page, canvas_key).wait_for(timeout=timeout_ms)
    # Until a stylesheet lays out the background layer (the page's rules, or the canvas's own
    # stylesheet, which loads later) it pushes the surface down by the canvas's height.
    background = page.locator(f".st-key-{canvas_key} .dc-background-canvas")
    expect(background).to_have_css("position", "absolute", timeout=timeout_ms)


def draw(
    page: Page,
    strokes: list[list[tuple[float, float]]],
    canvas_key: str = tabs.draw.one_digit.CANVAS_KEY,
) -> None:
    """Draw pen paths (canvas pixels) on one of the page's canvases with the mouse."""
    box = drawing_surface(page, canvas_key).bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()


def answer_delays(page: Page, digit: Digit, placement: tuple[int, int, int]) -> tuple[float, ...]:
    """Draw one single-stroke digit; seconds from pen-up to send, send to answer, and in all."""
    return pen_up_delays(page, digit.strokes(*placement), str(digit.label))


def pen_up_delays(
    page: Page,
    strokes: list[list[tuple[float, float]]],
    expected: str,
    canvas_key: str = tabs.draw.one_digit.CANVAS_KEY,
) -> tuple[float, ...]:
    """Draw pen paths on a canvas; seconds from the last pen-up to send, send to the answer
    `expected` on screen, and in all."""
    page.evaluate(WATCH_FOR_ANSWER, expected)
    draw(page, strokes, canvas_key)
    page.wait_for_function(f"window.answerShownAt !== null && {SENT_SINCE_PEN_UP}", timeout=30_000)
    events = page.evaluate("({...window.pageEvents, shown: window.answerShownAt})")
    pen_up = events["penUps"][-1]
    sent = min(t for t in events["sends"] if t >= pen_up)
    shown = events["shown"]
    return (sent - pen_up) / 1000, (shown - sent) / 1000, (shown - pen_up) / 1000


def last_stroke_moments(page: Page) -> dict[str, float | list[list[float]]]:
    """The moments of the last stroke timed by pen_up_delays, on the wall clock in milliseconds
    (as the server's stroke clock stamps them): pen-up, drawing sent, answer applied to the
    document and drawn; and each message received since the drawing was sent, [at, bytes]."""
    return page.evaluate(
        """() => {
  const wall = (moment) => performance.timeOrigin + moment;
  const events = window.pageEvents;
  const penUp = events.penUps.at(-1);
  const sent = events.sends.find((moment) => moment >= penUp);
  return {
    penUp: wall(penUp), sent: wall(sent), applied: wall(window.answerAppliedAt),
    shown: wall(window.answerShownAt),
    receipts: events.receipts.filter(([at]) => at >= sent).map(([at, size]) => [wall(at), size]),
  };
}"""
    )


def wait_for_run_to_end(page: Page, timeout_ms: float = ANSWER_MS) -> None:
    """Wait until the page's script run is over, as a person waits for a switched page to
    settle: until then Streamlit may still lay out or replace what the pen is aimed at."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=timeout_ms
    )


def visitor_cookie(page: Page) -> str | None:
    """The visitor cookie the server gave this Playwright page's browser, if any."""
    cookies = page.context.cookies()
    return next((c["value"] for c in cookies if c["name"] == VISITOR_COOKIE), None)


def open_visit(browser: Browser, url: str, **context_options: object) -> Page:
    """A fresh visit, so a new Streamlit session: the page loaded, its canvas ready to draw on.
    The caller closes its context; a visit that fails to open closes it here."""
    context = browser.new_context(**context_options)
    try:
        context.add_init_script(RECORD_EVENTS)
        page = context.new_page()
        page.goto(url)
        wait_until_drawable(page)
        page.get_by_role("button", name=tabs.draw.shared.CLEAR_TEXT, exact=True).wait_for()
    except BaseException:
        context.close()
        raise
    return page


def clear_canvas(page: Page) -> None:
    """Press Clear under the canvas and wait until the answer is blank again."""
    from playwright.sync_api import expect

    page.get_by_role("button", name=tabs.draw.shared.CLEAR_TEXT, exact=True).click()
    expect(page.get_by_text(tabs.draw.one_digit.DRAW_HINT)).to_be_visible(timeout=10_000)
    page.wait_for_timeout(RESET_SETTLE_MS)
