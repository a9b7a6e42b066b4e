"""In Chromium: a person's corrections last as long as their saved labels, across reloads and
tabs, and "Forget all" forgets them in every tab."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import tabs.draw.shared
from devtools.page import RESET_SETTLE_MS, wait_until_drawable
from tests.support.browser import (
    ANSWER_MS,
    DESKTOP,
    FIRST_ANSWER_MS,
    MEMORY_LINE,
    SETTLE_MS,
    answer,
    canvas_control,
    digit_choice,
    draw,
    expect_answer,
    expect_blank,
    opened_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def drawn_again(page, digit, placement, fresh: bool = False) -> None:
    """Draw the digit at a placement on a blank canvas: a page just opened, or one cleared."""
    if not fresh:
        canvas_control(page, tabs.draw.shared.CLEAR_TEXT).click()
        expect_blank(page)
        page.wait_for_timeout(RESET_SETTLE_MS)
    draw(page, digit, *placement)
    expect(answer(page)).not_to_have_text(tabs.draw.shared.BLANK, timeout=FIRST_ANSWER_MS)


def expect_not_remembered(page, label: int) -> None:
    page.wait_for_timeout(SETTLE_MS)
    expect(answer(page)).not_to_have_text(str(label))
    expect(page.get_by_text(MEMORY_LINE)).to_have_count(0)


def test_a_correction_outlasts_a_reload_and_reaches_another_tab_until_forgotten(
    browser, app_url, misread_style
):
    digit, first, again = misread_style
    with opened_page(browser, app_url, viewport=DESKTOP) as page:
        drawn_again(page, digit, first, fresh=True)
        expect(answer(page)).not_to_have_text(str(digit.label))
        digit_choice(page, digit.label).click()
        expect(
            page.get_by_text(f"Saved as {tabs.draw.shared.a_digit(digit.label)}.")
        ).to_be_visible(timeout=ANSWER_MS)

        page.reload()  # a new session of the page: its memory comes from the saved label
        wait_until_drawable(page, timeout_ms=FIRST_ANSWER_MS)
        drawn_again(page, digit, again, fresh=True)
        expect_answer(page, digit.label)
        expect(page.get_by_text(MEMORY_LINE)).to_be_visible()

        other = page.context.new_page()  # another tab of the same browser
        other.goto(app_url)
        wait_until_drawable(other, timeout_ms=FIRST_ANSWER_MS)
        drawn_again(other, digit, again, fresh=True)
        expect_answer(other, digit.label)
        other.get_by_role("button", name=tabs.draw.shared.FORGET_TEXT).click()
        expect(other.get_by_text(MEMORY_LINE)).to_have_count(0, timeout=ANSWER_MS)
        expect(answer(other)).not_to_have_text(str(digit.label))

        drawn_again(page, digit, again)  # the first tab forgets on its next reading
        expect_not_remembered(page, digit.label)

        page.reload()  # and for good
        wait_until_drawable(page, timeout_ms=FIRST_ANSWER_MS)
        drawn_again(page, digit, again, fresh=True)
        expect_not_remembered(page, digit.label)
