"""What one stroke costs on the page: server work, and pen-up to answer in a real browser.

    python benchmarks/bench_page.py                      # both parts
    python benchmarks/bench_page.py --skip-browser       # server work only
    python benchmarks/bench_page.py --against d48130e    # and another revision's page, in turn
    python benchmarks/bench_page.py --screenshot docs/screenshot.png \
        --phone-screenshot docs/phone.png                # and the README's pictures

Server work: everything the drawing fragment does for one stroke, from the PNG data URL
the canvas sends to the answer, the feedback row, the chart and the model's-eye image
handed to Streamlit. It runs
inside a real script run (Streamlit's AppTest) on MNIST test digits redrawn as canvas
strokes, next to two baselines measured in the same run: the model's compiled call alone
and a plain Keras `model.predict` on the same input. A full garbage collection, as Python
makes now and then, is timed too, with and without the `gc.freeze()` the page does after
loading the model.

Browser: `streamlit run webapp.py` on loopback, saving labels to a fresh SQLite file, and
headless Chromium drawing single-stroke digits with the mouse. The page itself records the
time of the pointer-up, of the message the canvas then sends, of the first frame after a
MutationObserver saw the "Prediction" metric change to the expected answer and, after a
click on "Correct", of the first frame that says the label was saved. The first stroke of
a visit is timed apart from the later ones, over fresh visits (each a new browser context,
so a new Streamlit session), and so is the very first visit after the server started,
whose start is timed too: from launching `streamlit run` to the page showing its canvas.
Then, in "A number" mode, fresh visits each write 31415926 with the mouse a digit at a time:
the time from the pen-up of each digit's last stroke to the number so far on screen, from
the second digit on (the whole number is read again on every stroke).

Each timed stroke is also split into its parts, on one wall clock: the page's moments
(pen-up, the drawing sent, the answer applied to the document, the frame drawn with it, and
each message received) and the server's, stamped by `devtools/stroke_clock.py`, which the
benchmark starts `streamlit run` through (the message received, the script run finished,
each message sent and its bytes); the page's code is left as it is. With `--against REV`
another revision's files (`git archive`, into a scratch folder) are served beside this
working tree's, both servers up together, and every visit and stroke is made on one page
then on the other, so that both meet the same moments of the machine; both tables print.
The server part and the number and screenshots are this working tree's alone.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from streamlit.testing.v1 import AppTest

import digit_model
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.shared
import webapp
from devtools import REPO_ROOT
from devtools.datasets import mnist
from devtools.drawing import PLACEMENTS, Digit, find_clear_digits
from devtools.page import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_LOOK_MS,
    RESET_SETTLE_MS,
    SENT_SINCE_PEN_UP,
    SHOWN_PREDICTIONS,
    answer_delays,
    clear_canvas,
    draw,
    last_stroke_moments,
    open_visit,
    pen_up_delays,
    served_page,
    wait_for_run_to_end,
    wait_until_drawable,
)
from devtools.timing import p50_p90, timed
from feedback.rate_limit import SAVES
from preprocess import canvas_to_ink, png_data_url
from reading import read_digits
from training.canvas_drawings import random_drawings

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Resolves with the time of the first frame that says the drawing's label was saved.
WATCH_FOR_SAVED = """
() => {
  window.savedShownAt = null;
  const shown = () => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')].some(
    (caption) => caption.textContent.includes("Saved as a")
  );
  const observer = new MutationObserver(() => {
    if (shown()) {
      observer.disconnect();
      requestAnimationFrame(() => { window.savedShownAt = performance.now(); });
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def stroke_script(drawings: list[str], timings: dict[str, list[float]]) -> None:
    """Runs inside AppTest: the fragment's per-stroke work for the next drawing, step by step.

    One drawing per script run, as on the page, where each stroke re-runs the fragment.
    """
    import time

    from streamlit_drawable_canvas import CanvasResult

    import digit_model
    import tabs.draw.one_digit
    import webapp
    from reading import read_drawing

    classifier = webapp.load_classifier(str(digit_model.model_path()))
    url = drawings.pop()
    started = time.perf_counter()
    rgba = CanvasResult(json_data=None, image_data_url=url, return_image_data=True).image_data
    decoded = time.perf_counter()
    reading = read_drawing(classifier, rgba)
    read = time.perf_counter()
    tabs.draw.one_digit.answer_section(reading)
    shown = time.perf_counter()
    timings["decode the canvas PNG"].append(decoded - started)
    timings["read_drawing (ink, normalise, predict)"].append(read - decoded)
    timings["answer_section (metric, feedback, chart, image)"].append(shown - read)
    timings["server work per stroke"].append(shown - started)


def measure_server(samples: int) -> dict[str, list[float]]:
    """Per-stroke server work on `samples` canvas-style drawings, and the two baselines."""
    images, labels = mnist("test")
    drawings = [rgba for rgba, _, _ in random_drawings(images[:samples], labels[:samples], seed=1)]
    urls = [png_data_url(rgba) for rgba in drawings]
    timings: dict[str, list[float]] = {
        name: []
        for name in (
            "decode the canvas PNG",
            "read_drawing (ink, normalise, predict)",
            "answer_section (metric, feedback, chart, image)",
            "server work per stroke",
        )
    }
    # The first runs load the model and warm every path up; the later ones are measured.
    warm_up = AppTest.from_function(stroke_script, args=(urls[:5], {k: [] for k in timings}))
    for _ in range(5):
        warm_up.run(timeout=300)
    pending = list(reversed(urls))
    strokes = AppTest.from_function(stroke_script, args=(pending, timings))
    while pending:
        strokes.run(timeout=60)

    classifier = webapp.load_classifier(str(digit_model.model_path()))
    readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba in drawings])
    inputs = [reading.image for reading in readings if reading is not None]
    timings["baseline: compiled predict_proba alone"] = _timed(
        lambda image: classifier.predict_proba(image[np.newaxis]), inputs
    )
    timings["baseline: Keras model.predict alone"] = _timed(
        lambda image: classifier.model.predict(image[np.newaxis], verbose=0), inputs
    )
    # A full collection with the page's gc.freeze() and, as a baseline, without it.
    timings["a full garbage collection"] = _timed(full_collection, range(20))
    gc.unfreeze()
    timings["baseline: the same collection without gc.freeze()"] = _timed(
        full_collection, range(20)
    )
    gc.freeze()
    return timings


def full_collection(_: object) -> None:
    """A full garbage collection, as Python makes now and then (the page turns Streamlit's,
    after every run, off)."""
    gc.collect(2)


def _timed(call: Callable, inputs: Sequence) -> list[float]:
    """Seconds of one call per input, after warm-up, as the page's own timings are kept."""
    return [milliseconds / 1000 for milliseconds in timed(call, inputs)]


RELEASE_BEFORE = "d48130e"  # the release before the reserved slots and the handwriting memory
NUMBER = "31415926"  # written in "A number" mode, a digit at a time...
NUMBER_DIGIT_HEIGHT, NUMBER_TOP = 120, 70  # ...each this tall, this far down (canvas px)...
NUMBER_FIRST_LEFT, NUMBER_STEP = 20, 82  # ...the first this far in, each next this far on


def number_delays(page: Page, clear: dict[int, Digit]) -> list[float]:
    """Write NUMBER on the wide canvas; seconds from each digit's last pen-up to the number
    so far on screen, from the second digit on."""
    from playwright.sync_api import expect

    modes = page.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
    modes.get_by_role("radio", name=tabs.draw.shared.A_NUMBER, exact=True).click()
    expect(page.get_by_text(tabs.draw.number.NUMBER_HINT)).to_be_visible(timeout=60_000)
    wait_until_drawable(page, tabs.draw.number.NUMBER_CANVAS_KEY)
    wait_for_run_to_end(page)
    delays = []
    for place, label in enumerate(NUMBER):
        left = NUMBER_FIRST_LEFT + place * NUMBER_STEP
        *strokes, last = clear[int(label)].strokes(NUMBER_DIGIT_HEIGHT, NUMBER_TOP, left)
        so_far = NUMBER[: place + 1]
        if strokes:  # drawn and answered before the stroke that is timed
            answered(page, strokes)
        if so_far in page.evaluate(f"() => {SHOWN_PREDICTIONS}"):  # the stroke changes nothing
            answered(page, [last])
            continue
        _, answer_after_send, delay = pen_up_delays(
            page, [last], so_far, tabs.draw.number.NUMBER_CANVAS_KEY
        )
        if place and answer_after_send > 0:  # not an answer to the strokes before
            delays.append(delay)
    return delays


def answered(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw pen paths on the wide canvas and wait until the page has answered them."""
    draw(page, strokes, tabs.draw.number.NUMBER_CANVAS_KEY)
    page.wait_for_function(SENT_SINCE_PEN_UP)
    page.wait_for_timeout(RESET_SETTLE_MS)  # until the run the drawing asks for has begun
    wait_for_run_to_end(page)


def save_delay(page) -> float:
    """Click "Correct" under the answer; seconds from the click to the page saying it is saved."""
    page.evaluate(WATCH_FOR_SAVED)
    page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).click()
    page.wait_for_function("window.savedShownAt !== null", timeout=30_000)
    clicked = page.evaluate("window.pageEvents.penUps.at(-1)")
    return (page.evaluate("window.savedShownAt") - clicked) / 1000


# A stroke's time, part by part: the browser's moments and the server's stroke clock
# (devtools/stroke_clock.py) on one wall clock.
STAGES = (
    "pen-up -> drawing sent",
    "drawing sent -> received by the server",
    "received -> script run finished",
    "run finished -> answer applied in the page",
    "answer applied -> drawn (next frame)",
    "pen-up -> answer on screen",
)
CLOCK_SKEW_MS = 2  # the browser's and the server's readings of one wall clock may differ so
STROKE_KINDS = ("a later stroke", "the first stroke of a fresh visit")  # each split in STAGES


def clock_events(clock_log: Path) -> list[dict]:
    """The server's stroke clock so far: one event per line."""
    with clock_log.open() as lines:
        return [json.loads(line) for line in lines]


def stroke_parts(moments: dict, events: list[dict]) -> dict[str, float] | None:
    """Milliseconds of each of STAGES for one stroke, and the messages that carried its
    answer (count and bytes sent by the server; received by the page before the answer was
    applied); None when the server's clock lacks the stroke."""
    sent, applied, shown = moments["sent"], moments["applied"], moments["shown"]
    after = [event for event in events if event["at"] >= sent - CLOCK_SKEW_MS]
    received = next((e["at"] for e in after if e["event"] == "received"), None)
    if received is None:
        return None
    finished = next(
        (e["at"] for e in after if e["event"] == "run finished" and e["at"] >= received), None
    )
    if finished is None:
        return None
    messages = [e["bytes"] for e in after if e["event"] == "sent" and e["at"] <= shown]
    carried = [size for at, size in moments["receipts"] if at <= applied]
    return {
        STAGES[0]: sent - moments["penUp"],
        STAGES[1]: received - sent,
        STAGES[2]: finished - received,
        STAGES[3]: applied - finished,
        STAGES[4]: shown - applied,
        STAGES[5]: shown - moments["penUp"],
        "messages sent by the server": len(messages),
        "bytes sent by the server": sum(messages),
        "messages received before the answer applied": len(carried),
        "bytes received before the answer applied": sum(carried),
    }


@dataclass
class ServedPage:
    """A page being measured: its URL, its server's stroke clock and what was measured."""

    url: str
    clock_log: Path
    timings: dict[str, list[float]]
    # Each kind of stroke (one of STROKE_KINDS), part by part.
    parts: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    cold_start: float = 0.0

    def timed_stroke(
        self, page: Page, digit: Digit, placement: tuple[int, int, int], kind: str
    ) -> tuple:
        """Draw one digit and keep its parts under `kind`; seconds from pen-up to send, send
        to the answer on screen, and in all."""
        delays = answer_delays(page, digit, placement)
        parts = stroke_parts(last_stroke_moments(page), clock_events(self.clock_log))
        for name, value in (parts or {}).items():
            self.parts[kind][name].append(value)
        return delays


@contextmanager
def revision_tree(revision: str) -> Iterator[Path]:
    """The files of another revision of this repository in a scratch folder, for the length
    of the block (exported with `git archive`: this working tree and its git state are left
    as they are)."""
    with tempfile.TemporaryDirectory() as scratch:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as files:
            files.extractall(scratch, filter="data")
        yield Path(scratch)


def measure_browser(
    trees: dict[str, Path],
    strokes: int,
    visits: int,
    number_visits: int,
    screenshot: Path | None,
    phone_screenshot: Path | None,
) -> dict[str, ServedPage]:
    """Pen-up to answer on screen in Chromium, for the page of each working tree (by name),
    their servers up together and measured in turn: the first stroke of `visits` fresh
    visits each, `strokes` later single-stroke digits in one visit each, each answer then
    confirmed, and each of those strokes split into STAGES. For the first tree alone, each digit
    of a number written in `number_visits` fresh visits, and the screenshots. Also each
    page's cold start: seconds from launching its server to its first page showing the
    canvas."""
    from playwright.sync_api import expect, sync_playwright

    clear = find_clear_digits(digit_model.load(), *mnist("test"))
    single = [digit for digit in clear.values() if len(digit.strokes(*PLACEMENTS[0])) == 1]
    # Each trial a pixel further right, so that no drawing repeats one already labelled.
    trials = []
    for i in range(strokes):
        height, top, left = PLACEMENTS[i % len(PLACEMENTS)]
        trials.append((single[i % len(single)], (height, top, left + i // len(PLACEMENTS))))
    first_visit = "first stroke of the first visit after the start"
    first_stroke = "first stroke of a fresh visit: pen-up -> answer"
    names = (
        "later strokes: pen-up -> drawing sent",
        "later strokes: drawing sent -> answer on screen",
        "later strokes: pen-up -> answer on screen",
    )
    saved = "click on Correct -> saved on screen (SQLite)"
    a_number = f"number {NUMBER}, digits 2-{len(NUMBER)}: pen-up -> number"
    desktop = {"viewport": {"width": 1000, "height": 1000}}
    pages: dict[str, ServedPage] = {}
    with (
        tempfile.TemporaryDirectory() as scratch,
        sync_playwright() as playwright,
        ExitStack() as servers,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for index, (name, root) in enumerate(trees.items()):
            folder = Path(scratch) / str(index)
            folder.mkdir()
            clock_log = folder / "stroke_clock.jsonl"
            started = time.perf_counter()
            url = servers.enter_context(
                served_page(
                    folder / "server.log",
                    f"sqlite:///{folder}/feedback.db",
                    root=root,
                    clock_log=clock_log,
                )
            )
            timings: dict[str, list[float]] = {first_visit: [], first_stroke: []}
            timings |= {each: [] for each in (*names, saved)}
            served = pages[name] = ServedPage(url, clock_log, timings)
            page = open_visit(browser, url, **desktop)
            served.cold_start = time.perf_counter() - started
            page.wait_for_timeout(FIRST_LOOK_MS)
            timings[first_visit].append(answer_delays(page, single[0], PLACEMENTS[0])[-1])
            page.context.close()

        for visit in range(visits):
            for served in pages.values():
                page = open_visit(browser, served.url, **desktop)
                page.wait_for_timeout(FIRST_LOOK_MS)
                digit = single[visit % len(single)]
                delays = served.timed_stroke(page, digit, PLACEMENTS[0], STROKE_KINDS[1])
                served.timings[first_stroke].append(delays[-1])
                page.context.close()

        later = {}
        for served in pages.values():
            later[served.url] = open_visit(browser, served.url, **desktop)
            answer_delays(later[served.url], single[0], PLACEMENTS[0])  # counted above
        for digit, placement in trials:
            for served in pages.values():
                page = later[served.url]
                clear_canvas(page)
                delays = served.timed_stroke(page, digit, placement, STROKE_KINDS[0])
                for each, seconds in zip(names, delays):
                    served.timings[each].append(seconds)
                served.timings[saved].append(save_delay(page))

        first = next(iter(pages.values()))
        first.timings[a_number] = []
        for _ in range(number_visits):
            visit = open_visit(browser, first.url, **desktop)
            first.timings[a_number] += number_delays(visit, clear)
            visit.context.close()
        page = later[first.url]
        if screenshot:
            clear_canvas(page)
            answer_delays(page, single[0], (190, 45, 50))
            page.mouse.move(5, 5)
            expect(page.get_by_test_id("stToast")).to_have_count(0, timeout=10_000)
            page.wait_for_timeout(1000)
            tab = page.get_by_role("tabpanel", name="Draw").bounding_box()
            bottom = round(tab["y"] + tab["height"] + 32)
            # The page scrolls inside Streamlit's own container, so a screenshot shows no
            # more than the window: make the window as tall as the tab.
            page.set_viewport_size({"width": 1000, "height": max(1000, bottom)})
            page.wait_for_timeout(1000)
            page.screenshot(path=screenshot, clip={"x": 0, "y": 0, "width": 1000, "height": bottom})
        if phone_screenshot:
            phone = open_visit(
                browser,
                first.url,
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
            )
            answer_delays(phone, single[0], PLACEMENTS[0])
            phone.wait_for_timeout(1000)
            phone.screenshot(path=phone_screenshot)  # the screen as a phone shows it
        browser.close()
    return pages


def report_parts(title: str, parts: dict[str, list[float]]) -> None:
    """Print a stroke's parts under `title`: p50 and p90 of each stage in milliseconds, then
    of the messages' counts and bytes."""
    print(f"\n{title}")
    print(f"{'':50}{'runs':>6}{'p50':>10}{'p90':>10}")
    for name in (*STAGES, *(name for name in parts if name not in STAGES)):
        values = parts.get(name, [])
        p50, p90 = p50_p90(values)
        unit = " ms" if name in STAGES else ""
        print(f"{name + unit:50}{len(values):>6}{p50:>10.1f}{p90:>10.1f}")


def report(title: str, timings: dict[str, list[float]]) -> None:
    """Print a table of runs, p50 and p90 in milliseconds under `title`."""
    print(f"\n{title}")
    print(f"{'':50}{'runs':>6}{'p50 ms':>10}{'p90 ms':>10}")
    for name, seconds in timings.items():
        p50, p90 = p50_p90([1000 * second for second in seconds])
        print(f"{name:50}{len(seconds):>6}{p50:>10.1f}{p90:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=300, help="drawings for the server part")
    parser.add_argument("--strokes", type=int, default=20, help="later strokes in one visit")
    parser.add_argument("--visits", type=int, default=20, help="fresh visits, for first strokes")
    parser.add_argument(
        "--number-visits", type=int, default=5, help="fresh visits that each write a number"
    )
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--against",
        metavar="REV",
        nargs="?",
        const=RELEASE_BEFORE,
        help=f"also measure another revision's page, in turn with this one ({RELEASE_BEFORE})",
    )
    parser.add_argument("--screenshot", type=Path, help="save the page after the last stroke (PNG)")
    parser.add_argument(
        "--phone-screenshot", type=Path, help="save a 390x844 phone screen after a stroke (PNG)"
    )
    args = parser.parse_args()
    if args.strokes > SAVES.per_visitor and not args.skip_browser:
        # Each later stroke's answer is confirmed, and the visit's saves past the limit are
        # refused: the benchmark would wait for a "Saved" that never comes.
        parser.error(
            f"--strokes is at most {SAVES.per_visitor}: each answer is confirmed, and a visitor "
            f"saves at most {SAVES.per_visitor} labels a minute (feedback/rate_limit.py)"
        )

    report("Server work per stroke (inside a Streamlit script run)", measure_server(args.samples))
    if args.skip_browser:
        return
    with ExitStack() as trees:
        roots = {"this working tree": REPO_ROOT}
        if args.against:
            roots[args.against] = trees.enter_context(revision_tree(args.against))
        pages = measure_browser(
            roots,
            args.strokes,
            args.visits,
            args.number_visits,
            args.screenshot,
            args.phone_screenshot,
        )
    for name, served in pages.items():
        report(f"Real browser on loopback (headless Chromium): {name}", served.timings)
        for kind in STROKE_KINDS:
            report_parts(f"{kind.capitalize()}, part by part: {name}", served.parts[kind])
        print(
            f"\nCold start, `streamlit run` to the page with its canvas: {served.cold_start:.1f} s"
        )


if __name__ == "__main__":
    main()
