"""The page's own style and scripts: the files of `tabs/static/`, read once at import and
filled in with the keys and words of the Draw tab they style and script."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from tabs import charts
from tabs.draw import BRUSH_POPOVER_KEY, HIDDEN_MARK, MODE_AREAS, MODE_KEY, SHOWN_MARK
from tabs.draw.feedback_row import CONFIRM_KEY, MEANT_KEYS, NOTICE_SLOT, PICK_KEY
from tabs.draw.number import NARROW_PAGE, NUMBER_CANVAS_KEY, NUMBER_CANVAS_NAME, NUMBER_HINT_KEY
from tabs.draw.one_digit import (
    CANVAS_KEY,
    CANVAS_NAME,
    MEMORY_SLOT,
    MESSAGE_SLOT,
    METRICS_SLOT,
    PREVIEW_KEY,
    PROBABILITY_CHART_KEY,
)
from tabs.draw.photo import (
    PHOTO_ANSWER_KEY,
    PHOTO_BESIDE_KEY,
    PHOTO_INPUTS_KEY,
    PHOTO_PICTURE_KEY,
    PHOTO_RESULT_KEY,
    PHOTO_UPLOAD_KEY,
)
from tabs.draw.shared import BLANK, CLEAR_TEXT, CONFIDENCE, PREDICTION, SURFACE
from tabs.draw.why import HEAT_MAPS
from tabs.history import DELETION_AREA, PICTURE_CELL_NAME

STATIC = Path(__file__).resolve().parent.parent / "static"
TITLE_KEY = "page_title"  # the title, which a phone under 700 px tall leaves to screen readers
SUBTITLE_KEY = "subtitle"  # the line under the title, which a short phone leaves to screen readers
STYLE_ID = "digit-page-style"  # the style element, which the style itself takes off the layout
ANNOUNCER_ID = "digit-announcer"  # the status region a screen reader hears the answer from
ANNOUNCE_AFTER_MS = 150  # ...once the page has stopped changing for this long,
ANNOUNCE_WITHIN_MS = 1000  # ...or at the latest this long after it started changing
REFOCUS_AFTER_MS = 300  # a control that lost the focus to a run gets it back this much later,
REFOCUS_EVERY_MS = 100  # and again whenever the run's redrawing drops it,
REFOCUS_WITHIN_MS = 3000  # until this long after the run is over
STALE_AFTER_MS = 150  # an answer later than this after pen-up is hidden until it comes
WARM_WITHIN_MS = 500  # the most a canvas not drawn on waits, after a run, for an idle page
# The widest window a max-width query counts as narrower than NARROW_PAGE, fractions included.
WIDEST_NARROW_PAGE = NARROW_PAGE - 0.02


def filled(name: str, **values: object) -> str:
    """A file of `tabs/static/` without its opening comment, which says what the file does and
    why for its readers alone, and with its `$placeholders` filled in (string.Template: a `$`
    of the file's own is written `$$`)."""
    _opening_comment, body = (STATIC / name).read_text(encoding="utf-8").split("*/\n", 1)
    return Template(body).substitute(values)


MODE_AREA_SELECTOR = ", ".join(f".st-key-{area}" for area in MODE_AREAS.values())
PAGE_STYLE = filled(
    "page.css",
    style_id=STYLE_ID,
    canvas_key=CANVAS_KEY,
    pick_key=PICK_KEY,
    confirm_key=CONFIRM_KEY,
    chart_key=PROBABILITY_CHART_KEY,
    preview_key=PREVIEW_KEY,
    metrics_slot=METRICS_SLOT,
    message_slot=MESSAGE_SLOT,
    memory_slot=MEMORY_SLOT,
    brush_popover=BRUSH_POPOVER_KEY,
    notice_slot=NOTICE_SLOT,
    upload_key=PHOTO_UPLOAD_KEY,
    photo_picture=PHOTO_PICTURE_KEY,
    photo_answer=PHOTO_ANSWER_KEY,
    photo_beside=PHOTO_BESIDE_KEY,
    photo_inputs=PHOTO_INPUTS_KEY,
    photo_result=PHOTO_RESULT_KEY,
    mode_areas=MODE_AREA_SELECTOR,
    meant_fields=", ".join(f".st-key-{key}" for key in MEANT_KEYS.values()),
    shown_mark=SHOWN_MARK,
    hidden_mark=HIDDEN_MARK,
    number_hint=NUMBER_HINT_KEY,
    widest_narrow_page=WIDEST_NARROW_PAGE,
    mode_key=MODE_KEY,
    focus_colour=charts.HIGHLIGHT,
    heat_maps=f'[class*="st-key-{HEAT_MAPS}_"]',
    subtitle_key=SUBTITLE_KEY,
    title_key=TITLE_KEY,
)
AT_ONCE_SCRIPT = filled("at_once.js", confirm_key=CONFIRM_KEY, pick_key=PICK_KEY)
CANVAS_SCRIPT = filled(
    "canvas.js",
    canvas_key=CANVAS_KEY,
    number_canvas_key=NUMBER_CANVAS_KEY,
    clear_label=CLEAR_TEXT,
    surface=SURFACE,
    focus_colour=charts.HIGHLIGHT,
    canvas_name=CANVAS_NAME,
    number_canvas_name=NUMBER_CANVAS_NAME,
    widest_narrow_page=WIDEST_NARROW_PAGE,
    mode_areas=MODE_AREA_SELECTOR,
    stale_after_ms=f"{STALE_AFTER_MS}ms",
    warm_within_ms=WARM_WITHIN_MS,
)
ANNOUNCER_SCRIPT = filled(
    "announcer.js",
    region_id=ANNOUNCER_ID,
    answer_labels=json.dumps([PREDICTION, CONFIDENCE]),
    blank=BLANK,
    quiet_ms=ANNOUNCE_AFTER_MS,
    longest_ms=ANNOUNCE_WITHIN_MS,
)
FOCUS_SCRIPT = filled(
    "focus.js",
    replaced_in=", ".join(f".st-key-{key}" for key in (DELETION_AREA, PHOTO_UPLOAD_KEY)),
    settle_ms=REFOCUS_AFTER_MS,
    every_ms=REFOCUS_EVERY_MS,
    within_ms=REFOCUS_WITHIN_MS,
)
TABLE_TEXT_SCRIPT = filled(
    "table_text.js",
    picture_name=PICTURE_CELL_NAME,
    quiet_ms=ANNOUNCE_AFTER_MS,
    longest_ms=ANNOUNCE_WITHIN_MS,
)
# The style first, then the scripts: all of it one element of the page (see webapp.main).
PAGE_HEAD = f'<style id="{STYLE_ID}">\n{PAGE_STYLE}</style>' + "".join(
    f"<script>\n{script}</script>"
    for script in (
        AT_ONCE_SCRIPT,
        CANVAS_SCRIPT,
        ANNOUNCER_SCRIPT,
        FOCUS_SCRIPT,
        TABLE_TEXT_SCRIPT,
    )
)
