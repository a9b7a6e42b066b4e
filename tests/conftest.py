"""Page-test fixtures: digits drawn the way people draw, and the page served to Chromium
with its labels going to the test PostgreSQL server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import digit_model
import feedback_store
import not_digits
import served_model
import tabs.draw
from canvas_drawings import centre_line, draw
from preprocess import canvas_to_ink
from reading import read_digits
from tests.mnist_data import mnist

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 180  # importing TensorFlow and loading the model on a busy 2-core machine
PEN_STEP = 8.0  # px between the mouse positions of a stroke
CLEAR_CONFIDENCE = 0.8  # a digit the model reads at least this surely at every test placement
SEARCHED_DIGITS = 300  # MNIST test digits looked at to find a clear one of each label

# (height, top, left) on the 280 px canvas: large and centred, small in a corner, and so on.
PLACEMENTS = [(200, 40, 60), (90, 20, 160), (130, 130, 20), (250, 12, 40)]

Segments = list[tuple[float, float, float, float]]


@dataclass(frozen=True)
class Digit:
    """An MNIST test digit as centre-line strokes that can be drawn at any place and size."""

    label: int
    segments: Segments

    def image(
        self, height: float, top: float, left: float, brush: float = tabs.draw.DEFAULT_BRUSH
    ) -> np.ndarray:
        """The 280x280 RGBA image the page's canvas sends for this digit: black on white."""
        coverage = draw(self.segments, height, top, left, brush, "black on transparent")[..., 3:]
        white = 255 - coverage
        return np.concatenate([white, white, white, np.full_like(white, 255)], axis=-1)

    def strokes(self, height: float, top: float, left: float) -> list[list[tuple[float, float]]]:
        """Pen paths in canvas pixels (x, y), placed exactly as `image` places the digit."""
        rows = [s[0] for s in self.segments] + [s[2] for s in self.segments]
        cols = [s[1] for s in self.segments] + [s[3] for s in self.segments]
        scale = height / max(max(rows) - min(rows), 1e-6)
        strokes = []
        for path in _pen_paths(self.segments):
            points = [
                (left + (c - min(cols)) * scale, top + (r - min(rows)) * scale) for r, c in path
            ]
            kept = [points[0]]
            for point in points[1:]:
                if np.hypot(point[0] - kept[-1][0], point[1] - kept[-1][1]) >= PEN_STEP:
                    kept.append(point)
            if kept[-1] != points[-1]:
                kept.append(points[-1])
            strokes.append(kept)
        return strokes

    def trace(self, page, canvas, height: float, top: float, left: float) -> None:
        """Draw the digit on a canvas element with the mouse, one pen-down per stroke."""
        box = canvas.bounding_box()
        for stroke in self.strokes(height, top, left):
            page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(box["x"] + x, box["y"] + y)
            page.mouse.up()


def _pen_paths(segments: Segments) -> list[list[tuple[float, float]]]:
    """Join centre-line segments into the few long paths a pen would follow."""
    links = {frozenset(((r0, c0), (r1, c1))) for r0, c0, r1, c1 in segments}
    neighbours: dict[tuple[float, float], set[tuple[float, float]]] = {}
    for a, b in map(tuple, links):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    # A diagonal link beside a two-step corner is the same stretch of line twice: keep one.
    for a, b in [tuple(link) for link in links]:
        if a[0] != b[0] and a[1] != b[1] and neighbours[a] & neighbours[b]:
            links.discard(frozenset((a, b)))
            neighbours[a].discard(b)
            neighbours[b].discard(a)
    # Start at line ends (odd degree) so each path runs end to end.
    starts = sorted(neighbours, key=lambda point: len(neighbours[point]) % 2 == 0)
    paths = []
    for start in starts:
        while any(frozenset((start, n)) in links for n in neighbours[start]):
            path = [start]
            while step := next(
                (n for n in neighbours[path[-1]] if frozenset((path[-1], n)) in links), None
            ):
                links.discard(frozenset((path[-1], step)))
                path.append(step)
            paths.append(path)
    return paths


@pytest.fixture(scope="session")
def classifier() -> digit_model.Classifier:
    """The committed model, loaded once."""
    return digit_model.load()


def find_clear_digits(classifier: digit_model.Classifier) -> dict[int, Digit]:
    """For each label, the first MNIST test digit the model reads surely at every test placement."""
    found: dict[int, Digit] = {}
    images, labels = mnist("test")
    for image, label in zip(images[:SEARCHED_DIGITS], labels[:SEARCHED_DIGITS]):
        if int(label) in found:
            continue
        digit = Digit(int(label), centre_line(image.astype(np.float32) / 255.0))
        canvases = np.stack([digit.image(*placement) for placement in PLACEMENTS])
        readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba in canvases])
        if all(
            reading.probabilities[label] >= CLEAR_CONFIDENCE and reading.is_digit
            for reading in readings
        ):
            found[int(label)] = digit
            if len(found) == 10:
                break
    return found


@pytest.fixture(scope="session")
def clear_digits(classifier) -> dict[int, Digit]:
    """Digits whose answer is not in doubt: the page tests check that a drawing reaches the
    model and the answer reaches the screen, not the model's accuracy."""
    return find_clear_digits(classifier)


@pytest.fixture(scope="session")
def not_a_digit(classifier) -> Digit:
    """A crossed-out circle the model flags as no digit at every test placement."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        segments = [tuple(map(float, s)) for s in not_digits.crossed_circle(rng)]
        drawing = Digit(-1, segments)
        inks = [canvas_to_ink(drawing.image(*placement)) for placement in PLACEMENTS]
        if not any(reading.is_digit for reading in read_digits(classifier, inks)):
            return drawing
    pytest.fail("the model took every crossed-out circle tried for a digit")


def _free_port() -> int:
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


@contextmanager
def served_page(log: Path, feedback_url: str) -> Iterator[str]:
    """Run `streamlit run webapp.py` on a free loopback port, keeping labels in the database at
    `feedback_url`; yields the page's URL once it is healthy."""
    port = _free_port()
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        feedback_store.URL_VARIABLES[0]: feedback_url,
    }
    environment.pop(served_model.MODEL_PATH_VARIABLE, None)
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
        "--server.fileWatcherType",
        "none",
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
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def feedback_database_url(postgres_server) -> str:
    """A database of its own on the test PostgreSQL server, for the served page's labels."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, feedback_database_url) -> Iterator[str]:
    """The page served by Streamlit on a free loopback port, for the whole test session."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with served_page(log, feedback_database_url) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright; a missing Chromium fails the run under CI."""
    if not CHROMIUM.is_file():
        problem = (
            f"Browser tests need Chromium at {CHROMIUM}: "
            "apt-get install chromium, or set CHROMIUM_PATH"
        )
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
