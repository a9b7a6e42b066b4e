"""The Draw tab: a digit, a number or a photo read as it is drawn, and the feedback row."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from string import Template
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import streamlit as st
from PIL import Image, ImageColor, ImageDraw

import digit_model
from feedback.rate_limit import RateLimited
from feedback.store import (
    FeedbackError,
    LabelledDrawing,
    StorageUnavailable,
    too_many_strokes,
    too_many_strokes_message,
)
from preprocess import CANVAS_SIZE, FIELD, canvas_to_ink, enlarge, png_data_url
from reading import (
    MAY_NOT_BE_A_DIGIT,
    UNSURE_BELOW,
    WITHHELD,
    DigitReading,
    DrawingReading,
    HandwritingMemory,
    NumberReading,
    Withheld,
    explain,
    read_drawing,
    read_number,
    recall_number,
)
from reading.photo import FILE_EXTENSIONS, Photo, PhotoBusy, PhotoError, read_upload
from reading.segment import MARK_SYMBOLS
from tabs import charts
from tabs.common import open_feedback_store, save_limiter, session_id

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile
    from streamlit_drawable_canvas import CanvasResult

CANVAS_KEY = "digit_canvas"
NUMBER_CANVAS_KEY = "number_canvas"
NUMBER_HINT_KEY = "number_hint"  # the hint shown before a number is written
NUMBER_CANVAS_WIDTH = 700  # px; fills the page on a desktop and scrolls sideways on a phone
NARROW_PAGE = 740  # px of window below which the page's column is narrower than that canvas
ONE_DIGIT, A_NUMBER, A_PHOTO = "One digit", "A number", "A photo"
NumberArea = Literal["number", "photo"]  # where a number is read: on the wide canvas, or a photo
# Each area's field for the number meant, under the number read.
MEANT_KEYS: dict[NumberArea, str] = {area: f"meant_{area}" for area in get_args(NumberArea)}
MODE_PROMPT, MODE_KEY = "What to read", "read_mode"
# Each mode's place on the page. A mode once opened stays on the page, hidden while another
# is shown, so that a switch and back finds its drawing (or photo) and answer as they were:
# a canvas taken off the page would come back empty. The place on show holds the shown mark.
MODE_AREAS = {ONE_DIGIT: "one_digit_area", A_NUMBER: "number_area", A_PHOTO: "photo_area"}
SHOWN_MARK, HIDDEN_MARK = "mode-shown", "mode-hidden"
NUMBER_HINT = (
    "Write a number in the wide box, digits side by side with a little space between them; "
    "a minus sign and a decimal point or comma are read too."
)
# Said under it only where the strip shows: where the page is narrower than the box.
STRIP_HINT = "Swipe along the shaded strip under the box to reach the rest of it."
PHOTO_HINT = (
    "Upload a photo or scan of digits written on plain, lined or squared paper (or in chalk "
    "on a board): one line, filling most of the picture. PNG, JPEG or WebP. Digits in a form's "
    "printed boxes, or on a printed line, are often misread."
)
NO_HANDWRITING = (
    "No handwriting found in this picture. Try a closer photo with the digits large, dark "
    "and sharp, on plain paper."
)
PHOTO_HEIGHT = 360  # px; a tall photo is shown no taller than this
PHOTO_UPLOAD_KEY = "photo_upload"
PHOTO_PICTURE_KEY = "photo_picture"  # the picture as read, boxes drawn on it
PHOTO_RESULT_KEY = "photo_result"  # the picture and what was read on it...
PHOTO_ANSWER_KEY = "photo_answer"  # ...which goes first on a phone
PHOTO_READING_KEY = "photo_reading"  # (file id, what was read), so reruns do not read it again
WHY_TEXT = "Why this answer?"
HEAT_MAPS_KEPT = 256  # heat-maps kept for reruns, across visits: a few MB at most
WHY_HELP = (
    "Colour the strokes by how much they drove the answer: red the most, grey hardly at all. "
    "Each part of the drawing is hidden in turn and the model reads it again."
)
DIGIT_PREVIEW_SCALE = 4  # each digit of a number is shown 112 px square, side by side...
DIGIT_PREVIEW_SIDE = FIELD * DIGIT_PREVIEW_SCALE
DIGIT_GAP = 4  # ...in a margin of this many white pixels, so that neighbours stand apart
OUTLINE = ImageColor.getrgb(charts.HIGHLIGHT)  # around what is read on a photo
BRUSH_WIDTHS = (6, 40)  # px, the slider's range
DEFAULT_BRUSH = 18
BRUSH_KEY = "brush_width"
BRUSH_POPOVER_KEY = "brush_popover"
PREVIEW_SCALE = 6  # each of the 28x28 input pixels becomes a crisp 6x6 block
PREVIEW_SIDE = FIELD * PREVIEW_SCALE
DRAW_HINT = "Draw a digit from 0 to 9 in the box. The answer appears as soon as you lift the pen."
BLANK = "—"  # the answer's metrics before anything is drawn
LETTERS_NOT_READ = "Several pieces look like no digit: letters and words are not read, only digits."
PREDICTION, CONFIDENCE = "Prediction", "Confidence"  # the answer's metrics, by label
ANNOUNCER_ID = "digit-announcer"  # the status region a screen reader hears the answer from
ANNOUNCE_AFTER_MS = 150  # ...once the page has stopped changing for this long,
ANNOUNCE_WITHIN_MS = 1000  # ...or at the latest this long after it started changing
REFOCUS_AFTER_MS = 300  # a control that lost the focus to a run gets it back this much later,
REFOCUS_EVERY_MS = 100  # and again whenever the run's redrawing drops it,
REFOCUS_WITHIN_MS = 3000  # until this long after it was lost
TOO_SMALL, TOO_SMALL_HINT = "Too small", "Too small — draw the digit larger."
NOT_A_DIGIT, NOT_A_DIGIT_HINT = "Not a digit", "That doesn't look like a digit."
WITHHELD_WORDS: dict[Withheld, tuple[str, str]] = {  # why a digit is withheld, short and in full
    "too small": (TOO_SMALL, TOO_SMALL_HINT),
    "not a digit": (NOT_A_DIGIT, NOT_A_DIGIT_HINT),
}
DOUBTFUL_HINT = "Not sure this is a digit at all."
SEVERAL_DIGITS = (
    "This looks like more than one digit: **{number}**. "
    f"To read a whole number, choose **{A_NUMBER}** above."
)
MAYBE_NO_DIGIT = "maybe no digit"  # under the digit read, when the verdict doubts it...
IF_A_DIGIT = "if it is a digit"  # ...and under its confidence, which assumes it is one
CLEAR_TEXT = "Clear"  # the canvas control that empties the canvas, and with it the answer
SURFACE = "canvas.upper-canvas"  # a canvas's drawing surface: Fabric's top layer
# What a screen reader calls each canvas's drawing surface.
CANVAS_NAME = "Canvas: draw one digit here with the mouse, a finger or a pen"
NUMBER_CANVAS_NAME = "Wide canvas: write a number here, digits side by side"
PROBABILITY_CHART_KEY = "probability_chart"
CONFIRM_TEXT = "✓ Correct"
PICK_PROMPT = "Wrong? Pick the digit you meant"
CHANGE_HINT = "Pick another digit to change it."
UNAVAILABLE = "Saving is unavailable right now"
NUMBER_MEANT_PROMPT = "Wrong? Type the number you meant"
SAVE_NUMBER_TEXT = "Save"
MARKS_NOT_SAVED = "Only the digits are saved: points, commas and minus signs are read, not learnt."
NUMBER_MEANT_HELP = (
    "Its digits in order, one for each piece read (points, commas and a minus may be left "
    "out; ? leaves a piece as it is: unlabelled, or with the digit given to it before). Each "
    "digit is saved with its piece of the writing, as a label to train the model with, and "
    "learnt as an example of your handwriting."
)
FORGET_TEXT = "Forget them"
FORGET_HELP = "Read your next drawings with the model alone. Your saved labels stay saved."
# Keyed boxes that hold their height whether or not anything shows in them, so that a stroke
# or a click never moves what lies below: the answer with or without its word of doubt, the
# hint or a warning under it, the line about your examples, and what a click on the feedback
# row came to.
METRICS_SLOT, MESSAGE_SLOT = "answer_metrics", "answer_message"
MEMORY_SLOT, NOTICE_SLOT = "memory_line", "feedback_notice_slot"

# Session state: who this visit is, and what its clicks on the feedback row came to.
SAVED_KEY = "saved_labels"  # drawing key -> the digit saved for it
NOTICE_KEY = "feedback_notice"  # the outcome of the last click, shown under its drawing
CONFIRM_KEY, PICK_KEY = "confirm", "true_digit"  # the feedback row's widgets
SAVED_NUMBERS_KEY = "saved_numbers"  # number key -> the digit saved for each piece, or None
NUMBER_NOTICE_KEY = "number_notice"  # area -> what the last save of its number came to
NUMBER_SHOWN_KEY = "number_shown"  # area -> the key of the number its feedback row is for
MEMORY_KEY = "handwriting_memory"  # the visit's examples of the person's handwriting
CANVAS_SEEN_KEY = "canvas_seen"  # the drawing fragment has run in this session
OPENED_KEY = "opened_modes"  # the modes opened in this visit, kept on the page
# Settings kept for the whole visit. A widget that is not built in a run (the brush in photo
# mode, a toggle under an answer that is gone) loses its value; these keys keep it.
BRUSH_SETTING = "brush_setting"
WHY_SETTING = "why_setting"

# The canvas waits 200 ms after the pen is lifted before it sends the drawing, to batch quick
# edits; that alone would double the time to the answer. When a stroke ends on the drawing
# surface, this asks it to send at once through its own "Update the app" toolbar button (after
# the canvas has finished the stroke).
# The canvas's toolbar shows only while a mouse hovers over it, small, and floats over what
# lies above the canvas: a finger never sees it. This gives every canvas a row of controls
# under it instead: Undo, Redo and Clear, each named in words and large enough for a finger,
# always shown. It drops the toolbar's other buttons (sending, which the pen-up does, and
# editing strokes, which a digit does not need). The canvas keeps its styles in a shadow root,
# so the rules are adopted there, as the root is made: before anything shows in it. The canvas
# shows its layers before its own stylesheet has loaded, and until then its background layer
# would push the drawing surface down by the canvas's height, to jump back up a moment later;
# the rules also lay that layer out. A control's focus ring is a shadow, which a high-contrast
# mode drops: an outline, transparent but there, shows in its place. A touch screen keeps a
# control tapped "hovered" until something else is tapped: there a control is shaded only
# while pressed.
# On a phone the wide canvas's box scrolls sideways, but a finger on the canvas draws: a
# shaded strip along the bottom of the box, which is no canvas, takes a swipe and scrolls it.
# Clear scrolls it back to its left edge, where the next number starts. Swiped on to the
# right from that edge, the browser would take the swipe for "back" and leave the page, and
# the number with it: such a swipe (of one finger: two may pinch to zoom) is held there.
# If the component's markup ever changes, the page falls back to the canvas's own delay and
# toolbar. (A Template: a `$` of the script's own is written `$$`.)
CANVAS_SCRIPT = Template(
    """<script>
(() => {
  if (window.digitCanvasControls) return;
  window.digitCanvasControls = true;
  const canvases = ".st-key-$canvas_key, .st-key-$number_canvas_key";
  const controls = new CSSStyleSheet();
  controls.replaceSync(`
    .dc-container { position: relative; }
    .dc-background-canvas { position: absolute; top: 0; left: 0; }
    .dc-root > .dc-toolbar {
      position: static; opacity: 1; padding: 0.5rem 0 0; transition: none;
    }
    .dc-toolbar-card { background: none; box-shadow: none; padding: 0; gap: 0.5rem; }
    .dc-icon-button {
      min-width: 2.75rem; min-height: 2.75rem; gap: 0.375rem; padding: 0 0.875rem;
      border: 1px solid var(--st-border-color, #d5dae5); font: inherit; font-size: 0.9375rem;
      color: var(--st-text-color, #31333f); touch-action: manipulation;
    }
    .dc-icon-button svg { width: 1.125rem; height: 1.125rem; }
    .dc-icon-button:focus-visible {
      outline: 2px solid transparent;
      box-shadow: 0 0 0 0.2rem
        color-mix(in srgb, var(--st-primary-color, $focus_colour) 50%, transparent);
    }
    .dc-icon-button::after { content: attr(aria-label); }
    @media (hover: none) {
      .dc-icon-button:hover:not(:disabled, :active) { background: none; }
    }
    .dc-toolbar-separator, .dc-toolbar-contextual,
    button[aria-label="Update the app with this drawing"], button[aria-label="Edit"] {
      display: none !important;
    }
  `);
  const swipeStrip = new CSSStyleSheet();
  swipeStrip.replaceSync(`
    @media (max-width: ${narrow_page}px) {
      .dc-scroll {
        padding-bottom: 2.25rem;
        background: linear-gradient(to top,
          color-mix(in srgb, var(--st-text-color, #31333f) 10%, transparent) 2.25rem,
          transparent 2.25rem);
      }
    }
  `);
  const name = (root) => {
    const clear = root.querySelector('button[aria-label="Reset canvas & history"]');
    clear?.setAttribute("aria-label", "$clear_label");
    if (clear) clear.title = "Clear the drawing";
    const surface = root.querySelector("$surface");
    if (surface && !surface.hasAttribute("aria-label")) {
      const wide = root.host.closest(".st-key-$number_canvas_key");
      surface.setAttribute("role", "img");
      surface.setAttribute("aria-label", wide ? "$number_canvas_name" : "$canvas_name");
    }
  };
  const equip = (root) => {
    if (root.adoptedStyleSheets.includes(controls)) return;
    const wide = root.host.closest(".st-key-$number_canvas_key");
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, controls, ...(wide ? [swipeStrip] : [])];
    name(root);
    new MutationObserver(() => name(root)).observe(root, {childList: true, subtree: true});
    if (!wide) return;
    root.addEventListener("click", (event) => {
      if (event.target.closest?.('button[aria-label="$clear_label"]')) {
        root.querySelector(".dc-scroll")?.scrollTo({left: 0});
      }
    });
    let start = null;  // the finger of a one-finger swipe; none while two pinch or rest
    root.addEventListener("touchstart", (event) => {
      start = event.touches.length === 1 ? event.touches[0] : null;
    }, {passive: true});
    root.addEventListener("touchmove", (event) => {
      if (!start || event.touches.length !== 1) return;
      const box = root.querySelector(".dc-scroll"), touch = event.touches[0];
      const [right, down] = [touch.clientX - start.clientX, touch.clientY - start.clientY];
      const onward = right > Math.abs(down) && box?.scrollLeft <= 0;
      if (onward && event.cancelable) event.preventDefault();
    }, {passive: false});
  };
  for (const area of document.querySelectorAll(canvases)) {
    for (const host of area.querySelectorAll("*")) if (host.shadowRoot) equip(host.shadowRoot);
  }
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (...options) {
    const root = attachShadow.apply(this, options);
    if (this.closest(canvases)) equip(root);
    return root;
  };
  document.addEventListener("pointerup", (event) => {
    const surface = event.composedPath().find((node) => node.matches?.("$surface"));
    const host = surface?.getRootNode().host;
    if (!host?.closest(canvases)) return;
    setTimeout(() => host.shadowRoot
      .querySelector('button[aria-label="Update the app with this drawing"]')?.click());
  }, true);
})();
</script>"""
).substitute(
    canvas_key=CANVAS_KEY,
    number_canvas_key=NUMBER_CANVAS_KEY,
    clear_label=CLEAR_TEXT,
    surface=SURFACE,
    focus_colour=charts.HIGHLIGHT,
    canvas_name=CANVAS_NAME,
    number_canvas_name=NUMBER_CANVAS_NAME,
    narrow_page=NARROW_PAGE,
)


# A screen reader hears each new answer, and each notice ("Saved: a 7."), from a status
# region of the page's own, out of sight: Streamlit's metrics and toasts are not live
# regions, and one made live only once it shows would miss its first answer. Once the page
# has stopped changing for a moment (a run updates it piece by piece, and a half-updated
# answer is not worth saying), or at the latest a second after it started, the region says
# what is new: the answer on show (its Prediction and Confidence, with the words under
# them; a blank "—" is left unsaid), and any notice that came since. A blank answer empties
# the region, so that the next answer, the same as the last or not, is said.
ANNOUNCER_SCRIPT = Template(
    """<script>
(() => {
  if (window.digitAnnouncer) return;
  window.digitAnnouncer = true;
  const region = document.createElement("div");
  region.id = "$region_id";
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  region.setAttribute("aria-atomic", "true");
  region.style.cssText =
    "position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);";
  document.body.append(region);
  const text = (element, part) =>
    element.querySelector(`[data-testid="$${part}"]`)?.innerText.trim() ?? "";
  const noticed = new WeakSet();
  let answer = "";
  const announce = () => {
    const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')]
      .filter((metric) => metric.getClientRects().length > 0)
      .map((metric) => ({
        label: text(metric, "stMetricLabel"),
        value: text(metric, "stMetricValue"),
        words: text(metric, "stMetricDelta"),
      }))
      .filter(({label, value}) => $answer_labels.includes(label) && value !== "$blank");
    const shown = metrics.length
      ? metrics.map((metric) => Object.values(metric).filter(Boolean).join(" ")).join(", ") + "."
      : "";
    const said = shown && shown !== answer ? [shown] : [];
    if (!shown && answer) region.textContent = "";
    answer = shown;
    for (const notice of document.querySelectorAll('[data-testid="stToast"]')) {
      if (noticed.has(notice)) continue;
      noticed.add(notice);
      said.push(text(notice, "stMarkdownContainer"));
    }
    const words = said.filter(Boolean).join(" ");
    if (words) region.textContent = words;
  };
  let pending = null, waitingSince = 0;
  const announceNow = () => {
    waitingSince = 0;
    announce();
  };
  new MutationObserver(() => {
    clearTimeout(pending);
    waitingSince ||= performance.now();
    if (performance.now() - waitingSince >= $longest_ms) announceNow();
    else pending = setTimeout(announceNow, $quiet_ms);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
})();
</script>"""
).substitute(
    region_id=ANNOUNCER_ID,
    answer_labels=json.dumps([PREDICTION, CONFIDENCE]),
    blank=BLANK,
    quiet_ms=ANNOUNCE_AFTER_MS,
    longest_ms=ANNOUNCE_WITHIN_MS,
)


# A control that loses the keyboard's focus because a run disabled it (✓ Correct once
# saved, Undo with nothing left to undo) would leave the focus on the page itself, and the
# next Tab at its top. Once the page settles, the focus goes back to the control if it is
# usable again, else to the next usable one after it (the digits after ✓ Correct, Redo
# after Undo), without scrolling; in a group of choices, to the one chosen (the digit just
# saved), as Tab into the group would. A field that the page itself lets go of (Streamlit's
# form does once Enter saves a number, and draws the field anew) gets the focus back, as a
# save by its button keeps it there; not on a touch screen, where the focus would bring the
# keyboard up again. For 3 s the focus is put back each time a slow run's redrawing drops
# it again. Tab or Escape, a click or a key press since, or focus the person moved on, is
# left alone.
FOCUS_SCRIPT = Template(
    """<script>
(() => {
  if (window.digitFocusKept) return;
  window.digitFocusKept = true;
  const focusable =
    ':is(button, input, textarea, select, a[href], [tabindex]):not([tabindex="-1"])';
  const usable = (element) =>
    element.isConnected && !element.disabled && element.getClientRects().length > 0;
  const after = (control) => {
    for (let root = control.getRootNode(), from = control; ;
         from = root.host, root = root.host.getRootNode()) {
      const next = [...root.querySelectorAll(focusable)].find((element) =>
        from.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING
        && !from.contains(element) && usable(element));
      if (next || !root.host) return next;
    }
  };
  // Streamlit may draw a widget anew after a run: the control of the same kind, name and
  // text under the same key stands in for it.
  const standIn = (control) => {
    const keyed = control.closest('[class^="st-key-"], [class*=" st-key-"]');
    const key = [...(keyed?.classList ?? [])]
      .find((name) => name.startsWith("st-key-"));
    const kind = (element) =>
      [element.tagName, element.getAttribute("aria-label"), element.textContent].join("|");
    const wanted = kind(control);
    return () => key && [...document.querySelectorAll(`.$${CSS.escape(key)} $${focusable}`)]
      .find((element) => kind(element) === wanted);
  };
  const chosenIn = (control) => {
    const chosen = control?.closest('[role="radiogroup"]')
      ?.querySelector('[role="radio"][aria-checked="true"]');
    return chosen && usable(chosen) ? chosen : control;
  };
  let pressed = false;  // the person's last act was a key press other than Tab or Escape
  let acts = 0;  // the person's key and pointer presses so far
  document.addEventListener("keydown", (event) => {
    pressed = !["Tab", "Escape"].includes(event.key);
    acts += 1;
  }, true);
  document.addEventListener("pointerdown", () => {
    pressed = false;
    acts += 1;
  }, true);
  const touch = matchMedia("(pointer: coarse)");
  document.addEventListener("focusout", (event) => {
    const control = event.composedPath()[0];
    if (event.relatedTarget || !(control instanceof Element)) return;
    const letGo = pressed && !touch.matches;  // by the page, after the person's key press
    if (usable(control) && !letGo) return;
    const drawnAnew = letGo ? standIn(control) : () => null;
    const [actsThen, until] = [acts, performance.now() + $within_ms];
    const restore = () => {
      if (acts !== actsThen || performance.now() > until || !document.hasFocus()) return;
      if (document.activeElement === document.body) {
        const again = control.isConnected ? control : drawnAnew();
        const target = !again ? null : usable(again) ? again : chosenIn(after(again));
        target?.focus({preventScroll: true});
      }
      setTimeout(restore, $every_ms);
    };
    setTimeout(restore, $settle_ms);
  }, true);
})();
</script>"""
).substitute(settle_ms=REFOCUS_AFTER_MS, every_ms=REFOCUS_EVERY_MS, within_ms=REFOCUS_WITHIN_MS)


# Ten digits side by side fit the answer column, and a phone screen, once the pills' side
# padding is narrowed; otherwise the last ones would scroll out of sight. They share the
# column's width and are as tall as the canvas's buttons, for a finger to hit the digit it
# means. The probability chart's hover toolbar would sit over the last digits and take their
# clicks: it is hidden. The answer is as wide as "Not a digit" whatever it says, so that
# the confidence beside it stays where it is from one stroke to the next. On a touch screen
# every button with a name in words is at least 44 px tall, a finger's size, as the
# canvas's controls are (not the toolbars' icons, nor the link-like "Forget them").
# On a phone the title takes less height and the brush's button shows only its icon (its name
# stays for screen readers), beside the mode instead of on a row of its own, so that the
# canvas, the answer and the start of what is said of it fit the screen together. A mode's
# place not on show is hidden, and so is the box Streamlit lays it out in, which would keep
# its gap. The element that carries this style and the canvas script takes no room, nor do
# the marks. A file the photo uploader refuses shows Streamlit's reason on its chip: by
# itself Streamlit hides it behind an icon, where a finger cannot hover to read it. A photo
# is outlined, so that a white scan shows where it ends on the white page. On a
# phone a notice ("Saved: a 7.") lies across the page's top for a few seconds, often over
# the canvas: touches pass through it but for its buttons (close, view more), so that the
# next digit's first stroke is not lost. On a touch screen a table's toolbar shows all the
# time, above the table, over the end of whatever lies above it: the table leaves it room.
# The field for a number meant has its Save button beside it: Streamlit's "Press Enter to
# submit form" inside it, which a long number would run under, is left out. The number
# hint's word on the swipe strip shows only where the strip does. A high-contrast mode
# (forced colours) drops the backgrounds by which Streamlit shows what is chosen (the digit
# picked, the mode, the tab), the toggle's knob and track, and the shadow that rings the
# control the keyboard is on: they are drawn in the system's own colours instead.
PAGE_STYLE = Template("""<style id="$style_id">
[data-testid="stElementContainer"]:has(#$style_id) { display: none; }
.st-key-$pick_key button[data-variant="pills"] {
  min-width: 1.625rem;
  min-height: 2.75rem;
  padding-left: 0.4rem;
  padding-right: 0.4rem;
}
.st-key-$chart_key [data-testid="stElementToolbar"] {
  display: none;
}
.st-key-$metrics_slot { min-height: 6.5rem; }
.st-key-$metrics_slot > :first-child { flex: 0 0 min(13rem, 100% - 5.5rem); }
.st-key-$message_slot { min-height: 6.5rem; }
.st-key-$memory_slot { min-height: 2.5rem; }
.st-key-$notice_slot { min-height: 2.75rem; }
:is($mode_areas):not(:has(.$shown_mark)),
[data-testid="stLayoutWrapper"]:has(> :is($mode_areas)):not(:has(.$shown_mark)) {
  display: none;
}
[data-testid="stElementContainer"]:has(.$shown_mark, .$hidden_mark) { display: none; }
.st-key-$photo_picture img {
  outline: 1px solid rgba(49, 51, 63, 0.2);
}
.st-key-$upload_key [data-testid="stFileChip"]:has([role="alert"]) {
  flex-wrap: wrap;
  row-gap: 0.25rem;
}
.st-key-$upload_key [data-testid="stFileChip"] [role="alert"] {
  position: static;
  flex-basis: 100%;
  width: auto;
  height: auto;
  margin: 0;
  clip: auto;
  overflow: visible;
  white-space: normal;
  font-size: 0.875rem;
}
:is($meant_fields) [data-testid="InputInstructions"] {
  display: none;
}
.st-key-$number_hint p + p { display: none; }
@media (max-width: ${narrow_page}px) {
  .st-key-$number_hint p + p { display: block; }
}
@media (forced-colors: active) {
  :focus-visible {
    outline: 2px solid Highlight !important;
    outline-offset: 2px;
  }
  [role="radio"][aria-checked="true"] {
    forced-color-adjust: none;
    background: Highlight !important;
    color: HighlightText !important;
  }
  [role="tab"][aria-selected="true"] {
    border-bottom: 0.25rem solid Highlight;
  }
  [data-testid="stCheckbox"]:has([role="switch"]) label > span + div {
    border: 1px solid CanvasText;
  }
  [data-testid="stCheckbox"]:has([role="switch"]) label > span + div > div {
    forced-color-adjust: none;
    background: CanvasText;
  }
  [data-testid="stCheckbox"]:has([role="switch"]:checked) label > span + div {
    forced-color-adjust: none;
    background: Highlight;
  }
  [data-testid="stCheckbox"]:has([role="switch"]:checked) label > span + div > div {
    background: HighlightText;
  }
}
@media (hover: none) {
  [data-testid="stElementContainer"]:has(> * > [data-testid="stDataFrame"]) {
    margin-top: 1.75rem;
  }
}
@media (pointer: coarse) {
  :is(
    [data-testid="stBaseButton-primary"],
    [data-testid="stBaseButton-secondary"],
    [data-testid="stBaseButton-secondaryFormSubmit"],
    [data-testid="stPopoverButton"]
  ) {
    min-height: 2.75rem;
  }
}
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] {
    padding-top: 3.5rem;
  }
  [data-testid="stHeading"] h1 {
    font-size: 1.75rem;
    padding-bottom: 0;
  }
  .st-key-$brush_popover [data-testid="stMarkdownContainer"] {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  [data-testid="stToastContainer"] {
    pointer-events: none;
  }
  [data-testid="stToastContainer"] button {
    pointer-events: auto;
  }
  .st-key-$photo_result :is([data-testid="stColumn"], [data-testid="stLayoutWrapper"]):has(
    .st-key-$photo_answer
  ) {
    order: -1;
  }
}
</style>""").substitute(
    style_id="digit-page-style",
    pick_key=PICK_KEY,
    chart_key=PROBABILITY_CHART_KEY,
    metrics_slot=METRICS_SLOT,
    message_slot=MESSAGE_SLOT,
    memory_slot=MEMORY_SLOT,
    brush_popover=BRUSH_POPOVER_KEY,
    notice_slot=NOTICE_SLOT,
    upload_key=PHOTO_UPLOAD_KEY,
    photo_picture=PHOTO_PICTURE_KEY,
    photo_answer=PHOTO_ANSWER_KEY,
    photo_result=PHOTO_RESULT_KEY,
    mode_areas=", ".join(f".st-key-{area}" for area in MODE_AREAS.values()),
    meant_fields=", ".join(f".st-key-{key}" for key in MEANT_KEYS.values()),
    shown_mark=SHOWN_MARK,
    hidden_mark=HIDDEN_MARK,
    number_hint=NUMBER_HINT_KEY,
    narrow_page=NARROW_PAGE,
)


class Outcome(enum.Enum):
    """What a click on the feedback row can come to."""

    SAVED = "saved"
    ALREADY_SAVED = "already saved"
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"


TOAST_ICONS = {Outcome.SAVED: ":material/check_circle:", Outcome.ALREADY_SAVED: ":material/info:"}
# A number's field may be at the screen's edge, its row's notices below it: all are toasted.
NUMBER_TOAST_ICONS = TOAST_ICONS | {
    Outcome.UNAVAILABLE: ":material/cloud_off:",
    Outcome.REFUSED: ":material/block:",
}


@dataclass(frozen=True)
class Notice:
    """What a click on a feedback row came to, for the drawing (or number, by `number_key`) it
    was about; `fresh` until the run right after the click has shown it as a toast."""

    drawing_key: str
    outcome: Outcome
    message: str
    fresh: bool = True
    aside: str | None = None  # said after the message, and under the row while it shows


def a_digit(digit: int, bold: bool = False) -> str:
    """A digit with its article, as said aloud: "a 3", but "an 8"."""
    shown = f"**{digit}**" if bold else str(digit)
    return f"{'an' if digit == 8 else 'a'} {shown}"


def store_label(
    reading: DigitReading,
    true_digit: int,
    strokes: dict | None,
    saved_at: datetime,
) -> None:
    """Save the digit meant for one reading, with what the page answered, within the save
    limits; StorageUnavailable, FeedbackError or RateLimited when it is not saved. The digits
    of one number share `saved_at`, so that History lists them together, in order."""
    label = LabelledDrawing(
        session_id=session_id(),
        predicted_digit=reading.digit,
        confidence=reading.confidence,
        true_digit=true_digit,
        image=reading.image,
        strokes=strokes,
        refused=unreadable(reading) is not None,
        created_at=saved_at,
    )
    save_limiter().admit(label.session_id)
    open_feedback_store().save(label)


def save_label(reading: DrawingReading, strokes: dict | None, true_digit: int | None) -> None:
    """Store the digit meant for this drawing, or change the one stored for it (a mis-tap);
    runs on a click, before the rerun."""
    if true_digit is None:  # the picked digit clicked again, which unselects it: it stays
        return
    key = reading.drawing_key
    saved = st.session_state.setdefault(SAVED_KEY, {})
    changing = key in saved
    if saved.get(key) == true_digit:  # clicked twice before the rerun showed it saved
        notice = Notice(key, Outcome.ALREADY_SAVED, f"Already saved as {a_digit(true_digit)}.")
    else:
        try:
            store_label(reading, true_digit, strokes, datetime.now(UTC))
        except StorageUnavailable as error:
            notice = Notice(key, Outcome.UNAVAILABLE, str(error))
        except (FeedbackError, RateLimited) as error:
            notice = Notice(key, Outcome.REFUSED, str(error))
        else:
            done = "Changed to" if changing else "Saved:"
            notice = Notice(key, Outcome.SAVED, f"{done} {a_digit(true_digit)}.")
            saved[key] = true_digit
    # The memory learns a first label whether or not the database keeps it, and a change once
    # it is kept: it reads the drawing as the digit the page says it is saved as.
    if not changing or notice.outcome is Outcome.SAVED:
        handwriting_memory().add(reading, true_digit)
    st.session_state[NOTICE_KEY] = notice


RECONNECTED = (
    "Reconnected: the server you were on went away and another one took over. Your drawing "
    "was read again, and the labels you saved are kept."
)


def took_over(reading: DrawingReading | None, strokes: dict | None) -> None:
    """On a session's first run, a drawing already on the canvas means the browser reconnected
    to a server that had never seen it (the one it was on went away): say so, and look up
    once whether the drawing was saved there, so that the row shows it saved."""
    if CANVAS_SEEN_KEY in st.session_state:
        return
    st.session_state[CANVAS_SEEN_KEY] = True
    if reading is None:
        return
    st.toast(RECONNECTED, icon=":material/sync:")
    try:
        digit = open_feedback_store().saved_digit(session_id(), reading.image, strokes)
    except (StorageUnavailable, FeedbackError):
        return  # saving it again is still stored once
    if digit is not None:
        st.session_state.setdefault(SAVED_KEY, {})[reading.drawing_key] = digit


def handwriting_memory() -> HandwritingMemory:
    """This visit's examples of the person's handwriting: in the session only, never stored."""
    return st.session_state.setdefault(MEMORY_KEY, HandwritingMemory())


def backed_by_own_label(reading: DigitReading, label: int | None) -> bool:
    """Whether the one example that backs this reading is its own label: the drawing itself,
    kept as the digit read."""
    return (
        reading.examples == 1
        and label == reading.digit
        and handwriting_memory().holds(reading, label)
    )


def memory_line(reading: DigitReading | None, meant: int | None) -> None:
    """Say when the person's examples changed, backed or doubted the answer, with a click to
    forget them. Once the drawing is labelled (`meant`), its own label is one of them: the
    only one, it is called their label; a doubt it brings is said by "you meant" already."""
    with st.container(key=MEMORY_SLOT, horizontal=True, vertical_alignment="center"):
        if reading is not None and reading.examples:
            said = f"Read with {reading.examples} of your examples."
            examples_line(
                "Read with your label." if backed_by_own_label(reading, meant) else said,
                "forget_examples",
            )
        elif reading is not None and reading.examples_against and meant is None:
            examples_line(examples_against_said(reading.examples_against), "forget_examples")
        else:
            st.empty()  # an empty box is not drawn at all; this keeps it, and its height


def and_list(words: Sequence[str]) -> str:
    """Words joined as a sentence lists them: "a 1, a 4 and an 8"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def ordinal(position: int) -> str:
    """A position as a person counts it: 1st, 2nd, 3rd, 4th, ..., 11th, ..., 21st."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(position % 10, "th")
    return f"{position}{'th' if position % 100 in (11, 12, 13) else suffix}"


def examples_named(digits: tuple[int, ...]) -> str:
    """The person's examples, named by their digits: "2 of your examples of a 1"."""
    named = [a_digit(digit) for digit in sorted(set(digits))]
    if len(named) > 1:
        return f"your examples of {and_list(named)}"
    if len(digits) == 1:
        return f"your example of {named[0]}"
    return f"{len(digits)} of your examples of {named[0]}"


def examples_against_said(digits: tuple[int, ...]) -> str:
    """Why the answer is less sure: examples of other digits (theirs, by digit) look like it."""
    return f"Less sure: it looks like {examples_named(digits)}."


def pieces_against_said(against: Sequence[tuple[int, tuple[int, ...]]]) -> str:
    """Which of a number's digits (position, counted from 1) look like which examples."""
    (first, first_digits), *rest = against
    said = [f"the {ordinal(first)} digit looks like {examples_named(first_digits)}"]
    said += [f"the {ordinal(position)} like {examples_named(digits)}" for position, digits in rest]
    return f"Less sure: {and_list(said)}."


def examples_line(said: str, key: str) -> None:
    """What the person's examples did to the answer, and a click to forget them all."""
    st.caption(said)
    st.button(
        FORGET_TEXT,
        key=key,
        type="tertiary",
        on_click=handwriting_memory().forget,
        help=FORGET_HELP,
    )


def save_picked_digit(reading: DrawingReading, strokes: dict | None) -> None:
    """Store the digit just picked for this drawing."""
    save_label(reading, strokes, st.session_state.get(PICK_KEY))


def feedback_row(reading: DrawingReading | None, strokes: dict | None) -> None:
    """One click to confirm the answer or give the right digit, and another to change a
    mis-tapped digit; no database work until then.

    Before anything is drawn the row is there, disabled. It is one row for every drawing, so
    that a stroke updates it in place; a new drawing starts the picker at the digit saved for
    that drawing, if any (undo can bring back a drawing already labelled).
    """
    saved = st.session_state.get(SAVED_KEY, {})
    # The picker shows the digit saved for this drawing, or none: a click that could not be
    # saved does not stay selected.
    st.session_state[PICK_KEY] = None if reading is None else saved.get(reading.drawing_key)
    if reading is None:
        st.button(CONFIRM_TEXT, key=CONFIRM_KEY, disabled=True)
        st.pills(PICK_PROMPT, range(10), key=PICK_KEY, disabled=True, width="stretch")
        with st.container(key=NOTICE_SLOT):  # its place, for the line a click brings
            st.empty()
        return
    if too_many_strokes(strokes):
        st.warning(too_many_strokes_message(len(strokes["objects"])), icon="🧹")
        return
    key = reading.drawing_key
    is_saved = key in saved
    # Digits side by side are not confirmed as the one digit read: a 37 saved as a 3 would
    # be a wrong label. A digit picked below still saves it, for a drawing that is one digit.
    st.button(
        CONFIRM_TEXT,
        key=CONFIRM_KEY,
        on_click=save_label,
        args=(reading, strokes, reading.digit),
        disabled=is_saved or unreadable(reading) is not None or reading.several_digits is not None,
        help=(
            f"The answer {reading.digit} is right: save this drawing with it."
            if reading.several_digits is None
            else "This looks like more than one digit: pick the digit you meant, if it is one."
        ),
    )
    st.pills(
        PICK_PROMPT,
        range(10),
        key=PICK_KEY,
        on_change=save_picked_digit,
        args=(reading, strokes),
        width="stretch",
    )
    notice = st.session_state.get(NOTICE_KEY)
    if notice is None or notice.drawing_key != key:
        notice = None
    elif notice.fresh:
        st.session_state[NOTICE_KEY] = replace(notice, fresh=False)
        if notice.outcome in TOAST_ICONS:
            st.toast(notice.message, icon=TOAST_ICONS[notice.outcome])
    outcome = notice.outcome if notice else None
    with st.container(key=NOTICE_SLOT):
        if outcome is Outcome.UNAVAILABLE:
            still = f", and the drawing is still saved as {a_digit(saved[key])}" if is_saved else ""
            st.warning(
                f"**{UNAVAILABLE}**, so this label was not kept{still}; reading your drawings "
                "goes on. Try again in a moment.",
                icon="💾",
            )
        elif outcome is Outcome.REFUSED:
            st.error(notice.message, icon="🚫")
        elif is_saved:
            st.caption(f"✓ Saved as {a_digit(saved[key])}. {CHANGE_HINT}")
        else:
            st.empty()


def read_as(reading: DigitReading) -> str:
    """What a screen reader says of a 28x28 input shown: what it was read as."""
    return f"The 28x28 input, read as {reading.withheld or reading.digit}"


def unreadable(reading: DigitReading) -> tuple[str, str] | None:
    """Why a drawing is not read as a digit, short and in full; None when it is read."""
    return None if reading.withheld is None else WITHHELD_WORDS[reading.withheld]


def answer_doubt(reading: DrawingReading) -> str | None:
    """A few words under the answer when the drawing looks like a number, or the model doubts
    the digit it read, so that it shows beside the answer even where the message that
    explains it is out of sight."""
    if reading.several_digits is not None:
        return f"or {reading.several_digits}?"
    if reading.withheld is not None:
        return None
    if reading.doubtful:
        return MAYBE_NO_DIGIT
    if reading.confidence < UNSURE_BELOW:
        return f"or {a_digit(reading.top_two[1])}?"
    return None


def answer_section(reading: DrawingReading | None, strokes: dict | None = None) -> None:
    """The answer and its confidence, the feedback row, the ten probabilities, the model's view.

    All of it is on the page, blank, before the first stroke: a stroke fills in what is there
    instead of adding it, so the first answer shows as quickly as the rest and nothing jumps.
    """
    verdict = None if reading is None else unreadable(reading)
    # Once labelled, the person has said what it is: no doubt or advice to pick one any more,
    # and the digit meant under the answer, where the answer is another.
    meant = (
        None if reading is None else st.session_state.get(SAVED_KEY, {}).get(reading.drawing_key)
    )
    labelled = meant is not None
    with st.container(horizontal=True, key=METRICS_SLOT):
        if reading is None:
            st.metric(PREDICTION, BLANK)
            st.metric(CONFIDENCE, BLANK)
        else:
            answer = reading.digit if verdict is None else verdict[0]
            confidence = f"{reading.confidence:.0%}" if verdict is None else BLANK
            if labelled:
                told = None if meant == answer else f"you meant {a_digit(meant)}"
                st.metric(PREDICTION, answer, told, "blue", delta_arrow="off")
                st.metric(CONFIDENCE, confidence)
            else:
                doubt = answer_doubt(reading)
                assumed = IF_A_DIGIT if doubt == MAYBE_NO_DIGIT else None
                st.metric(PREDICTION, answer, doubt, "orange", delta_arrow="off")
                st.metric(CONFIDENCE, confidence, assumed, "gray", delta_arrow="off")
    with st.container(key=MESSAGE_SLOT):
        if reading is None:
            st.caption(DRAW_HINT)
        elif labelled:
            st.empty()
        elif reading.several_digits is not None:
            st.info(SEVERAL_DIGITS.format(number=reading.several_digits), icon="🔢")
        elif verdict is not None:
            st.warning(
                f"{verdict[1]} If it is a digit, pick the one you meant below; the chart shows "
                "what the model made of it.",
                icon="🔍",
            )
        elif reading.doubtful:
            st.warning(
                f"{DOUBTFUL_HINT} If it is one, it looks most like "
                f"{a_digit(reading.digit, bold=True)}: confirm it, or pick the digit you meant "
                "below.",
                icon="🤔",
            )
        elif reading.confidence < UNSURE_BELOW:
            first, second = reading.top_two
            st.warning(
                f"Not sure: this looks like {a_digit(first, bold=True)} "
                f"({reading.probabilities[first]:.0%}) "
                f"or {a_digit(second, bold=True)} ({reading.probabilities[second]:.0%}). "
                "Draw it again more clearly, or pick the digit you meant below.",
                icon="🤔",
            )
        else:
            st.empty()
    memory_line(reading, meant)
    feedback_row(reading, strokes)
    probabilities = np.zeros(10) if reading is None else reading.probabilities
    with st.container(key=PROBABILITY_CHART_KEY):
        st.vega_lite_chart(
            spec=charts.probability_chart(probabilities), width="stretch", height=190
        )
    view = enlarge(np.zeros((FIELD, FIELD)) if reading is None else reading.image, PREVIEW_SIDE)
    st.image(
        png_data_url(view),
        caption="What the model sees: the 28x28 input, centred like MNIST",
        width=PREVIEW_SIDE,
        alt="" if reading is None else read_as(reading),
    )


def drawing_canvas(width: int, brush: int, key: str) -> CanvasResult:
    """A freedraw canvas that sends its image to the server on every stroke."""
    # Imported here: the component registers itself with the running server on import, which
    # fails outside one, and the rest of this module is used by tests and benchmarks too.
    from streamlit_drawable_canvas import st_canvas

    return st_canvas(
        stroke_width=brush,
        stroke_color="#000000",
        background_color="#ffffff",
        height=CANVAS_SIZE,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=key,
    )


@st.fragment
def drawing_section(classifier: digit_model.Classifier, brush: int) -> None:
    """Canvas and answer side by side, or one above the other on a phone; a stroke re-runs
    only this fragment, not the rest of the page."""
    canvas_column, answer_column = st.columns(2, gap="medium")
    with canvas_column:
        drawing = drawing_canvas(CANVAS_SIZE, brush, CANVAS_KEY)
    with answer_column:
        reading = read_drawing(classifier, drawing.image_data, handwriting_memory())
        took_over(reading, drawing.json_data)
        answer_section(reading, drawing.json_data)
        why_section(classifier, [] if reading is None else [reading], key="why_digit")


def remember(setting: str, widget_key: str) -> None:
    """Keep a widget's new value as the visit's setting, for when the widget is built anew."""
    st.session_state[setting] = st.session_state[widget_key]


def brush_control() -> int:
    """The brush width, set in a small pop-over beside the mode; kept for the whole visit."""
    with st.popover("Brush", icon=":material/brush:", key=BRUSH_POPOVER_KEY):
        return st.slider(
            "Brush width",
            *BRUSH_WIDTHS,
            value=st.session_state.get(BRUSH_SETTING, DEFAULT_BRUSH),
            format="%d px",
            key=BRUSH_KEY,
            on_change=remember,
            args=(BRUSH_SETTING, BRUSH_KEY),
        )


# Kept per model loaded (by its identity: the served model is loaded once per process).
@st.cache_data(
    max_entries=HEAT_MAPS_KEPT, show_spinner=False, hash_funcs={digit_model.Classifier: id}
)
def heat_map(classifier: digit_model.Classifier, image: np.ndarray, digit: int, side: int) -> str:
    """The input's strokes coloured by how much they drove the answer, as a PNG data URL; kept,
    as the page runs again with the same drawings (a tab, a mode, a hidden mode's number)."""
    saliency = explain.saliency(classifier, image, digit)
    return png_data_url(explain.overlay(image, saliency, size=side))


def why_caption(reading: DigitReading) -> str:
    """What a heat-map shows: why the digit read, or, where no digit is given, what in the
    drawing looks like the likeliest one."""
    verdict = unreadable(reading)
    if verdict is None:
        return f"Why {reading.digit}"
    return f"{verdict[0]}; what looks like {a_digit(reading.digit)}"


def why_section(
    classifier: digit_model.Classifier,
    readings: list[DigitReading],
    key: str,
    scale: int = PREVIEW_SCALE,
) -> None:
    """A toggle that shows which strokes drove each answer; nothing is computed while it is off.

    The toggle's setting is one for the whole visit, shared by every mode.
    """
    # A keyed toggle keeps its own value once built, and a hidden mode's is built on every
    # run: each is set from the visit's setting, so that a switch finds it as last set.
    st.session_state[key] = st.session_state.get(WHY_SETTING, False)
    shown = st.toggle(WHY_TEXT, key=key, help=WHY_HELP, on_change=remember, args=(WHY_SETTING, key))
    if not shown or not readings:
        return
    captions = [why_caption(reading) for reading in readings]
    st.image(
        [heat_map(classifier, r.image, r.digit, FIELD * scale) for r in readings],
        caption=captions,
        alt=[f"{caption}: the input's strokes coloured by their effect" for caption in captions],
    )
    st.caption("Red strokes drove the answer most, orange ones less; grey ones hardly mattered.")


def number_examples_said(reading: NumberReading) -> str:
    """What the person's examples did to a number's digits: backed them, made them less sure."""
    pieces = len(reading.digits)
    saved = number_saved(reading)
    labels = saved or (None,) * pieces
    backed = sum(digit.examples > 0 for digit in reading.digits)
    own = sum(backed_by_own_label(digit, label) for digit, label in zip(reading.digits, labels))
    examples = "your examples" if own < backed else "your labels" if own > 1 else "your label"
    said = []
    if backed:
        said.append(
            f"Read with {examples}."
            if backed == pieces
            else f"{backed} of its {pieces} digits read with {examples}."
        )
    # Once the number is saved its own digits are among the examples: "Saved as" says so.
    against = [
        (position, digit.examples_against)
        for position, digit in enumerate(reading.digits, start=1)
        if digit.examples_against and not digit.examples
    ]
    if against and saved is None:
        said.append(pieces_against_said(against))
    return " ".join(said)


def number_answer(
    classifier: digit_model.Classifier, reading: NumberReading, area: NumberArea
) -> None:
    """The number read, how sure the model is of all of it, and each digit's input and answer;
    what to try when it is in doubt, and a row to confirm or correct it; for a number written
    on the canvas or photographed, each with widgets of its own."""
    photo = area == "photo"
    if reading.several_lines:
        st.warning(several_lines_said(reading.lines, photo), icon="↕️")
        return
    verdicts = [unreadable(digit) for digit in reading.digits]
    with st.container(horizontal=True):  # side by side on a phone too, unless it is too long
        st.metric(PREDICTION, reading.number)
        st.metric(
            CONFIDENCE,
            BLANK if reading.confidence is None else f"{reading.confidence:.0%}",
            help="How sure the model is of every digit at once: their confidences multiplied.",
        )
    if said := number_examples_said(reading):
        with st.container(horizontal=True, vertical_alignment="center"):
            examples_line(said, f"forget_{area}")
    doubts = []
    alone = len(reading.digits) == 1  # "piece 1" means nothing when there is no piece 2
    for position, (digit, verdict) in enumerate(zip(reading.digits, verdicts), start=1):
        piece = ("the writing" if photo else "the drawing") if alone else f"piece {position}"
        if verdict is not None:
            doubts.append(f"{piece} (**{WITHHELD}**) is {verdict[0].lower()}")
        elif digit.doubtful:
            doubts.append(f"{piece} (**{digit.digit}**) {MAY_NOT_BE_A_DIGIT}")
        elif digit.confidence < UNSURE_BELOW:
            first, second = digit.top_two
            doubts.append(
                f"{'it' if alone else f'digit {position}'} may be {a_digit(first, bold=True)} "
                f"({digit.probabilities[first]:.0%}) "
                f"or {a_digit(second, bold=True)} ({digit.probabilities[second]:.0%})"
            )
    if doubts:
        # Larger only helps a piece too small to read: a scribble may fill the canvas.
        larger = any(digit.withheld == "too small" for digit in reading.digits)
        if sum(digit.withheld == "not a digit" for digit in reading.digits) >= 2:
            # Letters or words, not a number badly written: a better photo would not help.
            retry = LETTERS_NOT_READ
        elif photo:
            retry = (
                "Try another photo: upright, in focus, of the paper alone"
                f"{', taken closer' if larger else ''}, "
                "the digits standing out clearly and a little apart."
            )
        else:
            retry = (
                f"Try writing it {'larger and clearer' if larger else 'more clearly'}, "
                "with a little space between the digits."
            )
        st.warning(f"Not sure: {'; '.join(doubts)}. {retry}", icon="🤔")
    st.image(
        [
            png_data_url(
                np.pad(enlarge(digit.image, DIGIT_PREVIEW_SIDE), DIGIT_GAP, constant_values=1.0)
            )
            for digit in reading.digits
        ],
        caption=[
            verdict[0] if verdict else f"{digit.digit} · {digit.confidence:.0%}"
            for digit, verdict in zip(reading.digits, verdicts)
        ],
        alt=[read_as(digit) for digit in reading.digits],
    )
    st.caption("What the model sees: each digit's 28x28 input, with its answer and confidence.")
    number_feedback(reading, area)
    why_section(classifier, list(reading.digits), key=f"why_{area}", scale=DIGIT_PREVIEW_SCALE)


def several_lines_said(lines: int, photo: bool) -> str:
    """What to do with writing of several lines, one above another: a number is one line."""
    if photo:
        return (
            f"This picture holds {lines} lines of writing, one above another, and a number is "
            "read from one line: with the paper upright, crop the picture to one line, or "
            "photograph each line on its own."
        )
    return (
        f"This looks like {lines} lines of writing, and a number is read from one line: "
        "write it on one line, or clear the canvas before the next."
    )


def number_key(reading: NumberReading) -> str:
    """Names a number read by its pieces' inputs: another stroke or photo makes another."""
    digest = hashlib.blake2b(digest_size=8)
    for digit in reading.digits:
        digest.update(np.ascontiguousarray(digit.image))
    return digest.hexdigest()


def number_saved(reading: NumberReading) -> tuple[int | None, ...] | None:
    """The digits this number was saved with in this visit, if it was."""
    return st.session_state.get(SAVED_NUMBERS_KEY, {}).get(number_key(reading))


def digits_meant(reading: NumberReading, typed: str) -> list[int | None]:
    """The digit typed for each piece of the number read, None for a "?"; FeedbackError,
    saying what to type, when what was typed does not pair up with the pieces."""
    meant: list[int | None] = []
    for character in typed:
        if character.isdecimal():
            meant.append(int(character))
        elif character == WITHHELD:
            meant.append(None)
        elif character.isalnum():  # a letter: marks and spaces between the digits are left out
            raise FeedbackError(
                f'"{character}" is not a digit: type the number with the digits 0 to 9, '
                "and ? for a piece to leave unlabelled."
            )
    pieces, typed_count = len(reading.digits), len(meant)
    if not typed.strip():
        raise FeedbackError("Type the number you meant first, one digit for each piece.")
    if typed_count != pieces:
        raise FeedbackError(
            f"The writing was read as {pieces} piece{'s' if pieces > 1 else ''} "
            f"(**{reading.number}**), but {typed_count} "
            f"{'digit was' if typed_count == 1 else 'digits were'} typed: type one digit for "
            "each piece, in order. Digits that touch are read as one piece; to label them, "
            "write them a little apart."
        )
    if all(digit is None for digit in meant):
        raise FeedbackError("Nothing to save: ? leaves a piece unlabelled.")
    return meant


def learn_number(reading: NumberReading, digits: Sequence[int | None]) -> None:
    """Keep each digit given as an example of the person's handwriting, with its piece."""
    for piece, digit in zip(reading.digits, digits):
        if digit is not None:
            handwriting_memory().add(piece, digit)


def save_number(reading: NumberReading, area: NumberArea, typed: str) -> None:
    """Store the digit meant for each piece of a number, each a label of its own, and learn
    them, as a digit picked under one drawing; runs on a click or on Enter, before the rerun.

    Only pieces whose label is new or changed are saved, so that a retry after a refusal
    saves the rest, and a double click nothing more. A "?" leaves a piece's label as it was.
    """
    key = number_key(reading)
    notices = st.session_state.setdefault(NUMBER_NOTICE_KEY, {})
    saved = st.session_state.setdefault(SAVED_NUMBERS_KEY, {})
    notices.pop(area, None)
    try:
        meant = digits_meant(reading, typed)
    except FeedbackError as error:
        notices[area] = Notice(key, Outcome.REFUSED, str(error))
        return
    before = saved.get(key, (None,) * len(meant))
    wanted = [old if new is None else new for new, old in zip(meant, before)]
    stored = list(before)
    saved_at = datetime.now(UTC)
    try:
        for index, (piece, digit) in enumerate(zip(reading.digits, wanted)):
            if digit is None or digit == before[index]:
                continue
            store_label(piece, digit, strokes=None, saved_at=saved_at)
            stored[index] = digit
    except StorageUnavailable:
        notices[area] = Notice(key, Outcome.UNAVAILABLE, unsaved_digits(wanted, stored))
    except (FeedbackError, RateLimited) as error:
        notices[area] = Notice(key, Outcome.REFUSED, f"{error} {unsaved_digits(wanted, stored)}")
    # As under one digit: a piece's first label is learnt whether or not the database keeps
    # it, and a change once it is kept, so that the memory reads each piece as it is saved.
    learn_number(
        reading, [new if old is None else kept for new, old, kept in zip(wanted, before, stored)]
    )
    if any(digit is not None for digit in stored):
        saved[key] = tuple(stored)
        if area not in notices:
            # Worded as under one digit.
            if stored == list(before):
                outcome, done = Outcome.ALREADY_SAVED, "Already saved as"
            else:
                changing = any(digit is not None for digit in before)
                outcome, done = Outcome.SAVED, "Changed to" if changing else "Saved:"
            # A point the reading missed, typed in: the person should not think it learnt.
            typed_marks = [mark for mark in typed if mark in MARK_SYMBOLS]
            marks_read = [mark for mark in reading.number if mark in MARK_SYMBOLS]
            aside = MARKS_NOT_SAVED if typed_marks and typed_marks != marks_read else None
            message = f"{done} {saved_as(reading, stored)}."
            notices[area] = Notice(key, outcome, message, aside=aside)


def saved_as(reading: NumberReading, digits: Sequence[int | None]) -> str:
    """The number as its pieces are saved, with the marks read: a piece not saved as "?"."""
    return reading.spelled([WITHHELD if digit is None else str(digit) for digit in digits])


def corrections_said(reading: NumberReading, saved: Sequence[int | None]) -> str:
    """The digits saved as other than read, in words ("; you meant a 7 as the 4th digit,
    still read as a 1"): the model read them so surely that their labels, learnt as examples,
    did not change the answer, and this says the correction was taken all the same."""
    corrected = [
        (position, label, "" if digit.withheld else f", still read as {a_digit(digit.digit)}")
        for position, (digit, label) in enumerate(zip(reading.digits, saved), start=1)
        if label is not None and (digit.withheld or label != digit.digit)
    ]
    if not corrected:
        return ""
    if len(reading.digits) == 1:
        _, label, read = corrected[0]
        return f"; you meant {a_digit(label)}{read}"
    said = [
        f"{a_digit(label)} as the {ordinal(position)} digit{read}"
        for position, label, read in corrected
    ]
    return "; you meant " + "; ".join(said)


def unsaved_digits(wanted: Sequence[int | None], stored: Sequence[int | None]) -> str:
    """How many of the digits meant for a number are not saved yet, in words."""
    labelled = [(want, kept) for want, kept in zip(wanted, stored) if want is not None]
    left = sum(want != kept for want, kept in labelled)
    verb = "was" if left == 1 else "were"
    return f"{left} of the {len(labelled)} digits given {verb} not saved."


def confirm_number(reading: NumberReading, area: NumberArea) -> None:
    """Store the number as read; a number typed in the field is dropped, not to disagree."""
    st.session_state[MEANT_KEYS[area]] = ""
    save_number(reading, area, reading.number)


def save_typed_number(reading: NumberReading, area: NumberArea) -> None:
    """Store the number typed as the one meant."""
    save_number(reading, area, st.session_state[MEANT_KEYS[area]])


def number_feedback(reading: NumberReading, area: NumberArea) -> None:
    """Confirm the number read, or type the one meant: each of its digits is saved with its
    piece of the writing, as a label under one drawing is."""
    key = number_key(reading)
    field = MEANT_KEYS[area]
    shown = st.session_state.setdefault(NUMBER_SHOWN_KEY, {})
    if shown.get(area) != key:  # another number: its field starts empty
        shown[area] = key
        st.session_state[field] = ""
    saved = number_saved(reading)
    digits_read = tuple(None if digit.withheld else digit.digit for digit in reading.digits)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(
            CONFIRM_TEXT,
            key=f"confirm_{area}",
            on_click=confirm_number,
            args=(reading, area),
            disabled=None in digits_read or saved == digits_read,
            help=f"The answer {reading.number} is right: save each digit with its piece.",
        )
        # A form, so that Enter or its button saves again after a refusal, the field unchanged.
        with (
            st.form(key=f"meant_form_{area}", border=False, enter_to_submit=True),
            st.container(horizontal=True, vertical_alignment="bottom"),
        ):
            st.text_input(
                NUMBER_MEANT_PROMPT, key=field, placeholder=reading.number, help=NUMBER_MEANT_HELP
            )
            st.form_submit_button(
                SAVE_NUMBER_TEXT, on_click=save_typed_number, args=(reading, area)
            )
    notices = st.session_state.get(NUMBER_NOTICE_KEY, {})
    notice = notices.get(area)
    if notice is not None and notice.drawing_key == key:
        if notice.fresh:
            notices[area] = replace(notice, fresh=False)
            unavailable = notice.outcome is Outcome.UNAVAILABLE
            message = f"{UNAVAILABLE}: {notice.message}" if unavailable else notice.message
            st.toast(
                f"{message} {notice.aside}" if notice.aside else message,
                icon=NUMBER_TOAST_ICONS[notice.outcome],
            )
        if notice.outcome is Outcome.UNAVAILABLE:
            st.warning(
                f"**{UNAVAILABLE}**: {notice.message} Reading your writing goes on; try again "
                "in a moment.",
                icon="💾",
            )
        elif notice.outcome is Outcome.REFUSED:
            st.error(notice.message, icon="🚫")
    if saved is not None:
        st.caption(
            f"✓ Saved as **{saved_as(reading, saved)}**{corrections_said(reading, saved)}. "
            "Type another number to change it."
        )
        if notice is not None and notice.drawing_key == key and notice.aside:
            st.caption(notice.aside)


@st.fragment
def number_section(classifier: digit_model.Classifier, brush: int) -> None:
    """A wide canvas for a number; a stroke reads all its digits in one batched call and
    re-runs only this fragment."""
    drawing = drawing_canvas(NUMBER_CANVAS_WIDTH, brush, NUMBER_CANVAS_KEY)
    rgba = drawing.image_data
    reading = None if rgba is None else read_number(classifier, canvas_to_ink(rgba))
    if reading is None:
        with st.container(key=NUMBER_HINT_KEY):
            st.info(f"{NUMBER_HINT}\n\n{STRIP_HINT}", icon="✏️")
    else:
        number_answer(classifier, recall_number(reading, handwriting_memory()), "number")


def upload_reading(
    classifier: digit_model.Classifier, upload: UploadedFile
) -> tuple[Photo, NumberReading | None]:
    """Find and read the handwriting on an upload, once: reruns (a toggle, a tab) reuse it.

    Raises PhotoError, with a message for the person, for a file that is not a usable picture;
    that too is kept, so a bad file is not decoded again on every rerun. "Busy" is not kept.
    """
    kept = st.session_state.get(PHOTO_READING_KEY)
    if kept is None or kept[0] != upload.file_id:
        try:
            photo = read_upload(upload.getvalue())
            kept = (upload.file_id, (photo, read_number(classifier, photo.ink)))
        except PhotoBusy:
            raise
        except PhotoError as error:
            kept = (upload.file_id, error)
        st.session_state[PHOTO_READING_KEY] = kept
    if isinstance(kept[1], PhotoError):
        raise kept[1]
    return kept[1]


def outlined(photo: Photo, reading: NumberReading | None) -> np.ndarray:
    """The photo with a box drawn around each digit and mark (point, comma, minus) read on it."""
    picture = Image.fromarray(photo.picture)
    if reading is not None:
        pen = ImageDraw.Draw(picture)
        line = max(2, round(max(picture.size) / 250))
        for box in [digit.box for digit in reading.digits] + [mark.box for mark in reading.marks]:
            # Right and bottom are exclusive; the outline's corners are inclusive.
            outline = (box.left - line, box.top - line, box.right - 1 + line, box.bottom - 1 + line)
            pen.rectangle(outline, outline=OUTLINE, width=line)
    return np.asarray(picture)


@st.fragment
def photo_section(classifier: digit_model.Classifier) -> None:
    """Upload a photo or scan of handwriting; it is read like a number written on the canvas."""
    upload = st.file_uploader(
        "Photo or scan of handwriting",
        type=list(FILE_EXTENSIONS),
        key=PHOTO_UPLOAD_KEY,
        help=PHOTO_HINT,
    )
    if upload is None:
        st.session_state.pop(PHOTO_READING_KEY, None)
        st.info(PHOTO_HINT, icon="📷")
        return
    try:
        photo, reading = upload_reading(classifier, upload)
    except PhotoError as error:
        st.error(str(error), icon="🚫")
        return
    height, width = photo.picture.shape[:2]
    # A portrait photo leaves half the page beside it: the answer goes there, as it goes
    # beside the canvas. On a phone the answer goes above the picture, which would fill the
    # first screen.
    portrait = height >= width
    result = st.container(key=PHOTO_RESULT_KEY)
    picture_area, answer_area = result.columns(2, gap="medium") if portrait else (result, result)
    # A container's width, unlike an image's, shrinks to fit a narrow screen.
    shown_width = min(width, round(PHOTO_HEIGHT * width / height))
    boxed = reading is not None and not reading.several_lines  # boxes across lines mean nothing
    with picture_area, st.container(key=PHOTO_PICTURE_KEY, width=shown_width):
        st.image(
            outlined(photo, reading if boxed else None),
            caption="Your picture: each digit, point, comma and minus found is boxed"
            if boxed
            else "Your picture",
            width="stretch",
            alt=f"Your picture, read as {reading.number}" if boxed else "Your picture",
        )
    with answer_area, st.container(key=PHOTO_ANSWER_KEY):
        if reading is None:
            st.info(NO_HANDWRITING, icon="🔍")
        else:
            number_answer(classifier, recall_number(reading, handwriting_memory()), "photo")


def draw_section(classifier: digit_model.Classifier | None) -> None:
    """One digit, a number or a photo to read, once the model is loaded; each mode, once
    opened, stays on the page for the visit, hidden while another shows."""
    if classifier is None:
        st.info("The canvas comes back once the model file is in place.")
        return
    # Outside the sections' fragments: strokes do not redo it, and a new choice rebuilds the tab.
    with st.container(horizontal=True, vertical_alignment="bottom"):
        mode = st.segmented_control(
            MODE_PROMPT,
            [ONE_DIGIT, A_NUMBER, A_PHOTO],
            default=ONE_DIGIT,
            required=True,
            key=MODE_KEY,
        )
        # In photo mode there is no brush to set; the canvases kept hidden keep the last one.
        brush = st.session_state.get(BRUSH_SETTING, DEFAULT_BRUSH)
        if mode != A_PHOTO:
            brush = brush_control()
    opened = st.session_state.setdefault(OPENED_KEY, set())
    opened.add(mode)
    areas = {each: st.container(key=area) for each, area in MODE_AREAS.items()}
    # The marks first, each in the same place in its area on every run: a switch shows as
    # the run starts, before the sections are read again (a mode opened for the first time
    # fills in as its section runs), and nothing in an area moves.
    for each, area in areas.items():
        area.html(f'<span class="{SHOWN_MARK if each == mode else HIDDEN_MARK}"></span>')
    if ONE_DIGIT in opened:
        with areas[ONE_DIGIT]:
            drawing_section(classifier, brush)
    if A_NUMBER in opened:
        with areas[A_NUMBER]:
            number_section(classifier, brush)
    if A_PHOTO in opened:
        with areas[A_PHOTO]:
            photo_section(classifier)
