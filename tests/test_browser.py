"""The real page in headless Chromium: digits drawn with the mouse, answers read off the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import webapp
from tests.conftest import PLACEMENTS, Digit

pytestmark = pytest.mark.browser

FIRST_ANSWER_MS = 60_000  # the first stroke may wait for the server to load the model
ANSWER_MS = 15_000
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


def canvas(page):
    """The canvas that takes the pen (Fabric's top layer), inside the component's shadow root."""
    return page.locator(f".st-key-{webapp.CANVAS_KEY} canvas.upper-canvas")


def answer(page):
    """The value of the metric labelled "Prediction"."""
    label = page.get_by_test_id("stMetricLabel").get_by_text("Prediction", exact=True)
    return page.get_by_test_id("stMetric").filter(has=label).get_by_test_id("stMetricValue")


def hint(page):
    return page.get_by_text(webapp.DRAW_HINT)


def toolbar_button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


@pytest.fixture(scope="module")
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1000, "height": 1000})
    context.add_init_script(RECORD_SENDS)
    page = context.new_page()
    page.goto(app_url)
    canvas(page).wait_for(timeout=FIRST_ANSWER_MS)
    yield page
    context.close()


def draw(page, digit: Digit, height: float, top: float, left: float) -> None:
    """Draw the digit with the mouse, stroke by stroke, and wait until the drawing is sent."""
    box = canvas(page).bounding_box()
    for stroke in digit.strokes(height, top, left):
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
    page.wait_for_function("window.lastSendAt > window.lastPenUpAt", timeout=ANSWER_MS)


def expect_answer(page, label: int, timeout: float = ANSWER_MS) -> None:
    """The page shows `label` and keeps showing it once every stroke has been read."""
    expect(answer(page)).to_have_text(str(label), timeout=timeout)
    page.wait_for_timeout(SETTLE_MS)
    expect(answer(page)).to_have_text(str(label))


def expect_blank(page) -> None:
    expect(hint(page)).to_be_visible(timeout=ANSWER_MS)
    expect(answer(page)).to_have_count(0)


@pytest.mark.parametrize(
    ("label", "placement"),
    [
        (3, PLACEMENTS[0]),
        (7, PLACEMENTS[1]),
        (4, PLACEMENTS[2]),
        (2, PLACEMENTS[3]),
        (9, PLACEMENTS[1]),
    ],
    ids=["3 large", "7 small top right", "4 bottom left", "2 filling the box", "9 small"],
)
def test_drawn_digit_is_read_and_clear_brings_the_hint_back(page, clear_digits, label, placement):
    expect_blank(page)

    draw(page, clear_digits[label], *placement)
    expect_answer(page, label, timeout=FIRST_ANSWER_MS)

    toolbar_button(page, "Reset canvas & history").click()
    expect_blank(page)


def test_undo_and_redo_from_the_toolbar(page, clear_digits):
    expect_blank(page)
    draw(page, clear_digits[5], *PLACEMENTS[0])
    expect_answer(page, 5)

    undo, redo = toolbar_button(page, "Undo"), toolbar_button(page, "Redo")
    while undo.is_enabled():
        undo.click()
    expect_blank(page)

    while redo.is_enabled():
        redo.click()
    expect_answer(page, 5)

    toolbar_button(page, "Reset canvas & history").click()
    expect_blank(page)


def test_page_fits_a_phone_screen_and_reads_a_digit_there(browser, app_url, clear_digits):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    context.add_init_script(RECORD_SENDS)
    phone = context.new_page()
    try:
        phone.goto(app_url)
        canvas(phone).wait_for(timeout=FIRST_ANSWER_MS)
        box = canvas(phone).bounding_box()
        assert box["width"] >= 280 and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360

        draw(phone, clear_digits[6], *PLACEMENTS[0])
        expect_answer(phone, 6)
    finally:
        context.close()
