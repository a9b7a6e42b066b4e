"""The real page in headless Chromium: digits drawn with the mouse, answers read off the screen,
labels clicked and found again in the real PostgreSQL the page saves to."""

from __future__ import annotations

import io
import re
import tomllib
from urllib.parse import urljoin

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image, ImageColor
from playwright.sync_api import Locator, expect

import devtools.page
import digit_model
import tabs.draw
import tabs.draw.feedback_row
import tabs.draw.one_digit
import tabs.draw.shared
import tabs.draw.why
import tabs.model_card
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS
from devtools.page import RESET_SETTLE_MS, wait_for_run_to_end
from tabs import charts
from tests.support.browser import (
    ANSWER_MS,
    DESKTOP,
    FIRST_ANSWER_MS,
    LAPTOP,
    MEMORY_LINE,
    PHONE,
    SETTLE_MS,
    announced,
    answer,
    canvas,
    canvas_control,
    digit_choice,
    draw,
    expect_answer,
    expect_blank,
    hold_canvas_stylesheet,
    metric,
    opened_page,
    record_surface_tops,
    surface_tops_once_styled,
    wait_for_tables,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

# How opaque an element shows: its own opacity times that of everything it lies in, across
# the canvas's shadow root.
SHOWN_OPACITY = """(element) => {
  let opacity = 1;
  for (let node = element; node; node = node.parentElement ?? node.getRootNode().host) {
    opacity *= Number(getComputedStyle(node).opacity);
  }
  return opacity;
}"""


@pytest.fixture(scope="module")
def page(browser, app_url):
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        yield page


def test_the_canvas_shows_where_it_stays_while_its_stylesheet_loads(browser, app_url):
    """On a slow connection the canvas's own stylesheet comes last: on a first visit the
    canvas must not show lower first and then jump up."""
    context = browser.new_context(viewport=PHONE)
    context.add_init_script(record_surface_tops(tabs.draw.one_digit.CANVAS_KEY))
    try:
        page = context.new_page()
        held = hold_canvas_stylesheet(page)
        page.goto(app_url)
        canvas(page).wait_for(timeout=FIRST_ANSWER_MS)
        wait_for_run_to_end(page)
        page.wait_for_timeout(SETTLE_MS)  # frames drawn while the stylesheet is held

        tops = surface_tops_once_styled(page, tabs.draw.one_digit.CANVAS_KEY, held)
    finally:
        context.close()
    assert tops and set(tops) == {tops[-1]}


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

    canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
    expect_blank(page)


def test_a_drawing_that_is_no_digit_is_named_as_such(page, not_a_digit):
    draw(page, not_a_digit, *PLACEMENTS[0])
    expect(answer(page)).to_have_text(tabs.draw.shared.NOT_A_DIGIT, timeout=FIRST_ANSWER_MS)
    expect(page.get_by_text(tabs.draw.shared.NOT_A_DIGIT_HINT)).to_be_visible()
    # Its confidence is blank: a screen reader is not told of a dash.
    expect(announced(page)).to_have_text(f"Prediction {tabs.draw.shared.NOT_A_DIGIT}.")

    canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
    expect_blank(page)


def test_two_digits_drawn_on_the_one_digit_canvas_point_to_a_number(page, clear_digits):
    draw(page, clear_digits[3], 110, 80, 15)
    draw(page, clear_digits[7], 110, 80, 150)
    expect(page.get_by_text("This looks like more than one digit: 37.")).to_be_visible(
        timeout=FIRST_ANSWER_MS
    )

    canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
    expect_blank(page)


def test_undo_redo_and_clear_are_always_shown_and_large_enough_for_a_finger(page):
    page.mouse.move(0, 0)  # nothing hovers over the canvas
    for name in ("Undo", "Redo", tabs.draw.shared.CLEAR_TEXT):
        control = canvas_control(page, name)
        expect(control).to_be_visible()
        assert control.evaluate(SHOWN_OPACITY) == 1
        box = control.bounding_box()
        assert box["width"] >= 40 and box["height"] >= 40
    surface = canvas(page).bounding_box()
    below = canvas_control(page, "Undo").bounding_box()
    assert below["y"] >= surface["y"] + surface["height"]  # under the canvas, not over it
    for name in ("Reset canvas & history", "Update the app with this drawing", "Edit"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    # Reached with the keyboard, a control shows a ring, as Streamlit's own buttons do.
    clear = canvas_control(page, tabs.draw.shared.CLEAR_TEXT)
    clear.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert clear.evaluate("(button) => button.matches(':focus-visible')")
    assert clear.evaluate("(button) => getComputedStyle(button).boxShadow") != "none"


# The width of the line under a tab.
UNDERLINE = "(element) => getComputedStyle(element).borderBottomWidth"
TRACK_AND_KNOB_FILLS = """(switch_) => [
  switch_.closest("label").querySelector("span + div"),
  switch_.closest("label").querySelector("span + div > div"),
].map((part) => getComputedStyle(part).backgroundColor)"""


def test_a_system_set_to_dark_gets_the_dark_theme_with_the_canvas_still_white_paper(
    browser, app_url, clear_digits
):
    """The page follows the system's dark setting (the theme's colours in config.toml), and
    the canvas stays white with black ink, as the model reads it."""
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    dark = config["theme"]["dark"]
    with opened_page(browser, app_url, viewport=DESKTOP, color_scheme="dark") as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, FIRST_ANSWER_MS)

        expect(page.get_by_test_id("stApp")).to_have_css(
            "background-color", css_rgb(dark["backgroundColor"])
        )
        expect(answer(page)).to_have_css("color", css_rgb(dark["textColor"]))
        assert brightness(canvas(page)) > 200  # white paper, a little black ink


def brightness(element) -> float:
    """How bright an element looks on the screen, from 0 (black) to 255 (white); looked at in
    the middle of the window, where no part of the page lies over it (Streamlit's header
    covers the window's top)."""
    element.evaluate("(shown) => shown.scrollIntoView({block: 'center'})")
    return float(np.asarray(Image.open(io.BytesIO(element.screenshot())).convert("L")).mean())


def css_rgb(colour: str) -> str:
    """A colour as a browser's computed style writes it: "#0f172a" -> "rgb(15, 23, 42)"."""
    return "rgb({}, {}, {})".format(*ImageColor.getrgb(colour))


def test_in_a_high_contrast_mode_what_is_chosen_and_where_the_keyboard_is_still_show(
    browser, app_url, clear_digits
):
    """Forced colours drop the backgrounds by which Streamlit marks a choice and the shadow
    that rings a focused control: the digit picked, the mode, the tab and the toggle are
    drawn in the system's colours instead, and the ring is an outline."""
    with opened_page(browser, app_url, viewport=DESKTOP, forced_colors="active") as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, FIRST_ANSWER_MS)
        digit_choice(page, 8).click()
        expect(digit_choice(page, 8)).to_be_checked()
        page.get_by_text(tabs.draw.why.WHY_TEXT, exact=True).click()
        expect(page.get_by_role("switch", name=tabs.draw.why.WHY_TEXT)).to_be_checked()

        page.mouse.move(0, 0)  # nothing hovered
        assert abs(brightness(digit_choice(page, 0)) - brightness(digit_choice(page, 8))) > 60
        modes = page.get_by_role("radiogroup", name=tabs.draw.MODE_PROMPT)
        one_digit = modes.get_by_role("radio", name=tabs.draw.shared.ONE_DIGIT, exact=True)
        a_number = modes.get_by_role("radio", name=tabs.draw.shared.A_NUMBER, exact=True)
        assert abs(brightness(a_number) - brightness(one_digit)) > 60
        assert page.get_by_role("tab", name="Draw").evaluate(UNDERLINE) != "0px"
        assert page.get_by_role("tab", name="History").evaluate(UNDERLINE) == "0px"
        switch = page.get_by_role("switch", name=tabs.draw.why.WHY_TEXT)
        track, knob = switch.evaluate(TRACK_AND_KNOB_FILLS)
        assert knob != track
        for control in (canvas_control(page, tabs.draw.shared.CLEAR_TEXT), digit_choice(page, 8)):
            control.focus()
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Tab")  # reached with the keyboard: a ring shows
            expect(control).to_be_focused()
            assert control.evaluate("(button) => getComputedStyle(button).outlineStyle") == "solid"


# What lies on top at the middle of an element: the element itself, or what covers it.
ON_TOP = """(element) => {
  const box = element.getBoundingClientRect();
  const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return element.contains(top);
}"""


def test_the_heat_maps_fullscreen_button_leaves_the_why_toggles_help_in_view(
    browser, app_url, clear_digits
):
    """Hovered, an image shows its Fullscreen button; Streamlit puts it above the image, where
    the heat-maps' would cover the toggle's help just above them."""
    with opened_page(browser, app_url, viewport=LAPTOP) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, FIRST_ANSWER_MS)
        page.get_by_text(tabs.draw.why.WHY_TEXT, exact=True).click()
        heat_map = page.get_by_role("img", name=re.compile(r"^Why 3: "))
        expect(heat_map).to_be_visible(timeout=ANSWER_MS)
        wait_for_run_to_end(page)
        heat_map.hover()
        element = heat_map.locator("xpath=ancestor::*[@data-testid='stElementContainer'][1]")
        expect(element.get_by_test_id("stElementToolbar")).to_have_css("opacity", "1")
        fullscreen = element.get_by_role("button", name="Fullscreen")
        expect(fullscreen).to_be_in_viewport()
        switch = page.get_by_role("switch", name=tabs.draw.why.WHY_TEXT)
        help_icon = page.locator(".st-key-why_digit").get_by_test_id("stTooltipIcon")
        assert help_icon.evaluate(ON_TOP)
        assert fullscreen.bounding_box()["y"] >= switch.bounding_box()["y"] + 16


@pytest.mark.parametrize("control", ["Undo", "Redo"])
def test_a_stroke_run_off_the_canvas_onto_a_greyed_control_is_read(page, control):
    """A stroke slips past the canvas's bottom edge and the pen is lifted over Undo or Redo
    while it is greyed out (nothing to undo yet, nothing undone), which takes no mouse event."""
    expect_blank(page)
    greyed = canvas_control(page, control)
    expect(greyed).to_be_disabled()
    surface, button = canvas(page).bounding_box(), greyed.bounding_box()
    x = button["x"] + button["width"] / 2 - surface["x"]
    below = button["y"] + button["height"] / 2 - surface["y"]
    # A 1 from near the top, run on past the edge to the middle of the greyed control.
    devtools.page.draw(page, [[(x, 40 + (below - 40) * step / 40) for step in range(41)]])
    expect_answer(page, 1, timeout=FIRST_ANSWER_MS)

    canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
    expect_blank(page)


def test_undo_and_redo_from_the_toolbar(page, clear_digits):
    expect_blank(page)
    draw(page, clear_digits[5], *PLACEMENTS[0])
    expect_answer(page, 5)

    undo, redo = canvas_control(page, "Undo"), canvas_control(page, "Redo")
    while undo.is_enabled():
        undo.click()
    expect_blank(page)

    while redo.is_enabled():
        redo.click()
    expect_answer(page, 5)

    canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
    expect_blank(page)


def test_page_fits_a_phone_screen_and_reads_a_digit_there(browser, app_url, clear_digits):
    screen = {"width": 360, "height": 740}
    with opened_page(browser, app_url, viewport=screen, device_scale_factor=2) as phone:
        box = canvas(phone).bounding_box()
        assert box["width"] >= 280 and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360

        draw(phone, clear_digits[6], *PLACEMENTS[0])
        expect_answer(phone, 6)
        # All ten digits side by side within the screen's width: none scrolled out of sight,
        # and each as large as a finger needs: the row's whole width shared out.
        picker = phone.get_by_role(
            "radiogroup", name=tabs.draw.feedback_row.PICK_PROMPT
        ).bounding_box()
        right_edge = min(picker["x"] + picker["width"], 360)
        for digit in range(10):
            choice = digit_choice(phone, digit).bounding_box()
            assert picker["x"] <= choice["x"] and choice["x"] + choice["width"] <= right_edge
            assert choice["width"] >= 28 and choice["height"] >= 40


# Every word and point of each chart that shows, lying partly outside its picture; and how
# many of the reliability diagram's counts lie on their own point, of how many.
CHART_PROBLEMS = """(panel) => {
  const within = (inner, outer) => inner.left >= outer.left && inner.right <= outer.right
    && inner.top >= outer.top && inner.bottom <= outer.bottom;
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
    && b.top < a.bottom;
  const charts = [...panel.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  const cut = [];
  for (const chart of charts) {
    const picture = chart.querySelector("svg").getBoundingClientRect();
    for (const element of chart.querySelectorAll("svg text, svg .mark-symbol path")) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && !within(box, picture)) cut.push(element.textContent);
    }
  }
  const reliability = charts.find((chart) => chart.textContent.includes("Confidence given"));
  const counts = [...reliability.querySelectorAll(".mark-text.role-mark text")];
  const points = [...reliability.querySelectorAll(".mark-symbol.role-mark path")];
  const onTheirPoint = counts.filter((count, index) => points[index] && overlap(
    count.getBoundingClientRect(), points[index].getBoundingClientRect()));
  return {cut, counts: counts.length, points: points.length,
    onTheirPoint: onTheirPoint.map((count) => count.textContent)};
}"""


# Each cell of a confusion heat-map: what it says to a screen reader, and its fill colour.
CONFUSION_CELLS = """(chart) => [...chart.querySelectorAll(".mark-rect path[aria-label]")]
  .map((cell) => [cell.getAttribute("aria-label"), cell.getAttribute("fill")])"""


def confusion_fills(chart) -> dict[str, list[tuple[int, int, int]]]:
    """The fill colours of a rendered confusion heat-map's filled cells: right answers, and
    mistakes (a digit read as another, or as no digit)."""
    fills: dict[str, list[tuple[int, int, int]]] = {"right": [], "mistake": []}
    for label, fill in chart.evaluate(CONFUSION_CELLS):
        fields = dict(pair.split(": ") for pair in label.split("; "))
        if int(fields["count"]):
            kind = "right" if fields["Answer"] == fields["True digit"] else "mistake"
            fills[kind].append(ImageColor.getrgb(fill)[:3])
    return fills


@pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_model_cards_charts_show_every_label_and_point_whole(browser, app_url, screen):
    calibration, _ = tabs.model_card.calibration_measured_on(digit_model.load_metrics())
    bins = calibration.bins
    with opened_page(browser, app_url, viewport=screen) as page:
        page.get_by_role("tab", name="Model card").click()
        card = page.get_by_role("tabpanel", name="Model card")
        charts = card.get_by_test_id("stVegaLiteChart")
        expect(charts).to_have_count(5, timeout=ANSWER_MS)
        for chart in charts.all():
            expect(chart.locator("svg text").first).to_be_attached()

        shown = card.evaluate(CHART_PROBLEMS)
        fills = confusion_fills(charts.nth(1))
    assert shown == {"cut": [], "counts": len(bins), "points": len(bins), "onTheirPoint": []}
    # Right answers in blue, mistakes in orange, however few: a misread stands out.
    assert len(fills["right"]) == 10 and fills["mistake"]
    assert all(blue > red for red, _, blue in fills["right"])
    assert all(red > blue for red, _, blue in fills["mistake"])


# How many pixels of each of the model card's tables lie past its right edge, to be scrolled to.
TABLES_CUT = """(card) => [...card.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
  .map((scroller) => scroller.scrollWidth - scroller.clientWidth)"""


def test_on_a_desktop_no_table_of_the_model_card_hides_a_column(browser, app_url):
    with opened_page(browser, app_url, viewport=LAPTOP) as page:
        page.get_by_role("tab", name="Model card").click()
        card = page.get_by_role("tabpanel", name="Model card")
        # The caption under the card's last table: all of them are on the page.
        expect(card.get_by_text("Pen handwriting: UNIPEN")).to_be_visible(timeout=ANSWER_MS)
        wait_for_tables(page)
        cut = card.evaluate(TABLES_CUT)
    assert len(cut) >= 5 and cut == [0] * len(cut)


def stored_labels(url: str) -> list[sa.Row]:
    """(predicted, true digit) of every label in the page's PostgreSQL database, oldest first."""
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("digit_feedback"):
            return []  # made with the first label saved
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT predicted_digit, true_digit FROM digit_feedback ORDER BY id")
            ).all()
    finally:
        engine.dispose()


def test_labels_clicked_on_the_page_land_in_postgresql_and_in_the_history(
    browser, app_url, feedback_database_url, clear_digits
):
    earlier = len(stored_labels(feedback_database_url))  # saved by other tests' visits
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, timeout=FIRST_ANSWER_MS)

        page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).dblclick()
        expect(page.get_by_text(re.compile("saved as a 3", re.IGNORECASE)).first).to_be_visible(
            timeout=ANSWER_MS
        )
        expect(
            page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT)
        ).to_be_disabled()

        canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
        expect_blank(page)
        page.wait_for_timeout(RESET_SETTLE_MS)
        draw(page, clear_digits[7], *PLACEMENTS[1])
        expect_answer(page, 7)
        digit_choice(page, 2).click()  # a mis-tap, mended with the next click
        expect(page.get_by_text("Saved as a 2.")).to_be_visible(timeout=ANSWER_MS)
        expect(page.get_by_test_id("stToast").filter(has_text="Saved: a 2.")).to_be_visible()
        digit_choice(page, 1).click()
        expect(page.get_by_text("Saved as a 1.")).to_be_visible(timeout=ANSWER_MS)
        expect(page.get_by_test_id("stToast").filter(has_text="Changed to a 1.")).to_be_visible()

        everyone = stored_labels(feedback_database_url)
        assert everyone[earlier:] == [(3, 3), (7, 1)]

        page.get_by_role("tab", name="History").click()
        history = page.get_by_role("tabpanel", name="History")
        # Counted over everyone's labels: other tests' visits too.
        expect(metric(page, "Labelled drawings")).to_have_text(
            str(len(everyone)), timeout=ANSWER_MS
        )
        right = sum(answered == meant for answered, meant in everyone)
        expect(metric(page, "Accuracy")).to_have_text(f"{right / len(everyone):.1%}")
        expect(history.get_by_test_id("stDataFrame")).to_be_visible()
        # The download is a link of this session's own, streamed by the page's server.
        link = history.get_by_role("link", name=".npz training set")
        response = page.request.get(urljoin(page.url, link.get_attribute("href")))
        assert response.ok
        assert response.headers["content-disposition"].endswith('filename="feedback.npz"')
        with np.load(io.BytesIO(response.body())) as training_set:
            assert training_set["x"].shape == (2, 28, 28)
            assert list(training_set["y"]) == [3, 1]


def test_every_digit_of_the_feedback_row_saves_after_the_pointer_crossed_the_chart(
    browser, app_url, feedback_database_url, clear_digits
):
    """Nothing that shows while the pointer is over the probability chart may cover the row."""
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        before = len(stored_labels(feedback_database_url))
        height, top, left = PLACEMENTS[0]
        for meant in range(10):
            canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
            expect_blank(page)
            page.wait_for_timeout(RESET_SETTLE_MS)
            # A little further right each time: a new drawing, not one already labelled.
            draw(page, clear_digits[3], height, top, left + 2 * meant)
            expect_answer(page, 3, timeout=FIRST_ANSWER_MS)

            chart = probability_bars(page).bounding_box()
            page.mouse.move(chart["x"] + chart["width"] / 2, chart["y"] + chart["height"] / 2)
            page.wait_for_timeout(SETTLE_MS)
            # Clicked where the digit shows, as a person would, whatever lies on top of it.
            choice = digit_choice(page, meant).bounding_box()
            page.mouse.click(choice["x"] + choice["width"] / 2, choice["y"] + choice["height"] / 2)
            expect(page.get_by_text(f"Saved as {tabs.draw.shared.a_digit(meant)}.")).to_be_visible(
                timeout=ANSWER_MS
            )

        assert stored_labels(feedback_database_url)[before:] == [(3, meant) for meant in range(10)]


def probability_bars(page) -> Locator:
    """The ten probability bars under the answer."""
    return page.get_by_role("group", name=charts.PROBABILITIES_NAME)


def answer_area(page) -> dict[str, float]:
    """Where the confidence, the feedback row, the chart and the model's view start, in page
    pixels: the confidence across, the rest down."""
    metrics = page.locator(f".st-key-{tabs.draw.one_digit.METRICS_SLOT} [data-testid='stMetric']")
    return {
        "confidence": metrics.nth(1).bounding_box()["x"],
        "feedback row": page.get_by_role(
            "button", name=tabs.draw.feedback_row.CONFIRM_TEXT
        ).bounding_box()["y"],
        "chart": probability_bars(page).bounding_box()["y"],
        "model's view": page.get_by_test_id("stImage").first.bounding_box()["y"],
    }


def test_the_answer_area_stays_put_from_blank_to_saved(browser, app_url, clear_digits):
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        expect_blank(page)
        blank = answer_area(page)
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, timeout=FIRST_ANSWER_MS)
        assert answer_area(page) == blank
        page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).click()
        expect(page.get_by_text("Saved as a 3.")).to_be_visible(timeout=ANSWER_MS)
        expect(page.get_by_text("Read with your label.")).to_be_visible()
        assert answer_area(page) == blank


def test_on_a_desktop_the_answer_its_row_and_the_bars_show_together_without_scrolling(
    browser, app_url, clear_digits
):
    screen = LAPTOP
    with opened_page(browser, app_url, viewport=screen) as page:
        draw(page, clear_digits[3], *PLACEMENTS[0])
        expect_answer(page, 3, timeout=FIRST_ANSWER_MS)
        shown = {
            "answer": answer(page),
            "confirm": page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT),
            "bars": probability_bars(page),
        }
        shown |= {f"digit {digit}": digit_choice(page, digit) for digit in range(10)}
        shown |= {
            f"bar {digit}": probability_bars(page).get_by_role(
                "img", name=re.compile(f"^digit: {digit};")
            )
            for digit in range(10)
        }
        boxes = {name: element.bounding_box() for name, element in shown.items()}
    outside = [
        name
        for name, box in boxes.items()
        if not (
            box["x"] >= 0
            and box["y"] >= 0
            and box["x"] + box["width"] <= screen["width"]
            and box["y"] + box["height"] <= screen["height"]
        )
    ]
    assert outside == []
    # Each bar lies under its digit.
    middle = {name: box["x"] + box["width"] / 2 for name, box in boxes.items()}
    assert all(abs(middle[f"bar {d}"] - middle[f"digit {d}"]) <= 1 for d in range(10))


# The box of the title's words, from the tops of its tallest letters to the bottoms of its
# lowest, where the page shows it.
TITLE_WORDS = """() => {
  const words = document.createRange();
  words.selectNodeContents(document.querySelector('[data-testid="stHeading"] h1'));
  const box = words.getBoundingClientRect();
  return {x: box.x, y: box.y, width: box.width, height: box.height};
}"""


@pytest.mark.parametrize("screen", [LAPTOP, PHONE], ids=["desktop", "phone"])
def test_the_top_bar_hides_no_part_of_the_title(browser, app_url, screen):
    with opened_page(browser, app_url, viewport=screen) as page:
        words = page.evaluate(TITLE_WORDS)
        shown = page.screenshot(clip=words)
        page.get_by_test_id("stHeader").evaluate("(bar) => { bar.style.visibility = 'hidden'; }")
        assert page.screenshot(clip=words) == shown


def test_a_corrected_digit_drawn_again_is_read_right_and_the_page_says_why(
    browser, app_url, misread_style
):
    digit, first, again = misread_style
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        draw(page, digit, *first)
        expect(answer(page)).not_to_have_text(tabs.draw.shared.BLANK, timeout=FIRST_ANSWER_MS)
        expect(answer(page)).not_to_have_text(str(digit.label))
        digit_choice(page, digit.label).click()
        expect(
            page.get_by_text(f"Saved as {tabs.draw.shared.a_digit(digit.label)}.")
        ).to_be_visible(timeout=ANSWER_MS)

        canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()  # Clear keeps the examples
        expect_blank(page)
        page.wait_for_timeout(RESET_SETTLE_MS)
        draw(page, digit, *again)
        expect_answer(page, digit.label)
        expect(page.get_by_text(MEMORY_LINE)).to_be_visible()

        page.get_by_role("button", name=tabs.draw.shared.FORGET_TEXT).click()
        expect(page.get_by_text(MEMORY_LINE)).to_have_count(0, timeout=ANSWER_MS)
        expect(answer(page)).not_to_have_text(str(digit.label))

    with opened_page(browser, app_url, viewport=DESKTOP) as page:  # a new visit starts empty
        draw(page, digit, *again)
        expect(answer(page)).not_to_have_text(tabs.draw.shared.BLANK, timeout=FIRST_ANSWER_MS)
        page.wait_for_timeout(SETTLE_MS)
        expect(answer(page)).not_to_have_text(str(digit.label))
        expect(page.get_by_text(MEMORY_LINE)).to_have_count(0)
