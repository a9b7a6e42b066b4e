"""The page's controls as a person finds them in headless Chromium, and how long to wait for
its answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from string import Template

from playwright.sync_api import Page, Route, expect

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.page_head
import tabs.draw.shared
from devtools.drawing import Digit
from devtools.page import ANSWER_MS, drawing_surface, wait_for_run_to_end, wait_until_drawable

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1000, "height": 1000}
LAPTOP = {"width": 1280, "height": 800}  # a common desktop screen, wide and low
FIRST_ANSWER_MS = 60_000  # the first stroke may wait for the server to load the model
MEMORY_LINE = re.compile(r"Read with \d+ of your examples\.")  # the answer backed by examples
SETTLE_MS = 400  # longer than the canvas's own 200 ms send delay: a late send would show

# Records when the pen last went up and when the page last sent a message to the server.
RECORD_SENDS = """
window.lastPenUpAt = 0;
window.lastSendAt = 0;
window.addEventListener("pointerup", () => { window.lastPenUpAt = performance.now(); }, true);
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (...message) {
  window.lastSendAt = performance.now();
  return send.apply(this, message);
};
"""


@contextmanager
def opened_page(browser, url: str, *scripts: str, **context_options) -> Iterator:
    """The page in a browser context of its own (a visit of its own), its canvas ready; each
    of `scripts` runs in it before the page's own."""
    context = browser.new_context(**context_options)
    for script in (RECORD_SENDS, *scripts):
        context.add_init_script(script)
    page = context.new_page()
    try:
        page.goto(url)
        wait_until_drawable(page, timeout_ms=FIRST_ANSWER_MS)
        yield page
    finally:
        context.close()


# Records, on every frame the page draws, how far a canvas's drawing surface lies below the
# top of the canvas's place on the page, in window.surfaceTops; run on a page, or before its
# own scripts.
RECORD_SURFACE_TOPS = Template("""(() => {
  window.surfaceTops = [];
  const record = () => {
    const place = document.querySelector(".st-key-$canvas_key");
    const surface = [...(place?.querySelectorAll("*") ?? [])]
      .map((host) => host.shadowRoot?.querySelector("$surface"))
      .find(Boolean);
    if (surface) {
      window.surfaceTops.push(
        surface.getBoundingClientRect().top - place.getBoundingClientRect().top);
    }
    requestAnimationFrame(record);
  };
  requestAnimationFrame(record);
})()""")
NEXT_FRAMES = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def record_surface_tops(canvas_key: str) -> str:
    """The script that records where the canvas `canvas_key`'s surface is on every frame."""
    return RECORD_SURFACE_TOPS.substitute(canvas_key=canvas_key, surface=tabs.draw.shared.SURFACE)


def hold_canvas_stylesheet(page: Page) -> list[Route]:
    """Hold back the canvas's own stylesheet, as a slow connection would: the requests held."""
    held = []
    page.route("**/bidi-components/**/*.css", lambda stylesheet: held.append(stylesheet))
    return held


def surface_tops_once_styled(page: Page, canvas_key: str, held: list[Route]) -> list[float]:
    """Every top the surface had, once the held stylesheets are let through and applied."""
    assert held, "the canvas's stylesheet was not requested"
    for stylesheet in held:
        stylesheet.continue_()
    # Only the canvas's own stylesheet outlines its surface.
    expect(drawing_surface(page, canvas_key)).to_have_css(
        "outline-style", "solid", timeout=ANSWER_MS
    )
    page.evaluate(NEXT_FRAMES)  # so that a move it made is recorded
    return page.evaluate("window.surfaceTops")


# Whether every table on show is drawn with its toolbar, and nothing else on show still waits
# for its code: Streamlit loads a table's code when a page first shows one, and holds its place
# with a placeholder (a skeleton) until then.
TABLES_DRAWN = """() => {
  const shown = (selector) =>
    [...document.querySelectorAll(selector)].filter((element) => element.offsetParent !== null);
  const tables = shown('[data-testid="stDataFrame"]');
  return shown('[data-testid="stSkeleton"]').length === 0 && tables.length > 0
    && tables.every((table) => table.querySelector('[data-testid="stElementToolbar"]'));
}"""


def wait_for_tables(page: Page) -> None:
    """Wait until the tables on show are drawn with their toolbars, and the page is laid out
    around them: what lies above and below a table is measured only then."""
    page.wait_for_function(TABLES_DRAWN, timeout=ANSWER_MS)
    page.evaluate(NEXT_FRAMES)


def canvas(page):
    """The one-digit canvas's drawing surface."""
    return drawing_surface(page, tabs.draw.one_digit.CANVAS_KEY)


def metric(page, label: str):
    """The value of the metric with this label, in the mode on show (a mode opened before
    stays on the page, hidden)."""
    name = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    shown = page.get_by_test_id("stMetric").filter(has=name, visible=True)
    return shown.get_by_test_id("stMetricValue")


def answer(page):
    return metric(page, "Prediction")


def announced(page):
    """What the page's status region last said, for a screen reader to read out."""
    return page.locator(f"#{tabs.draw.page_head.ANNOUNCER_ID}")


def hint(page):
    return page.get_by_text(tabs.draw.one_digit.DRAW_HINT)


def canvas_control(page, name: str):
    """Undo, Redo or Clear under the canvas."""
    return page.get_by_role("button", name=name, exact=True)


def expect_answer(page, label: int, timeout: float = ANSWER_MS) -> None:
    """The page shows `label` and keeps showing it once every stroke has been read."""
    expect(answer(page)).to_have_text(str(label), timeout=timeout)
    page.wait_for_timeout(SETTLE_MS)
    expect(answer(page)).to_have_text(str(label))


def expect_blank(page) -> None:
    """The hint shows and the answer is blank."""
    expect(hint(page)).to_be_visible(timeout=ANSWER_MS)
    expect(answer(page)).to_have_text(tabs.draw.shared.BLANK)


def digit_choice(page, digit: int):
    """One of the ten digits under the answer, to say which digit was meant."""
    picker = page.get_by_role("radiogroup", name=tabs.draw.feedback_row.PICK_PROMPT)
    return picker.get_by_role("radio", name=str(digit), exact=True)


def draw(page, digit: Digit, height: float, top: float, left: float) -> None:
    """Draw the digit with the mouse, stroke by stroke, on the tab in front, as a person does
    (the mouse reaches a tab behind another only about once a second), and wait until the
    drawing is sent."""
    page.bring_to_front()
    digit.trace(page, canvas(page), height, top, left)
    page.wait_for_function("window.lastSendAt > window.lastPenUpAt", timeout=ANSWER_MS)


def mode_choice(page, mode: str):
    """One of the Draw tab's modes, as its radio button."""
    choices = page.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
    return choices.get_by_role("radio", name=mode, exact=True)


def choose(page, mode: str) -> None:
    """Switch the Draw tab to `mode` with a click on it."""
    mode_choice(page, mode).click()
    expect(mode_choice(page, mode)).to_be_checked()


def choose_number_mode(page) -> None:
    """Switch to the wide canvas and wait until the page around it has settled: the switch's
    script run over and the canvas laid out, so that nothing moves it or replaces it under
    the pen."""
    choose(page, tabs.draw.shared.A_NUMBER)
    expect(page.get_by_text(tabs.draw.number.NUMBER_HINT)).to_be_visible(timeout=ANSWER_MS)
    expect(page.locator(f".st-key-{tabs.draw.one_digit.CANVAS_KEY}")).to_be_hidden()
    wait_until_drawable(page, tabs.draw.number.NUMBER_CANVAS_KEY, ANSWER_MS)
    wait_for_run_to_end(page)
