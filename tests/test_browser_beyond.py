"""Beyond one digit in the real page, in headless Chromium: a number written with the mouse
on the wide canvas, on a desktop and on a phone, and corrected, its digits saved in
PostgreSQL, the canvas in its place from the moment it
shows, a photo uploaded from disk, a file of a type the uploader refuses, and a switch of
mode and back that finds each drawing as it was left."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.number
import tabs.draw.one_digit
import tabs.draw.photo
import tabs.draw.shared
from devtools.drawing import PLACEMENTS, Digit
from devtools.page import draw, drawing_surface, wait_for_run_to_end, wait_until_drawable
from devtools.pictures import encoded
from tests.support.browser import (
    ANSWER_MS,
    FIRST_ANSWER_MS,
    LAPTOP,
    PHONE,
    SETTLE_MS,
    announced,
    answer,
    canvas,
    canvas_control,
    choose,
    choose_number_mode,
    expect_answer,
    expect_blank,
    hold_canvas_stylesheet,
    mode_choice,
    opened_page,
    record_surface_tops,
    surface_tops_once_styled,
)
from tests.support.pictures import landscape_photo, narrow_crop, photographed, portrait_photo

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

PHONE_WIDTH = PHONE["width"]


def number_canvas(page):
    """The wide canvas's drawing surface."""
    return drawing_surface(page, tabs.draw.number.NUMBER_CANVAS_KEY)


def show_toolbar(page, canvas_key: str) -> None:
    """Put the pen over a canvas and wait until its toolbar has risen into place above it."""
    drawing_surface(page, canvas_key).hover()
    toolbar = page.locator(f".st-key-{canvas_key} .dc-toolbar").element_handle()
    page.wait_for_function(
        "(toolbar) => getComputedStyle(toolbar).opacity === '1' && !toolbar.getAnimations().length",
        arg=toolbar,
        timeout=ANSWER_MS,
    )


def tap(page, mode: str) -> None:
    """Click a mode where it shows on the screen, as a person would: without waiting for
    whatever covers it to go away, as Playwright's own click does."""
    box = mode_choice(page, mode).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(mode_choice(page, mode)).to_be_checked()


def write(page, digits: list[Digit], height: float, top: float, lefts: list[float]) -> None:
    """Write the digits side by side with the mouse, stroke by stroke."""
    for digit, left in zip(digits, lefts):
        digit.trace(page, number_canvas(page), height, top, left)


@pytest.fixture
def open_page(browser, app_url):
    """Opens the page in a fresh browser window of the given width."""
    contexts = []

    def opened(width: int, **options):
        context = browser.new_context(viewport={"width": width, "height": 900}, **options)
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url)
        mode_choice(page, tabs.draw.shared.A_NUMBER).wait_for(timeout=FIRST_ANSWER_MS)
        return page

    yield opened
    for context in contexts:
        context.close()


def labels_without_strokes(url: str) -> list[tuple[int, int]]:
    """(digit answered, digit meant) of each label saved with no strokes (a number's digits),
    oldest first."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = (
                "SELECT predicted_digit, true_digit FROM digit_feedback WHERE strokes IS NULL "
                "ORDER BY id"
            )
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


# Whether the wide canvas's box (in the canvas's shadow root) is narrower than the canvas.
BOX_SCROLLS = """(place) => {
  const root = [...place.querySelectorAll("*")].map((host) => host.shadowRoot).find(Boolean);
  const box = root.querySelector(".dc-scroll");
  return box.scrollWidth > box.clientWidth;
}"""


@pytest.mark.parametrize("width", [tabs.draw.number.NARROW_PAGE - 1, tabs.draw.number.NARROW_PAGE])
def test_the_swipe_strip_shows_just_where_the_wide_canvas_does_not_fit(open_page, width):
    page = open_page(width)
    choose_number_mode(page)
    place = page.locator(f".st-key-{tabs.draw.number.NUMBER_CANVAS_KEY}")
    scrolls = place.evaluate(BOX_SCROLLS)
    assert scrolls == (width < tabs.draw.number.NARROW_PAGE)
    hint = page.get_by_text(tabs.draw.number.STRIP_HINT)
    expect(hint).to_be_visible() if scrolls else expect(hint).to_be_hidden()


def test_on_a_laptop_a_number_read_and_its_row_show_without_scrolling(
    browser, app_url, clear_digits
):
    """On a 1280x800 screen the row that confirms or corrects a number lies under it, before
    the digits' inputs, all in view with the canvas."""
    with opened_page(browser, app_url, viewport=LAPTOP) as page:
        choose_number_mode(page)
        write(page, [clear_digits[d] for d in (4, 0, 7)], 170, 50, [110, 310, 530])
        expect(answer(page)).to_have_text("407", timeout=FIRST_ANSWER_MS)
        wait_for_run_to_end(page)
        shown = [
            number_canvas(page),
            answer(page),
            page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).last,
            page.get_by_role("textbox", name=tabs.draw.feedback_row.NUMBER_MEANT_PROMPT),
            page.get_by_role("button", name=tabs.draw.feedback_row.SAVE_NUMBER_TEXT),
        ]
        boxes = [element.bounding_box() for element in shown]
    in_view = [box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"] for box in boxes]
    assert in_view == [True] * len(shown)


def test_a_number_written_with_the_mouse_and_a_photo_are_read(
    open_page, clear_digits, tmp_path, feedback_database_url
):
    page = open_page(1000)
    choose_number_mode(page)
    assert number_canvas(page).bounding_box()["width"] == tabs.draw.number.NUMBER_CANVAS_WIDTH
    expect(page.get_by_text(tabs.draw.number.STRIP_HINT)).to_be_hidden()  # no strip: it all fits

    write(page, [clear_digits[d] for d in (2, 0, 4)], 170, 50, [110, 310, 530])

    expect(answer(page)).to_have_text("204", timeout=FIRST_ANSWER_MS)
    expect(page.get_by_role("img", name="The 28x28 input, read as 4")).to_be_visible()
    expect(announced(page)).to_have_text(re.compile(r"^Prediction 204, Confidence \d+%\.$"))
    # A dab of the pen on the line, in the middle of the gap between the 0 (its ink ends near
    # x = 450) and the 4 (its ink starts near x = 520).
    draw(page, [[(484, 210), (486, 212), (488, 213)]], tabs.draw.number.NUMBER_CANVAS_KEY)
    expect(answer(page)).to_have_text("20.4", timeout=ANSWER_MS)
    # A short level stroke half way up, before the 2 (its ink starts near x = 100).
    draw(page, [[(20, 135), (40, 136), (60, 135)]], tabs.draw.number.NUMBER_CANVAS_KEY)
    expect(answer(page)).to_have_text("-20.4", timeout=ANSWER_MS)
    # Corrected: each digit is saved with its piece, and the marks are kept from the reading.
    meant = page.get_by_role("textbox", name=tabs.draw.feedback_row.NUMBER_MEANT_PROMPT)
    meant.fill("20 7")
    # Its Save button is beside it: no "Press Enter to submit form" inside it, to type under.
    expect(page.get_by_test_id("InputInstructions")).to_be_hidden()
    meant.press("Enter")
    expect(page.get_by_text("Saved as -20.7")).to_be_visible(timeout=ANSWER_MS)
    expect(meant).to_be_focused()  # not dropped to the top of the page by the form
    expect(page.get_by_test_id("stToast").filter(has_text="Saved: -20.7.")).to_be_visible()
    assert labels_without_strokes(feedback_database_url)[-3:] == [(2, 2), (0, 0), (4, 7)]

    photo_file = tmp_path / "IMG_2026.jpg"
    photo_file.write_bytes(encoded(photographed(clear_digits, "2026"), "JPEG", quality=80))
    choose(page, tabs.draw.shared.A_PHOTO)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo_file)

    expect(answer(page)).to_have_text("2026", timeout=ANSWER_MS)
    expect(page.get_by_role("img", name="Your picture, read as 2026")).to_be_visible()
    expect(announced(page)).to_have_text(re.compile(r"^Prediction 2026, Confidence \d+%\.$"))
    # A wide strip lies above the answer, low enough for the number read to show under it on
    # a 1280x800 screen, the page scrolled to its top.
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    shown = page.get_by_test_id("stImage").filter(has_text="Your picture", visible=True)
    picture = shown.locator("img").bounding_box()
    number = answer(page).bounding_box()
    assert number["y"] > picture["y"] + picture["height"]
    assert number["y"] + number["height"] < 800

    # A portrait photo, and one 4:3 across: the answer is beside it, not below it out of sight.
    for written_number, photo in (
        ("42", portrait_photo(clear_digits, "42")),
        ("57", landscape_photo(clear_digits, "57")),
    ):
        photo_file = tmp_path / f"IMG_{written_number}.jpg"
        photo_file.write_bytes(encoded(photo, "JPEG", quality=80))
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo_file)
        expect(answer(page)).to_have_text(written_number, timeout=ANSWER_MS)
        # Measured once the new picture has loaded: the last one's may still be in its place.
        name = f"Your picture, read as {written_number}"
        loaded = page.get_by_role("img", name=name)
        expect(loaded).to_be_visible()
        shows = "(img) => img.complete && img.naturalWidth > 0"
        page.wait_for_function(shows, arg=loaded.element_handle())
        picture = loaded.bounding_box()
        number = answer(page).bounding_box()
        assert number["x"] > picture["x"] + picture["width"], written_number
        assert number["y"] < picture["y"] + picture["height"], written_number
    # Outlined, so that a white scan shows where it ends on the white page.
    expect(shown.locator("img")).to_have_css("outline-style", "solid")

    # A picture narrower than a line of its caption keeps its width, the caption its lines.
    crop = tmp_path / "crop.png"
    crop.write_bytes(encoded(narrow_crop(clear_digits), "PNG"))
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(crop)
    expect(answer(page)).to_have_text("1", timeout=ANSWER_MS)
    picture = page.get_by_role("img", name="Your picture, read as 1")
    expect(picture).to_be_visible()
    place = page.locator(f".st-key-{tabs.draw.photo.PHOTO_PICTURE_KEY}").filter(visible=True)
    caption = place.get_by_text("Your picture: each digit")
    assert picture.bounding_box()["width"] == pytest.approx(40, abs=1)
    line = float(caption.evaluate("(words) => getComputedStyle(words).lineHeight")[:-2])
    assert caption.bounding_box()["height"] < 2.5 * line  # two lines, not a word a line


def test_a_file_the_uploader_refuses_shows_why_on_a_phone(open_page, tmp_path):
    """Dropped or picked past the file dialog's filter, a GIF is refused by the uploader: the
    reason shows in words on the file, where a finger need not hover over an icon."""
    gif = tmp_path / "scan.gif"
    gif.write_bytes(encoded(Image.new("RGB", (64, 64), "white"), "GIF"))
    page = open_page(PHONE_WIDTH, is_mobile=True, has_touch=True)
    choose(page, tabs.draw.shared.A_PHOTO)
    wait_for_run_to_end(page)  # a refused file lives only in the uploader: no rerun may redraw it
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(gif)

    reason = page.get_by_test_id("stFileChip").get_by_text("image/gif files are not allowed")
    expect(reason).to_be_visible(timeout=ANSWER_MS)
    box = reason.bounding_box()
    assert box["width"] > 100 and box["height"] > 10  # not a screen reader's 1x1 pixel
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH


def test_a_switch_to_another_mode_and_back_finds_the_drawings_and_answers_as_they_were(
    open_page, clear_digits
):
    page = open_page(1000)
    wait_until_drawable(page, tabs.draw.one_digit.CANVAS_KEY, FIRST_ANSWER_MS)
    clear_digits[7].trace(page, canvas(page), *PLACEMENTS[0])
    expect_answer(page, 7, timeout=FIRST_ANSWER_MS)
    choose_number_mode(page)
    write(page, [clear_digits[d] for d in (3, 5)], 170, 50, [60, 260])
    expect(answer(page)).to_have_text("35", timeout=ANSWER_MS)

    choose(page, tabs.draw.shared.ONE_DIGIT)

    expect_answer(page, 7)
    expect(number_canvas(page)).to_be_attached()
    expect(number_canvas(page)).to_be_hidden()
    for mode in (tabs.draw.shared.A_NUMBER, tabs.draw.shared.A_PHOTO):  # nor their gaps take room
        area = page.locator(f".st-key-{tabs.draw.MODE_AREAS[mode]}")
        assert area.evaluate("(area) => getComputedStyle(area.parentElement).display") == "none"
    # The canvas is the one drawn on, not one made anew: its strokes can be undone.
    expect(canvas_control(page, "Undo")).to_be_enabled()
    choose(page, tabs.draw.shared.A_NUMBER)
    expect_answer(page, 35)
    expect(canvas_control(page, "Undo")).to_be_enabled()
    choose(page, tabs.draw.shared.ONE_DIGIT)
    expect(number_canvas(page)).to_be_hidden()
    canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
    expect_blank(page)


def test_the_wide_canvas_shows_where_it_stays_while_its_stylesheet_loads(open_page):
    """On a slow connection the canvas's own stylesheet comes last: the canvas must not show
    lower first and then jump up under the finger."""
    phone = open_page(PHONE_WIDTH, device_scale_factor=2)
    held = hold_canvas_stylesheet(phone)
    phone.evaluate(record_surface_tops(tabs.draw.number.NUMBER_CANVAS_KEY))
    choose(phone, tabs.draw.shared.A_NUMBER)
    number_canvas(phone).wait_for(timeout=ANSWER_MS)
    wait_for_run_to_end(phone)
    phone.wait_for_timeout(SETTLE_MS)  # frames drawn while the stylesheet is held

    tops = surface_tops_once_styled(phone, tabs.draw.number.NUMBER_CANVAS_KEY, held)
    assert tops and set(tops) == {tops[-1]}


def test_the_wide_canvas_scrolls_sideways_on_a_phone_and_reads_a_number(open_page, clear_digits):
    phone = open_page(PHONE_WIDTH, device_scale_factor=2)
    # With the pen over a canvas its toolbar shows above it, and must not cover the choices.
    show_toolbar(phone, tabs.draw.one_digit.CANVAS_KEY)
    tap(phone, tabs.draw.shared.A_PHOTO)
    choose_number_mode(phone)

    # The page itself keeps to the screen; only the canvas's own box scrolls.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    surface = number_canvas(phone)
    scrolls = surface.evaluate(
        """(canvas) => {
          for (let node = canvas; node; node = node.parentElement ?? node.getRootNode().host) {
            if (node.scrollWidth > node.clientWidth + 1 &&
                getComputedStyle(node).overflowX !== "visible") return true;
          }
          return false;
        }"""
    )
    assert scrolls

    write(phone, [clear_digits[d] for d in (4, 7)], 150, 60, [30, 190])

    expect(answer(phone)).to_have_text("47", timeout=FIRST_ANSWER_MS)
    show_toolbar(phone, tabs.draw.number.NUMBER_CANVAS_KEY)
    tap(phone, tabs.draw.shared.A_PHOTO)
