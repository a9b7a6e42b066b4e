"""The page on a phone: Chromium with a 390x844 touch screen, digits drawn with a finger.

Touches go in through the Chrome DevTools Protocol (`Input.dispatchTouchEvent`), as a
touch screen delivers them: the canvas gets touch and pointer events, no mouse.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.page_head
import tabs.draw.shared
import tabs.draw.why
import webapp
from devtools.drawing import PLACEMENTS, Digit
from devtools.page import (
    RESET_SETTLE_MS,
    drawing_surface,
    wait_for_run_to_end,
    wait_until_drawable,
)
from devtools.pictures import encoded
from tests.support import browser as ui
from tests.support.pictures import photographed, portrait_photo

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

NAVIGATION_MS = 1500  # time for a swipe the browser took for "back" to leave the page


# The element that scrolls the page, and how far down it is scrolled.
PAGE_SCROLLER = "document.querySelector('[data-testid=\"stMain\"]')"
PAGE_SCROLL = f"() => {PAGE_SCROLLER}.scrollTop"


class Finger:
    """Touches on the page's screen through the DevTools protocol, in CSS pixels."""

    def __init__(self, page) -> None:
        self.page = page
        self.session = page.context.new_cdp_session(page)

    def _touch(self, kind: str, points: list[tuple[float, float]]) -> None:
        self.session.send(
            "Input.dispatchTouchEvent",
            {
                "type": kind,
                "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
            },
        )

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Put the finger down on the first point, slide it through the rest, lift it."""
        self._touch("touchStart", points[:1])
        for point in points[1:]:
            self._touch("touchMove", [point])
        self._touch("touchEnd", [])

    def spread(self, y: float, right: float, left: float, steps: int = 11) -> None:
        """Two fingers, the right one put down first, drawn apart along the row `y`: a pinch
        that zooms in."""
        self._touch("touchStart", [(right, y)])
        self._touch("touchStart", [(right, y), (left, y)])
        for step in range(1, steps + 1):
            self._touch("touchMove", [(right + 12 * step, y), (left - 12 * step, y)])
        self._touch("touchEnd", [])

    def tap(self, locator) -> None:
        """Tap the middle of what the locator finds, where it shows on the screen."""
        box = locator.bounding_box()
        self.stroke([(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)])

    def draw(self, digit: Digit, height: float, top: float, left: float, surface=None) -> None:
        """Write the digit on the canvas (or the drawing surface given), one touch per stroke;
        wait until it is sent."""
        box = (surface or ui.canvas(self.page)).bounding_box()
        for stroke in digit.strokes(height, top, left):
            self.stroke([(box["x"] + x, box["y"] + y) for x, y in stroke])
        self.page.wait_for_function("window.lastSendAt > window.lastPenUpAt", timeout=ui.ANSWER_MS)

    def draw_anew(self, digit: Digit, label: int) -> None:
        """Clear the canvas, write the digit at the first placement and wait for its answer."""
        self.tap(ui.canvas_control(self.page, tabs.draw.shared.CLEAR_TEXT))
        ui.expect_blank(self.page)
        self.page.wait_for_timeout(RESET_SETTLE_MS)
        self.draw(digit, *PLACEMENTS[0])
        ui.expect_answer(self.page, label)


TOUCH_SCREEN = {"has_touch": True, "is_mobile": True, "device_scale_factor": 3}
SIDEWAYS_PHONE = {"width": 740, "height": 360}  # a 360x740 phone in landscape
SHORT_PHONES = (  # lower than ui.PHONE, as many are
    {"width": 360, "height": 740},
    {"width": 375, "height": 667},
)


@pytest.fixture(scope="module")
def phone(browser, app_url):
    """The page on a phone-sized touch screen."""
    with ui.opened_page(browser, app_url, viewport=ui.PHONE, **TOUCH_SCREEN) as page:
        yield page


def on_screen(locator) -> bool:
    """Whether the whole element lies within its page's screen as it is scrolled now."""
    box, screen = locator.bounding_box(), locator.page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["x"] + box["width"] <= screen["width"]
        and box["y"] >= 0
        and box["y"] + box["height"] <= screen["height"]
    )


# Where a finger put down at the middle of the "Saved" notice lands, and whether the notice's
# close button still takes a tap: the page is scrolled so that `under` lies under the notice,
# and the hits are tested in the same task, while the notice shows. Null until a notice shows.
WHERE_A_TOUCH_UNDER_THE_NOTICE_LANDS = """([under]) => {
  const notice = [...document.querySelectorAll('[data-testid="stToast"]')]
    .find(toast => toast.getBoundingClientRect().height > 0);
  if (!notice) return null;
  const main = document.querySelector('[data-testid="stMain"]');
  main.scrollBy(0, under.getBoundingClientRect().top - notice.getBoundingClientRect().top);
  const over = notice.getBoundingClientRect(), below = under.getBoundingClientRect();
  const x = (Math.max(over.left, below.left) + Math.min(over.right, below.right)) / 2;
  const y = (over.top + over.bottom) / 2;
  if (y < below.top || y > below.bottom) return "nothing meant lies under the notice";
  const hit = document.elementFromPoint(x, y);
  const close = notice.querySelector("button").getBoundingClientRect();
  const closing = document.elementFromPoint(close.x + close.width / 2, close.y + close.height / 2);
  const middle = under.contains(hit) ? "what lies under"
    : notice.contains(hit) ? "the notice" : `something else: ${hit.outerHTML.slice(0, 80)}`;
  return {middle, closeButtonTakesTheTap: notice.querySelector("button").contains(closing)};
}"""


def test_ten_digits_drawn_with_a_finger_are_read_with_canvas_answer_and_row_in_view(
    phone, clear_digits
):
    finger = Finger(phone)
    in_view = []
    for label in range(10):
        finger.tap(ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT))
        ui.expect_blank(phone)
        phone.wait_for_timeout(RESET_SETTLE_MS)

        finger.draw(clear_digits[label], *PLACEMENTS[0])
        ui.expect_answer(phone, label, timeout=ui.FIRST_ANSWER_MS)

        # The answer, and the row that confirms or corrects it, one tap away.
        answer_area = (
            ui.answer(phone),
            ui.metric(phone, "Confidence"),
            phone.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT),
            *(ui.digit_choice(phone, digit) for digit in range(10)),
        )
        shown = [on_screen(element) for element in (ui.canvas(phone), *answer_area)]
        in_view.append(all(shown) and phone.evaluate(PAGE_SCROLL) == 0)
    assert in_view == [True] * 10


@pytest.mark.parametrize(
    "screen", SHORT_PHONES, ids=lambda screen: f"{screen['width']}x{screen['height']}"
)
def test_a_short_phone_shows_canvas_answer_and_row_together(browser, app_url, clear_digits, screen):
    """On a 360x740 phone the ten digits lay below the screen, under the line beneath the
    title: that line is left to screen readers there, and the row one tap away again. On a
    375x667 phone the title is left to them too."""
    with ui.opened_page(browser, app_url, viewport=screen, **TOUCH_SCREEN) as page:
        Finger(page).draw(clear_digits[4], *PLACEMENTS[0])
        ui.expect_answer(page, 4, timeout=ui.FIRST_ANSWER_MS)
        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        together = (ui.canvas(page), ui.answer(page), confirm)
        together += tuple(ui.digit_choice(page, digit) for digit in range(10))
        assert [on_screen(element) for element in together] == [True] * len(together)
        assert page.evaluate(PAGE_SCROLL) == 0
        read_aloud = page.locator("body").aria_snapshot()
        assert webapp.SUBTITLE in read_aloud and webapp.TITLE in read_aloud


def test_a_phone_held_sideways_shows_canvas_answer_and_row_together(browser, app_url, clear_digits):
    """Turned on its side, a phone gets the two columns of a desktop on a screen too low for
    its head: scrolled once to the canvas, the answer and the row that confirms or corrects it
    lie beside it, and the notice that the label is saved lets a tap on the row through."""
    with ui.opened_page(browser, app_url, viewport=SIDEWAYS_PHONE, **TOUCH_SCREEN) as page:
        canvas_top = ui.canvas(page).bounding_box()["y"]
        page.evaluate(f"{PAGE_SCROLLER}.scrollBy(0, {canvas_top - 8})")
        finger = Finger(page)
        finger.draw(clear_digits[4], *PLACEMENTS[0])
        ui.expect_answer(page, 4, timeout=ui.FIRST_ANSWER_MS)
        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        together = (ui.canvas(page), ui.answer(page), confirm)
        together += tuple(ui.digit_choice(page, digit) for digit in range(10))
        assert [on_screen(element) for element in together] == [True] * len(together)

        finger.tap(confirm)
        row = page.locator(f".st-key-{tabs.draw.feedback_row.PICK_KEY}")
        landed = page.wait_for_function(
            WHERE_A_TOUCH_UNDER_THE_NOTICE_LANDS, arg=[row.element_handle()], timeout=ui.ANSWER_MS
        )
        assert landed.json_value() == {"middle": "what lies under", "closeButtonTakesTheTap": True}


def test_a_doubt_shows_beside_the_answer_on_the_screen_and_nothing_below_moves(
    phone, clear_digits, doubtful_drawing
):
    finger = Finger(phone)
    confirm = phone.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
    doubt = phone.get_by_test_id("stMetricDelta").filter(
        has_text=tabs.draw.one_digit.MAYBE_NO_DIGIT
    )
    finger.tap(ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT))
    ui.expect_blank(phone)
    phone.wait_for_timeout(RESET_SETTLE_MS)
    finger.draw(clear_digits[4], *PLACEMENTS[0])
    ui.expect_answer(phone, 4, timeout=ui.FIRST_ANSWER_MS)
    expect(doubt).to_have_count(0)
    row_under_a_clear_answer = confirm.bounding_box()["y"]

    finger.tap(ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT))
    ui.expect_blank(phone)
    phone.wait_for_timeout(RESET_SETTLE_MS)
    finger.draw(doubtful_drawing, *PLACEMENTS[0])

    expect(doubt).to_be_visible(timeout=ui.ANSWER_MS)
    assert on_screen(doubt) and on_screen(ui.answer(phone))
    assert phone.evaluate(PAGE_SCROLL) == 0
    assert confirm.bounding_box()["y"] == row_under_a_clear_answer


def test_the_brush_is_an_icon_beside_the_mode_that_a_finger_opens(phone):
    brush = phone.get_by_role("button", name="Brush")  # its name kept for screen readers
    mode = phone.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
    brush_box, mode_box = brush.bounding_box(), mode.bounding_box()
    assert brush_box["width"] < 80
    assert abs((brush_box["y"] + brush_box["height"]) - (mode_box["y"] + mode_box["height"])) < 8

    Finger(phone).tap(brush)
    expect(phone.get_by_text("Brush width")).to_be_visible(timeout=ui.ANSWER_MS)
    phone.keyboard.press("Escape")
    expect(phone.get_by_text("Brush width")).to_be_hidden(timeout=ui.ANSWER_MS)


def test_undo_redo_and_clear_work_with_a_finger(phone, clear_digits):
    finger = Finger(phone)
    finger.tap(ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT))
    ui.expect_blank(phone)
    phone.wait_for_timeout(RESET_SETTLE_MS)
    for name in ("Undo", "Redo", tabs.draw.shared.CLEAR_TEXT):
        control = ui.canvas_control(phone, name)
        assert on_screen(control)
        box = control.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
    switch = phone.get_by_role("switch", name=tabs.draw.why.WHY_TEXT)
    for control in (
        phone.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT),
        phone.get_by_role("button", name="Brush"),
        *(
            phone.get_by_role("radio", name=mode)
            for mode in (
                tabs.draw.shared.ONE_DIGIT,
                tabs.draw.shared.A_NUMBER,
                tabs.draw.shared.A_PHOTO,
            )
        ),
        *(phone.get_by_role("tab", name=tab) for tab in ("Draw", "History", "Model card")),
        phone.locator("label", has=switch),  # the toggle's line, which a tap anywhere on turns
    ):
        assert control.bounding_box()["height"] >= 44  # a finger's size, as the canvas's controls
    shade = "button => getComputedStyle(button).backgroundColor"
    untouched = ui.canvas_control(phone, "Redo").evaluate(shade)

    finger.draw(clear_digits[7], *PLACEMENTS[0])
    ui.expect_answer(phone, 7)

    undo, redo = ui.canvas_control(phone, "Undo"), ui.canvas_control(phone, "Redo")
    while undo.is_enabled():
        finger.tap(undo)
        phone.wait_for_timeout(RESET_SETTLE_MS)
    ui.expect_blank(phone)

    while redo.is_enabled():
        finger.tap(redo)
        phone.wait_for_timeout(RESET_SETTLE_MS)
    ui.expect_answer(phone, 7)

    finger.tap(ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT))
    ui.expect_blank(phone)
    expect(undo).to_be_disabled()
    # A finger lifted leaves no hover behind: once the tap's own press and any focus ring are
    # over, the button tapped, still "hovered" as a touch screen leaves it, looks untouched.
    clear = ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT)
    released = "b => !b.matches(':active, :focus-visible')"
    phone.wait_for_function(released, arg=clear.element_handle(), timeout=ui.ANSWER_MS)
    assert clear.evaluate("b => b.matches(':hover')")
    assert clear.evaluate(shade) == untouched


def test_the_wide_canvas_scrolls_under_a_finger_and_reads_a_number_beyond_the_screen(
    phone, clear_digits
):
    finger = Finger(phone)
    modes = phone.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
    finger.tap(modes.get_by_role("radio", name=tabs.draw.shared.A_NUMBER, exact=True))
    expect(phone.get_by_text(tabs.draw.number.NUMBER_HINT)).to_be_visible(timeout=ui.ANSWER_MS)
    expect(phone.get_by_text(tabs.draw.number.STRIP_HINT)).to_be_visible()  # where the strip is
    wait_until_drawable(phone, tabs.draw.number.NUMBER_CANVAS_KEY, ui.ANSWER_MS)
    wait_for_run_to_end(phone)
    surface = drawing_surface(phone, tabs.draw.number.NUMBER_CANVAS_KEY)
    where = "(c) => [c.closest('.dc-scroll').scrollLeft, c.getBoundingClientRect().x]"

    # A sideways swipe across the canvas draws; along the strip under it, it scrolls the box.
    box = surface.bounding_box()
    strip = box["y"] + box["height"] + 16
    before = surface.evaluate(where)
    finger.stroke([(x, strip) for x in range(340, 20, -20)])
    # Until the scroll has come to rest: the same offset at two looks 100 ms apart.
    phone.wait_for_function(
        """([canvas]) => {
          const offset = canvas.closest('.dc-scroll').scrollLeft;
          const resting = offset > 0 && offset === window.lastScrollOffset;
          window.lastScrollOffset = offset;
          return resting;
        }""",
        arg=[surface.element_handle()],
        polling=100,
        timeout=ui.ANSWER_MS,
    )
    shift, left = surface.evaluate(where)
    assert shift >= 250
    assert left == pytest.approx(before[1] - shift, abs=1)

    # The canvas's right half, out of reach before, now takes a number.
    for digit, left in ((4, 340), (7, 530)):
        finger.draw(clear_digits[digit], 150, 40, left, surface=surface)
    expect(ui.answer(phone)).to_have_text("47", timeout=ui.ANSWER_MS)
    # A tap on the line between the 4 and the 7 is a decimal point.
    box = surface.bounding_box()
    finger.stroke([(box["x"] + 485, box["y"] + 180)])
    expect(ui.answer(phone)).to_have_text("4.7", timeout=ui.ANSWER_MS)
    # The number and its confidence share a row on the phone's screen, as one digit's do.
    number = ui.answer(phone).bounding_box()
    confidence = ui.metric(phone, "Confidence").bounding_box()
    assert confidence["y"] == pytest.approx(number["y"], abs=1)
    assert confidence["x"] >= number["x"] + number["width"]
    # A finger on the digits the model saw, under the number's row, brings up their toolbar
    # (full screen) below the row, not over its field.
    meant = phone.get_by_role("textbox", name=tabs.draw.feedback_row.NUMBER_MEANT_PROMPT)
    pieces = phone.get_by_test_id("stImage").filter(has_text="4 · ", visible=True)
    at_the_canvas = phone.evaluate(PAGE_SCROLL)
    pieces.scroll_into_view_if_needed()
    finger.tap(pieces)
    toolbar = phone.get_by_test_id("stFullScreenFrame").filter(has=pieces)
    toolbar = toolbar.get_by_test_id("stElementToolbar")
    expect(toolbar).to_have_css("opacity", "1")
    field = meant.bounding_box()
    assert toolbar.bounding_box()["y"] >= field["y"] + field["height"]
    phone.evaluate(f"(top) => {{ {PAGE_SCROLLER}.scrollTop = top; }}", at_the_canvas)
    # Saved with the keyboard's Enter, the field is let go: focused, it would bring the
    # keyboard up again over the page.
    scrolled = phone.evaluate(PAGE_SCROLL)
    meant.focus()
    phone.keyboard.type("47")
    phone.keyboard.press("Enter")
    expect(phone.get_by_text("Saved as 4.7")).to_be_visible(timeout=ui.ANSWER_MS)
    phone.wait_for_timeout(2 * tabs.draw.page_head.REFOCUS_AFTER_MS)
    expect(meant).not_to_be_focused()
    phone.evaluate(f"(top) => {{ {PAGE_SCROLLER}.scrollTop = top; }}", scrolled)  # strip back

    # Clear takes the box back to its left edge, where the next number starts.
    finger.tap(ui.canvas_control(phone, tabs.draw.shared.CLEAR_TEXT))
    expect(phone.get_by_text(tabs.draw.number.NUMBER_HINT)).to_be_visible(timeout=ui.ANSWER_MS)
    phone.wait_for_function(
        "([canvas]) => canvas.closest('.dc-scroll').scrollLeft === 0",
        arg=[surface.element_handle()],
        timeout=ui.ANSWER_MS,
    )
    # Swiped on to the right from there, as if to scroll further back, the page stays: the
    # browser would take it for "back" and leave the page, the number with it.
    page_url = phone.url
    phone.wait_for_timeout(RESET_SETTLE_MS)  # the scroll back at rest, as a person's pause
    finger.stroke([(x, strip) for x in range(20, 340, 20)])
    phone.wait_for_timeout(NAVIGATION_MS)
    assert phone.url == page_url
    expect(surface).to_be_visible()

    finger.tap(modes.get_by_role("radio", name=tabs.draw.shared.ONE_DIGIT, exact=True))
    wait_until_drawable(phone, tabs.draw.one_digit.CANVAS_KEY, ui.ANSWER_MS)


@contextmanager
def phone_in_number_mode(browser, app_url) -> Iterator[tuple[Page, Finger]]:
    """A page of its own on a touch screen, in number mode, its wide canvas ready for a finger."""
    with ui.opened_page(browser, app_url, viewport=ui.PHONE, **TOUCH_SCREEN) as page:
        finger = Finger(page)
        modes = page.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
        finger.tap(modes.get_by_role("radio", name=tabs.draw.shared.A_NUMBER, exact=True))
        wait_until_drawable(page, tabs.draw.number.NUMBER_CANVAS_KEY, ui.ANSWER_MS)
        wait_for_run_to_end(page)
        yield page, finger


@pytest.mark.parametrize("save_by", ["tapping Save", "Enter"])
def test_a_number_typed_and_saved_on_a_phone_leaves_the_page_where_it_was_scrolled(
    browser, app_url, clear_digits, save_by
):
    """A save brings a line (the digits read with the label just given), and Streamlit draws
    the rows after it anew: the page stays scrolled where the person had it, the field where
    it was. Chrome drops the focus from inside that redrawing, and a layout read then found
    the page short and scrolled it up by some 200 px; the line, above the field then, pushed
    it down 56 px. On a page of its own: a visit with no labels yet, for which the line is
    new."""
    with phone_in_number_mode(browser, app_url) as (page, finger):
        surface = drawing_surface(page, tabs.draw.number.NUMBER_CANVAS_KEY)
        for digit, left in ((4, 20), (7, 180)):
            finger.draw(clear_digits[digit], 150, 40, left, surface=surface)
        expect(ui.answer(page)).to_have_text("47", timeout=ui.ANSWER_MS)
        wait_for_run_to_end(page)
        page.evaluate(f"() => {{ {PAGE_SCROLLER}.scrollTop = 1e6; }}")  # down to the field
        meant = page.get_by_role("textbox", name=tabs.draw.feedback_row.NUMBER_MEANT_PROMPT)
        finger.tap(meant)
        page.keyboard.type("41")
        scrolled = page.evaluate(PAGE_SCROLL)
        assert scrolled > 0
        field_at = meant.bounding_box()["y"]
        if save_by == "Enter":
            page.keyboard.press("Enter")
        else:
            save = tabs.draw.feedback_row.SAVE_NUMBER_TEXT
            finger.tap(page.get_by_role("button", name=save, exact=True))
        expect(page.get_by_text("Saved as 41")).to_be_visible(timeout=ui.ANSWER_MS)
        wait_for_run_to_end(page)
        page.wait_for_timeout(2 * tabs.draw.page_head.REFOCUS_AFTER_MS)
        assert page.evaluate(PAGE_SCROLL) == pytest.approx(scrolled, abs=1)
        # Nor does anything new above push the field down: the line about the labels just
        # given comes under it.
        assert meant.bounding_box()["y"] == pytest.approx(field_at, abs=1)
        expect(page.get_by_text("The 1st digit read with your label.")).to_be_visible()


def test_two_fingers_on_the_strip_still_pinch_to_zoom(browser, app_url):
    """The strip holds one finger's swipe to the right at its left edge, never a pinch: on a
    page of its own, as a zoom would stay for the tests after it."""
    with phone_in_number_mode(browser, app_url) as (page, finger):
        box = drawing_surface(page, tabs.draw.number.NUMBER_CANVAS_KEY).bounding_box()

        finger.spread(box["y"] + box["height"] + 16, right=220, left=160)

        page.wait_for_function("visualViewport.scale > 1.5", timeout=ui.ANSWER_MS)


@pytest.mark.parametrize("upright", [True, False], ids=["upright", "wide"])
def test_a_photo_on_a_phone_shows_the_number_read_above_it_and_its_digits_below_it(
    browser, app_url, clear_digits, tmp_path, upright
):
    """An upright photo fills a phone's first screen, and a wide one most of it: the number
    read comes first, in view, then the picture, starting on that screen, then each digit's
    input, which would push the picture further down."""
    picture = portrait_photo(clear_digits, "42") if upright else photographed(clear_digits, "42")
    photo_file = tmp_path / "IMG_2027.jpg"
    photo_file.write_bytes(encoded(picture, "JPEG", quality=80))
    with ui.opened_page(browser, app_url, viewport=ui.PHONE, **TOUCH_SCREEN) as page:
        modes = page.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
        Finger(page).tap(modes.get_by_role("radio", name=tabs.draw.shared.A_PHOTO, exact=True))
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo_file)

        expect(ui.answer(page)).to_have_text("42", timeout=ui.ANSWER_MS)
        shown = page.get_by_test_id("stImage").filter(has_text="Your picture", visible=True)
        assert on_screen(ui.answer(page)) and on_screen(ui.metric(page, "Confidence"))
        picture = shown.bounding_box()
        assert ui.answer(page).bounding_box()["y"] < picture["y"] < ui.PHONE["height"]
        inputs = page.get_by_role("img", name=re.compile("^The 28x28 input")).filter(visible=True)
        expect(inputs).to_have_count(2)
        assert picture["y"] + picture["height"] < inputs.first.bounding_box()["y"]


# Where a finger put down on the middle of the menu's button, above `under` (as far to the
# side), lands, with the page scrolled to `scroll` px and drawn so: on the menu's button, on
# what lies under, or on something else (said).
WHERE_A_TOUCH_ON_THE_MENUS_CORNER_LANDS = """async ([scroll, under]) => {
  document.querySelector('[data-testid="stMain"]').scrollTo(0, scroll);
  for (const _ of [1, 2]) await new Promise((drawn) => requestAnimationFrame(drawn));
  const menu = document.querySelector('[data-testid="stMainMenu"]').getBoundingClientRect();
  const below = under.getBoundingClientRect();
  const x = (Math.max(menu.left, below.left) + Math.min(menu.right, below.right)) / 2;
  const y = (menu.top + menu.bottom) / 2;
  const hit = document.elementFromPoint(x, y);
  if (hit.closest('[data-testid="stMainMenu"]')) return "the menu";
  return under.contains(hit) ? "what lies under" : `something else: ${hit.outerHTML.slice(0, 80)}`;
}"""


def test_scrolled_down_a_phone_lets_a_finger_reach_what_passes_under_the_menu(phone):
    """The top bar's corner with the menu hides what scrolls under it, until the page is
    scrolled down by its height: then the last digit of the row is tapped, not the menu."""
    phone.evaluate(f"{PAGE_SCROLLER}.scrollTo(0, 0)")
    nine = ui.digit_choice(phone, 9)
    # The digits' row at the screen's top, its last digit under the menu's button.
    menu = phone.get_by_test_id("stMainMenu").bounding_box()
    scroll = phone.evaluate(PAGE_SCROLL) + nine.bounding_box()["y"] - menu["y"]
    under = nine.element_handle()

    scrolled = phone.evaluate(WHERE_A_TOUCH_ON_THE_MENUS_CORNER_LANDS, [scroll, under])
    at_the_top = phone.evaluate(WHERE_A_TOUCH_ON_THE_MENUS_CORNER_LANDS, [0, under])

    assert (scrolled, at_the_top) == ("what lies under", "the menu")


def test_a_digit_confirmed_with_a_tap_says_it_is_saved_on_the_same_screen(phone, clear_digits):
    phone.evaluate(f"{PAGE_SCROLLER}.scrollTo(0, 0)")
    finger = Finger(phone)
    finger.draw_anew(clear_digits[2], 2)
    finger.tap(phone.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT))

    saved = phone.get_by_text("Saved as a 2.")
    expect(saved).to_be_visible(timeout=ui.ANSWER_MS)
    assert on_screen(saved) and phone.evaluate(PAGE_SCROLL) == 0


def test_the_notice_that_a_label_is_saved_lets_the_next_stroke_through(phone, clear_digits):
    """ "Saved: a 7." lies across the top of a phone's screen for a few seconds: over the
    canvas, once the page is scrolled back up to draw the next digit."""
    finger = Finger(phone)
    finger.draw_anew(clear_digits[7], 7)
    choice = ui.digit_choice(phone, 7)
    choice.scroll_into_view_if_needed()
    finger.tap(choice)

    canvas = phone.locator(f".st-key-{tabs.draw.one_digit.CANVAS_KEY}")
    landed = phone.wait_for_function(
        WHERE_A_TOUCH_UNDER_THE_NOTICE_LANDS, arg=[canvas.element_handle()], timeout=ui.ANSWER_MS
    )
    assert landed.json_value() == {"middle": "what lies under", "closeButtonTakesTheTap": True}
    phone.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")


def test_history_on_a_phone_shows_everyones_counts_in_one_row(phone, clear_digits):
    """Stacked, the three counts would fill a screen above the visitor's own labels."""
    finger = Finger(phone)
    finger.draw_anew(clear_digits[3], 3)
    confirm = phone.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
    confirm.scroll_into_view_if_needed()
    finger.tap(confirm)
    expect(confirm).to_be_disabled(timeout=ui.ANSWER_MS)

    history = phone.get_by_role("tab", name="History")
    history.scroll_into_view_if_needed()
    finger.tap(history)
    counts = [ui.metric(phone, label) for label in ("Accuracy", "Labelled drawings", "Misread")]
    for count in counts:
        expect(count).to_be_visible(timeout=ui.ANSWER_MS)
    boxes = [count.bounding_box() for count in counts]
    assert [box["y"] for box in boxes] == pytest.approx([boxes[0]["y"]] * 3, abs=1)
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= ui.PHONE["width"] for box in boxes)
    # The table of labels, a fixed height, lies between its toolbar and the heading below.
    ui.wait_for_tables(phone)
    assert phone.evaluate(TABLE_OVERLAPS) == [[0, 0]]
    draw = phone.get_by_role("tab", name="Draw")
    draw.scroll_into_view_if_needed()
    finger.tap(draw)


# Each table's toolbar, which a touch screen shows all the time, against what lies above the
# table, and the table against what lies below it: by how many pixels each reaches over the
# other (none when it does not).
TABLE_OVERLAPS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter((table) => table.offsetParent !== null)
  .map((table) => {
    const toolbar = table.querySelector('[data-testid="stElementToolbar"]');
    const place = table.closest('[data-testid="stElementContainer"]');
    const [above, below] = [place.previousElementSibling, place.nextElementSibling];
    return [
      Math.max(0, above.getBoundingClientRect().bottom - toolbar.getBoundingClientRect().top),
      Math.max(0, table.getBoundingClientRect().bottom - below.getBoundingClientRect().top),
    ];
  })"""


def test_a_tables_toolbar_on_a_phone_covers_nothing_above_it(phone):
    """On the model card, the toolbars lay over the end of a caption and of a chart's axis."""
    finger = Finger(phone)
    card = phone.get_by_role("tab", name="Model card")
    card.scroll_into_view_if_needed()
    finger.tap(card)
    # The caption under the card's last table.
    expect(phone.get_by_text("Pen handwriting: UNIPEN")).to_be_visible(timeout=ui.ANSWER_MS)
    ui.wait_for_tables(phone)

    overlaps = phone.evaluate(TABLE_OVERLAPS)

    assert len(overlaps) >= 3 and overlaps == [[0, 0]] * len(overlaps)
    draw = phone.get_by_role("tab", name="Draw")
    draw.scroll_into_view_if_needed()
    finger.tap(draw)
