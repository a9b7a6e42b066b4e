"""When the real page sends to the server, in headless Chromium: a stroke and a label before
the browser's next frame, a fresh visit's blank canvas ahead of its first stroke, and the
answer's controls held from a stroke until its run is over."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.page_head
import tabs.draw.shared
from devtools.drawing import PLACEMENTS
from devtools.page import wait_for_run_to_end, wait_until_drawable
from tests.support.browser import (
    ANSWER_MS,
    DESKTOP,
    FIRST_ANSWER_MS,
    choose,
    choose_number_mode,
    digit_choice,
    draw,
    expect_answer,
    expect_blank,
    opened_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


# At the next pointer-up, asks for the next frame and notes whether the page had sent
# anything since by the time that frame is drawn (with RECORD_SENDS).
WATCH_NEXT_FRAME = """() => {
  window.sentBeforeFrame = null;
  window.addEventListener("pointerup", () => requestAnimationFrame(() => {
    window.sentBeforeFrame = window.lastSendAt > window.lastPenUpAt;
  }), {capture: true, once: true});
}"""


def sent_before_next_frame(page) -> bool:
    """Whether the page sent something after the pointer-up WATCH_NEXT_FRAME watched for,
    before the browser drew its next frame."""
    page.wait_for_function("window.sentBeforeFrame !== null", timeout=ANSWER_MS)
    return page.evaluate("window.sentBeforeFrame")


def test_a_stroke_and_a_label_are_sent_before_the_browser_draws_its_next_frame(
    browser, app_url, clear_digits
):
    """The drawing, and then the click on ✓ Correct, go to the server in the pointer-up's own
    task: not from a timer, which the browser runs after a click or a pen-up only once it has
    drawn a frame."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        expect_blank(page)
        page.evaluate(WATCH_NEXT_FRAME)
        draw(page, clear_digits[1], *PLACEMENTS[0])
        assert sent_before_next_frame(page)
        expect_answer(page, 1, timeout=FIRST_ANSWER_MS)

        page.evaluate(WATCH_NEXT_FRAME)
        page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).click()
        assert sent_before_next_frame(page)
        expect(page.get_by_text("Saved as a 1.")).to_be_visible(timeout=ANSWER_MS)


# Counts, in window.drawingsSent, the messages the page sends that carry a canvas's picture
# (a PNG data URL), and keeps in window.picturesLastSent how many the last message carried
# (each canvas that has sent a drawing is in every later message); run before the page's own
# scripts.
COUNT_DRAWINGS_SENT = """
window.drawingsSent = 0;
window.picturesLastSent = 0;
const sendMessage = WebSocket.prototype.send;
WebSocket.prototype.send = function (message, ...rest) {
  const text = typeof message === "string" ? message : new TextDecoder().decode(message);
  window.picturesLastSent = text.split("data:image/png;base64,").length - 1;
  if (window.picturesLastSent) window.drawingsSent += 1;
  return sendMessage.call(this, message, ...rest);
};
"""
# Longer than the page waits, once idle after a run, before a canvas sends its blank drawing.
WARM_UP_WAIT_MS = 3 * tabs.draw.page_head.WARM_WITHIN_MS


def expect_nothing_said(page) -> None:
    """No warning, error or toast is on the page; the wide canvas's hint may show."""
    said = page.get_by_test_id("stAlert").filter(has_not_text=tabs.draw.number.NUMBER_HINT)
    expect(said).to_have_count(0)
    for test_id in ("stException", "stToast"):
        expect(page.get_by_test_id(test_id)).to_have_count(0)


def test_a_fresh_visit_sends_each_blank_canvas_once_before_the_first_stroke(
    browser, app_url, clear_digits
):
    """Once the page is idle, a canvas nobody has drawn on sends its blank drawing, once, the
    wide canvas too when its mode first shows: the first stroke's run is then not the visit's
    first, which is the slowest, on the server and in the browser. Nothing on show changes."""
    with opened_page(browser, app_url, COUNT_DRAWINGS_SENT, viewport=DESKTOP) as page:
        page.wait_for_function("window.drawingsSent > 0", timeout=FIRST_ANSWER_MS)
        page.wait_for_timeout(WARM_UP_WAIT_MS)
        wait_for_run_to_end(page)
        assert page.evaluate("window.drawingsSent") == 1
        expect_blank(page)
        expect_nothing_said(page)

        choose_number_mode(page)
        page.wait_for_timeout(WARM_UP_WAIT_MS)
        wait_for_run_to_end(page)
        assert page.evaluate("window.picturesLastSent") == 2  # the wide canvas's blank too
        expect(page.get_by_text(tabs.draw.number.NUMBER_HINT)).to_be_visible()
        expect_nothing_said(page)

        choose(page, tabs.draw.shared.ONE_DIGIT)
        wait_until_drawable(page)
        wait_for_run_to_end(page)
        draw(page, clear_digits[4], *PLACEMENTS[0])
        expect_answer(page, 4, timeout=ANSWER_MS)


# Keeps Streamlit's root from ever saying a run goes on, as when a busy page (a slow phone)
# applies a whole run in one go and its "running" mark never reaches the document.
HIDE_RUNNING = """
() => {
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (name === "data-test-script-state" && value === "running") return;
    return setAttribute.call(this, name, value);
  };
}
"""


def test_an_answer_applied_in_one_go_takes_a_click_at_once(browser, app_url, clear_digits):
    """From a stroke until its run is over, the answer's controls take no click; a run that
    never shows as running still ends that wait once its answer is there."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        page.evaluate(HIDE_RUNNING)
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, FIRST_ANSWER_MS)
        digit_choice(page, 8).click(timeout=5_000)
        expect(digit_choice(page, 8)).to_be_checked()
