"""The feedback row under an answer: one click to confirm it or give the digit meant (or, under
a number, to type the number meant), each digit saved as a label and learnt as an example."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import get_args

import numpy as np
import streamlit as st

from feedback.database import StorageFull, StorageUnavailable
from feedback.labels import (
    FeedbackError,
    LabelledDrawing,
    too_many_strokes,
    too_many_strokes_message,
)
from feedback.rate_limit import RateLimited
from reading import WITHHELD, DigitReading, DrawingReading, NumberReading
from reading.marks import MARK_SYMBOLS
from tabs.common import open_feedback_store, save_limiter, session_id
from tabs.draw.shared import (
    NOTICE_KEY,
    NUMBER_NOTICE_KEY,
    NUMBER_SHOWN_KEY,
    SAVED_KEY,
    SAVED_NUMBERS_KEY,
    NumberArea,
    a_digit,
    counted,
    learn,
    ordinal,
    unmark_if_deleted,
    unreadable,
)

CONFIRM_TEXT = "✓ Correct"
PICK_PROMPT = "Wrong? Pick the digit you meant"
CHANGE_HINT = "Pick another digit to change it."
UNAVAILABLE = "Saving is unavailable right now"
DISK_FULL = "Saving is not possible: the server's disk is full"
DRAWING_CHANGED = (
    "The drawing changed before its answer came, so this label was not saved: pick the digit "
    "again once the new answer shows."
)
NUMBER_MEANT_PROMPT = "Wrong? Type the number you meant"
SAVE_NUMBER_TEXT = "Save"
# A number's save refused, toasted where the field may be out of sight: the reason is under it.
NUMBER_REFUSED_TOAST = "Not saved: see why under the field."
MARKS_NOT_SAVED = "Only the digits are saved: points, commas and minus signs are read, not learnt."
NUMBER_MEANT_HELP = (
    "Its digits in order, one for each piece read (points, commas and a minus may be left "
    "out; ? leaves a piece as it is: unlabelled, or with the digit given to it before). Each "
    "digit is saved with its piece of the writing, as a label to train the model with, and "
    "learnt as an example of your handwriting."
)
# Each area's field for the number meant, under the number read.
MEANT_KEYS: dict[NumberArea, str] = {area: f"meant_{area}" for area in get_args(NumberArea)}
# A keyed box that holds its height whether or not anything shows in it, so that a click
# never moves what lies below: what a click on the feedback row came to.
NOTICE_SLOT = "feedback_notice_slot"

CONFIRM_KEY, PICK_KEY = "confirm", "true_digit"  # the feedback row's widgets


class Outcome(enum.Enum):
    """What a click on the feedback row can come to."""

    SAVED = "saved"
    ALREADY_SAVED = "already saved"
    UNAVAILABLE = "unavailable"
    DISK_FULL = "disk full"
    REFUSED = "refused"


TOAST_ICONS = {Outcome.SAVED: ":material/check_circle:", Outcome.ALREADY_SAVED: ":material/info:"}
# A number's field may be at the screen's edge, its row's notices below it: all are toasted.
NUMBER_TOAST_ICONS = TOAST_ICONS | {
    Outcome.UNAVAILABLE: ":material/cloud_off:",
    Outcome.DISK_FULL: ":material/hard_drive:",
    Outcome.REFUSED: ":material/block:",
}


# What the row says when the database did not keep a label, and what to do about it.
NOT_KEPT = {
    Outcome.UNAVAILABLE: (UNAVAILABLE, "Try again in a moment."),
    Outcome.DISK_FULL: (DISK_FULL, "Saving works again once the server has room."),
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


def drawing_on_show(canvas_key: str, strokes: dict | None) -> bool:
    """Whether the canvas still shows the drawing of these strokes, as the page sent it with
    a click: a stroke whose answer never came (lost with a replica, say) must not have the
    old drawing's label given to it. True when the page sent no drawing with the click."""
    state = st.session_state.get(canvas_key)
    drawing = state.get("drawing") if isinstance(state, dict) else None
    return not isinstance(drawing, dict) or drawing.get("raw") == strokes


def save_label(
    reading: DrawingReading, strokes: dict | None, true_digit: int | None, canvas_key: str
) -> None:
    """Store the digit meant for this drawing, or change the one stored for it (a mis-tap);
    runs on a click, before the rerun, and only while the canvas shows that drawing."""
    if true_digit is None:  # the picked digit clicked again, which unselects it: it stays
        return
    if not drawing_on_show(canvas_key, strokes):
        st.toast(DRAWING_CHANGED, icon=":material/block:")
        return
    unmark_if_deleted()
    key = reading.drawing_key
    saved = st.session_state.setdefault(SAVED_KEY, {})
    changing = key in saved
    if saved.get(key) == true_digit:  # clicked twice before the rerun showed it saved
        notice = Notice(key, Outcome.ALREADY_SAVED, f"Already saved as {a_digit(true_digit)}.")
    else:
        try:
            store_label(reading, true_digit, strokes, datetime.now(UTC))
        except StorageFull as error:
            notice = Notice(key, Outcome.DISK_FULL, str(error))
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
        learn(reading, true_digit, strokes)
    st.session_state[NOTICE_KEY] = notice


def save_picked_digit(reading: DrawingReading, strokes: dict | None, canvas_key: str) -> None:
    """Store the digit just picked for this drawing."""
    save_label(reading, strokes, st.session_state.get(PICK_KEY), canvas_key)


def confirm_help(reading: DrawingReading, is_saved: bool) -> str:
    """What ✓ Correct would do for this reading, or why it cannot: said on hover, and by a
    screen reader."""
    if reading.several_digits is not None:
        return "This looks like more than one digit: pick the digit you meant, if it is one."
    if unreadable(reading) is not None:
        return "Only digits are saved as labels: if this is one, pick the digit you meant."
    if is_saved:
        return f"Saved already. {CHANGE_HINT}"
    return f"The answer {reading.digit} is right: save this drawing with it."


def feedback_row(reading: DrawingReading | None, strokes: dict | None, canvas_key: str) -> None:
    """One click to confirm the answer or give the right digit, and another to change a
    mis-tapped digit (on the canvas `canvas_key`); no database work until then.

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
        args=(reading, strokes, reading.digit, canvas_key),
        disabled=is_saved or unreadable(reading) is not None or reading.several_digits is not None,
        help=confirm_help(reading, is_saved),
    )
    st.pills(
        PICK_PROMPT,
        range(10),
        key=PICK_KEY,
        on_change=save_picked_digit,
        args=(reading, strokes, canvas_key),
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
        if outcome in NOT_KEPT:
            still = f", and the drawing is still saved as {a_digit(saved[key])}" if is_saved else ""
            headline, advice = NOT_KEPT[outcome]
            st.warning(
                f"**{headline}**, so this label was not kept{still}; reading your drawings "
                f"goes on. {advice}",
                icon="💾",
            )
        elif outcome is Outcome.REFUSED:
            st.error(notice.message, icon="🚫")
        elif is_saved:
            st.caption(f"✓ Saved as {a_digit(saved[key])}. {CHANGE_HINT}")
        else:
            st.empty()


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
            f"The writing was read as {counted(pieces, 'piece')} "
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
            learn(piece, digit, strokes=None)


def save_number(reading: NumberReading, area: NumberArea, typed: str) -> None:
    """Store the digit meant for each piece of a number, each a label of its own, and learn
    them, as a digit picked under one drawing; runs on a click or on Enter, before the rerun.

    Only pieces whose label is new or changed are saved, so that a retry after a refusal
    saves the rest, and a double click nothing more. A "?" leaves a piece's label as it was.
    """
    unmark_if_deleted()
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
    except StorageFull:
        notices[area] = Notice(key, Outcome.DISK_FULL, unsaved_digits(wanted, stored))
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
            # In bold, so that the full stop after it is not taken for a decimal point.
            message = f"{done} **{saved_as(reading, stored)}**."
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
            # How many digits it takes, not the number read: that looked filled in already.
            pieces = len(reading.digits)
            st.text_input(
                NUMBER_MEANT_PROMPT,
                key=field,
                placeholder=counted(pieces, "digit"),
                help=NUMBER_MEANT_HELP,
            )
            st.form_submit_button(
                SAVE_NUMBER_TEXT, on_click=save_typed_number, args=(reading, area)
            )
    notices = st.session_state.get(NUMBER_NOTICE_KEY, {})
    notice = notices.get(area)
    if notice is not None and notice.drawing_key == key:
        if notice.fresh:
            notices[area] = replace(notice, fresh=False)
            not_kept = NOT_KEPT.get(notice.outcome)
            if not_kept:
                message = f"{not_kept[0]}: {notice.message}"
            elif notice.outcome is Outcome.REFUSED:
                message = NUMBER_REFUSED_TOAST  # the reason, often long, is said in full there
            else:
                message = notice.message
            st.toast(
                f"{message} {notice.aside}" if notice.aside else message,
                icon=NUMBER_TOAST_ICONS[notice.outcome],
            )
        if notice.outcome in NOT_KEPT:
            headline, advice = NOT_KEPT[notice.outcome]
            st.warning(
                f"**{headline}**: {notice.message} Reading your writing goes on. {advice}",
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
