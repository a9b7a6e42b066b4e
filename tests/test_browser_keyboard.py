"""The real page with a keyboard and a screen reader, in headless Chromium: each answer said,
the focus kept in its place by what a control does, and every control reached with Tab
shown with its ring."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.photo
import tabs.draw.shared
import tabs.draw.why
import tabs.history
from devtools.drawing import PLACEMENTS
from devtools.page import RESET_SETTLE_MS, drawing_surface, wait_for_run_to_end
from devtools.pictures import encoded
from tests.support.browser import (
    ANSWER_MS,
    DESKTOP,
    FIRST_ANSWER_MS,
    PHONE,
    SETTLE_MS,
    announced,
    answer,
    canvas_control,
    choose,
    choose_number_mode,
    draw,
    expect_blank,
    opened_page,
)
from tests.support.pictures import photographed

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

# What a keyboard user sees of the focused control (in a shadow root, as the canvas's are,
# or not): whether it is ringed (an outline or a shadow round it) and how opaque the toolbar
# it lies in shows, if it lies in one.
FOCUS_SHOWN = """() => {
  let focused = document.activeElement;
  while (focused.shadowRoot?.activeElement) focused = focused.shadowRoot.activeElement;
  const style = getComputedStyle(focused);
  const toolbar = focused.closest('[data-testid="stElementToolbar"]');
  return {
    name: focused.getAttribute("aria-label") ?? focused.textContent,
    ringed: style.boxShadow !== "none" || (style.outlineStyle !== "none"
      && parseFloat(style.outlineWidth) > 0 && style.outlineColor !== "rgba(0, 0, 0, 0)"),
    toolbar: toolbar && Number(getComputedStyle(toolbar).opacity),
  };
}"""


def tab_to(page, control, presses: int) -> None:
    """Press Tab until `control` has the focus; fail after `presses` presses."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if control.evaluate("(element) => element === document.activeElement"):
            return
    pytest.fail(f"{presses} presses of Tab never reached {control}")


def test_a_screen_reader_hears_each_answer_and_the_keyboard_keeps_its_place(
    browser, app_url, clear_digits
):
    """The page's status region says the answer after each stroke and the notice after a
    save; the canvas has a name. A control disabled by what it did hands the keyboard's
    focus on to the next one, instead of dropping it to the top of the page."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        heard = announced(page)
        expect(heard).to_have_attribute("aria-live", "polite")
        expect(page.get_by_role("img", name=tabs.draw.one_digit.CANVAS_NAME)).to_be_visible()

        draw(page, clear_digits[3], *PLACEMENTS[0])

        expect(heard).to_have_text(
            re.compile(r"^Prediction 3, Confidence \d+%\.$"), timeout=FIRST_ANSWER_MS
        )
        expect(page.get_by_role("img", name="The 28x28 input, read as 3")).to_be_visible()
        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        confirm.focus()
        page.keyboard.press("Enter")
        expect(heard).to_have_text("Saved: a 3.", timeout=ANSWER_MS)
        expect(confirm).to_be_disabled()
        picker = page.get_by_role("radiogroup", name=tabs.draw.feedback_row.PICK_PROMPT)
        expect(picker.get_by_role("radio", name="3")).to_be_focused()  # the digit saved

        undo = canvas_control(page, "Undo")
        undo.focus()
        for _ in range(50):  # a stroke at a time, until none is left
            if undo.is_disabled():
                break
            page.keyboard.press("Enter")
            page.wait_for_timeout(SETTLE_MS)
        expect(canvas_control(page, "Redo")).to_be_focused()
        expect_blank(page)
        expect(heard).to_have_text("")  # no answer left to land on
        page.wait_for_timeout(RESET_SETTLE_MS)
        draw(page, clear_digits[7], *PLACEMENTS[1])
        expect(heard).to_have_text(re.compile(r"^Prediction 7, Confidence \d+%\.$"))


def test_after_a_mouse_stroke_tab_reaches_the_canvas_controls_then_the_answers_row(
    browser, app_url, clear_digits
):
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect(page.get_by_role("img", name="The 28x28 input, read as 3")).to_be_visible(
            timeout=FIRST_ANSWER_MS
        )
        wait_for_run_to_end(page)  # the answer's row is inert until its run is over
        reached = []
        for _ in range(3):
            page.keyboard.press("Tab")
            reached.append(page.evaluate(FOCUS_SHOWN)["name"])
    assert reached == ["Undo", tabs.draw.shared.CLEAR_TEXT, tabs.draw.feedback_row.CONFIRM_TEXT]


# How far the focused control's ring (its box grown by the shadow's spread) reaches past the
# inside of the nearest box around it that clips what overflows, on each side, in pixels.
RING_CLIPPED = """() => {
  const focused = document.activeElement;
  const spread = Math.max(...[...getComputedStyle(focused).boxShadow.matchAll(/(-?[\\d.]+)px/g)]
    .map((found) => Number(found[1])));
  if (!(spread > 0)) return null;  // no ring
  let box = focused.parentElement;
  while (getComputedStyle(box).overflowX === "visible") box = box.parentElement;
  const ring = focused.getBoundingClientRect(), inside = box.getBoundingClientRect();
  return [inside.left - (ring.left - spread), ring.right + spread - inside.right,
    inside.top - (ring.top - spread), ring.bottom + spread - inside.bottom]
    .map((past) => Math.max(0, Math.round(past)));
}"""


def test_the_ring_of_a_digit_reached_with_tab_shows_whole(browser, app_url, clear_digits):
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        draw(page, clear_digits[5], *PLACEMENTS[0])
        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        expect(confirm).to_be_enabled(timeout=FIRST_ANSWER_MS)
        wait_for_run_to_end(page)  # the answer's row is inert until its run is over
        confirm.focus()
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_SHOWN)["name"] == "0"
        assert page.evaluate(RING_CLIPPED) == [0, 0, 0, 0]


def test_the_toolbar_of_the_models_view_shows_and_rings_its_button_reached_with_tab(
    browser, app_url
):
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        for _ in range(20):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUS_SHOWN)
            if focused["toolbar"] is not None:
                break
        assert focused["name"].startswith("Fullscreen")
        assert focused["toolbar"] == 1 and focused["ringed"]


def test_the_why_toggle_reached_with_tab_is_ringed(browser, app_url):
    """Streamlit only tints a toggle's line when the keyboard is on it, too faint to see:
    the line is ringed as a button is."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        switch = page.get_by_role("switch", name=tabs.draw.why.WHY_TEXT)
        line = switch.locator("xpath=ancestor::label")
        ring = "(label) => getComputedStyle(label).boxShadow"
        assert line.evaluate(ring) == "none"  # only where the keyboard is
        tab_to(page, switch, 30)
        assert line.evaluate(ring) != "none"


def test_on_a_narrow_window_tab_goes_through_the_parts_in_the_order_they_show(
    browser, app_url, clear_digits, tmp_path
):
    """640 px wide or less, the line about your examples shows after the ten digits, and a
    photo's answer before the photo, its digits' inputs after it: Tab takes them in that
    order too, not the document's."""
    photo_file = tmp_path / "42.png"
    photo_file.write_bytes(encoded(photographed(clear_digits, "42"), "PNG"))
    with opened_page(browser, app_url, viewport=PHONE) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).click(
            timeout=FIRST_ANSWER_MS
        )
        forget = page.get_by_role("button", name=tabs.draw.shared.FORGET_TEXT)
        expect(forget).to_be_visible(timeout=ANSWER_MS)
        picker = page.get_by_role("radiogroup", name=tabs.draw.feedback_row.PICK_PROMPT)
        assert forget.bounding_box()["y"] > picker.bounding_box()["y"]
        saved = picker.get_by_role("radio", name="3")
        saved.focus()
        page.keyboard.press("Tab")
        expect(forget).to_be_focused()
        page.keyboard.press("Shift+Tab")
        expect(saved).to_be_focused()

        choose(page, tabs.draw.shared.A_PHOTO)
        wait_for_run_to_end(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo_file)
        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        expect(confirm.filter(visible=True)).to_be_enabled(timeout=ANSWER_MS)
        page.get_by_role("radio", name=tabs.draw.shared.A_PHOTO, exact=True).focus()
        reached = []
        for _ in range(20):
            page.keyboard.press("Tab")
            reached.append(page.evaluate(FOCUS_SHOWN)["name"])
            if reached[-1] == tabs.draw.why.WHY_TEXT:
                break
        else:
            pytest.fail(f"Tab never reached the digits' inputs: {reached}")
        shown = [name.startswith("Fullscreen: Your picture") for name in reached]
        assert True in shown, f"Tab went from the answer to the digits' inputs: {reached}"
        picture = shown.index(True)
        assert reached.index(tabs.draw.feedback_row.CONFIRM_TEXT) < picture
        assert reached.index(tabs.draw.feedback_row.SAVE_NUMBER_TEXT) < picture


def test_a_button_pressed_from_the_keyboard_hands_the_focus_to_what_took_its_place(
    browser, app_url, clear_digits
):
    """Delete my labels gives way to its question, and Yes to what the deletion came to: the
    focus goes to the box they share, not to the top of the page, and Tab goes on from there."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        confirm.click(timeout=FIRST_ANSWER_MS)
        expect(announced(page)).to_have_text(re.compile(r"Saved: a 3\.$"), timeout=ANSWER_MS)
        page.get_by_role("tab", name="History").click()
        area = page.locator(f".st-key-{tabs.history.DELETION_AREA}")
        delete = area.get_by_role("button", name=tabs.history.DELETE_TEXT)
        expect(delete).to_be_visible(timeout=ANSWER_MS)
        wait_for_run_to_end(page)  # the tab's run over: nothing redraws the button under the key

        delete.focus()
        page.keyboard.press("Enter")
        expect(area).to_be_focused(timeout=ANSWER_MS)
        expect(area).to_contain_text("Delete all 1 of your labels?")
        expect(area).not_to_have_css("box-shadow", "none")  # ringed, as a button is
        page.keyboard.press("Tab")
        expect(area.get_by_role("button", name=tabs.history.DELETE_CONFIRM_TEXT)).to_be_focused()
        page.keyboard.press("Enter")
        expect(area).to_be_focused(timeout=ANSWER_MS)
        expect(area).to_contain_text(tabs.history.deleted_said(1))


def test_the_uploads_button_that_adds_a_file_is_ringed_when_reached_with_tab(
    browser, app_url, clear_digits, tmp_path
):
    """Streamlit leaves the button beside a chosen file's chip bare when the keyboard is on it."""
    photo_file = tmp_path / "42.png"
    photo_file.write_bytes(encoded(photographed(clear_digits, "42"), "PNG"))
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        choose(page, tabs.draw.shared.A_PHOTO)
        wait_for_run_to_end(page)
        upload = page.locator(f".st-key-{tabs.draw.photo.PHOTO_UPLOAD_KEY}")
        upload.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo_file)
        remove = upload.get_by_role("button", name="Remove 42.png")
        expect(remove).to_be_visible(timeout=ANSWER_MS)
        wait_for_run_to_end(page)
        remove.focus()
        tab_to(page, upload.get_by_role("button", name="Add files"), 3)
        assert page.evaluate(FOCUS_SHOWN)["ringed"]


def test_a_number_confirmed_from_the_keyboard_hands_the_focus_to_its_field(
    browser, app_url, clear_digits
):
    """✓ Correct under a number, disabled once it saved, hands the focus to the next control:
    the field for the number meant, not the help icon in the field's label."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        choose_number_mode(page)
        surface = drawing_surface(page, tabs.draw.number.NUMBER_CANVAS_KEY)
        for digit, left in zip((2, 0, 4), (110, 310, 530)):
            clear_digits[digit].trace(page, surface, 170, 50, left)
        expect(answer(page)).to_have_text("204", timeout=FIRST_ANSWER_MS)
        wait_for_run_to_end(page)

        confirm = page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).last
        confirm.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text("Saved as 204")).to_be_visible(timeout=ANSWER_MS)
        meant = page.get_by_role("textbox", name=tabs.draw.feedback_row.NUMBER_MEANT_PROMPT)
        expect(meant).to_be_focused(timeout=ANSWER_MS)


def test_a_screen_reader_hears_the_history_tables_cells_in_words(browser, app_url, clear_digits):
    """Streamlit's grid gives a screen reader each cell's value: a drawing's was its data URL,
    read out letter by letter, and a confidence had a dozen decimals."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).click(
            timeout=FIRST_ANSWER_MS
        )
        expect(announced(page)).to_have_text(re.compile(r"Saved: a 3\.$"), timeout=ANSWER_MS)
        page.get_by_role("tab", name="History").click()
        named = page.locator(f'td[aria-label="{tabs.history.PICTURE_CELL_NAME}"]')
        expect(named).to_have_count(1, timeout=ANSWER_MS)

        tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")
        heard = [
            node.get("name", {}).get("value", "")
            for node in tree["nodes"]
            if node.get("role", {}).get("value") == "gridcell" and not node.get("ignored")
        ]
        picture, answer_given, meant, right, confidence, _time = heard
        assert (picture, answer_given, meant, right) == (
            tabs.history.PICTURE_CELL_NAME,
            "3",
            "3",
            "✓",
        )
        assert re.fullmatch(r"\d{1,3}", confidence), confidence
