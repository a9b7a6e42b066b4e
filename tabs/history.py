"""The History tab: this visitor's labels and downloads; accuracy and the confusion heat-map
over everyone's. The app's owner, with the owner secret, sees and downloads everyone's."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import streamlit as st

from feedback import access, downloads
from feedback import export as feedback_export
from feedback import store as feedback_store
from feedback.database import StorageUnavailable
from feedback.rate_limit import RateLimited
from feedback.store import FeedbackStore, Summary
from preprocess import FIELD, enlarge, png_data_url
from tabs import charts
from tabs.common import NO_VALUE, open_feedback_store, owner_guesses, session_id
from tabs.draw.shared import counted, forget_saved_here

HISTORY_ROWS = 50  # latest labels listed in the History tab
TABLE_ROW_PX = 48  # a row of the table, tall enough to make out each drawing
TABLE_HEADER_PX = 37  # the table's header row (Streamlit's 2.1875rem) and its two borders
TABLE_ROWS_SHOWN = 10  # rows the table shows whole before it scrolls within itself
PICTURE_CELL_NAME = "Picture of the drawing"  # what a screen reader says for a drawing's cell
NO_LABELS_HINT = (
    "Nothing labelled yet. Under each answer on the Draw tab, confirm it or pick the digit "
    "you meant: it is saved here at once."
)
NO_OWN_LABELS_HINT = (
    "You have no labels saved. Under each answer on the Draw tab, confirm it or pick the "
    "digit you meant: your labels are listed here, and only you see them."
)
OWNER_KEY = "is_owner"  # this session gave the owner secret
OWNER_SECRET_INPUT_KEY = "owner_secret_attempt"
OWNER_REFUSAL_KEY = "owner_secret_refusal"  # why the last secret typed was refused
LINKS_BUSY = (
    "The server is keeping as many download links as it can right now. Open the History "
    "tab again in a few minutes for yours."
)
DOWNLOADS_UNAVAILABLE = (
    "**Downloads are unavailable right now.** Open the History tab again in a moment for "
    "your links."
)
OWNER_CHECK_UNAVAILABLE = "The owner secret cannot be checked right now. Try again in a moment."
FINETUNE_COMMAND = "python train_model.py finetune --data ../shared/mnist.npz"
DELETE_TEXT = "Delete my labels"
DELETE_CONFIRM_TEXT = "Yes, delete them"
KEEP_TEXT = "Keep them"
DELETE_KEY = "deleting_labels"  # the person asked to delete their labels: confirm first
# The box that holds the button, then the question in its place, then what the deletion came
# to: keyed, so that the page hands the keyboard's focus on to what replaced a control in it.
DELETION_AREA = "label_deletion"
DELETED_KEY = "labels_deleted"  # how many of their labels the last deletion removed
DELETE_UNAVAILABLE = "Deleting is unavailable right now; your labels are as they were."

ANSWER_HELP = (
    "What the page answered when the drawing was first labelled. The Draw tab learns from the "
    "label, so it may answer otherwise now."
)


def time_zone(name: str | None) -> tzinfo:
    """A time zone by its tz database name; UTC for none, or for anything that is not a zone
    (an area such as "America" is a directory there, a name may hold "..")."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def browser_timezone() -> tzinfo:
    """The visitor's time zone as the browser reports it; UTC when it does not."""
    return time_zone(st.context.timezone)


def accuracy_row(summary: Summary) -> None:
    """Running accuracy over every labelled drawing, and what it is counted on: side by side
    on a phone too, where columns would stack them a screen high above your own labels."""
    with st.container(horizontal=True):
        st.metric(
            "Accuracy",
            f"{summary.accuracy:.1%}",
            help="How often the page's answer was the digit the person meant, over the "
            "drawings people labelled here. Usually lower than the Model card's figures: people "
            "tend to label an answer when it is wrong, while the card counts every digit it "
            "was tested on.",
        )
        st.metric("Labelled drawings", f"{summary.labelled:,}")
        st.metric("Misread", f"{summary.labelled - summary.correct:,}")


def thumbnail(image: np.ndarray, scale: int = 2) -> str:
    """A stored 28x28 input as a PNG data URL (dark ink on white), for the table's pictures."""
    return png_data_url(1 - enlarge(image / np.float32(255), FIELD * scale))


def history_table(entries: list[feedback_store.Entry], listed: int, whose: str) -> None:
    """The latest labels, newest first, each with a small picture of the drawing: the answer,
    the true digit and whether they agree come first, where a phone shows them unscrolled."""
    zone = browser_timezone()
    table = pd.DataFrame(
        {
            "Drawing": [thumbnail(entry.image) for entry in entries],
            "Answer": [
                charts.NO_DIGIT_ANSWER if entry.refused else str(entry.predicted_digit)
                for entry in entries
            ],
            "True digit": [str(entry.true_digit) for entry in entries],
            "Right": ["✓" if entry.correct else "✗" for entry in entries],
            # In whole percents, as the Draw tab shows it, and as a screen reader reads the
            # table's cells (their values, not their format); a dash for no digit.
            "Confidence": pd.Series(
                [None if entry.refused else round(entry.confidence * 100) for entry in entries],
                dtype="Int64",
            ),
            "Time": [entry.created_at.astimezone(zone) for entry in entries],
        }
    )
    st.markdown(f"**{whose} latest labels**")
    if listed == 1:
        shown = "The only one so far"
    elif len(entries) == listed:
        shown = f"All {listed:,}, newest first"
    else:
        shown = f"The latest {len(entries):,} of {listed:,}, newest first"
    st.caption(f"{shown}; times in {zone}.")
    st.dataframe(
        table,
        hide_index=True,
        row_height=TABLE_ROW_PX,
        height=TABLE_HEADER_PX + TABLE_ROW_PX * min(len(entries), TABLE_ROWS_SHOWN),
        placeholder=NO_VALUE,
        column_config={
            "Drawing": st.column_config.ImageColumn("Drawing", width="small"),
            "Answer": st.column_config.TextColumn("Answer", help=ANSWER_HELP),
            "Confidence": st.column_config.NumberColumn("Confidence", format="%.0f%%"),
            "Time": st.column_config.DatetimeColumn("Time", format="D MMM YYYY, HH:mm"),
        },
    )


def download_links(store: FeedbackStore, mine: str | None, listed: int) -> None:
    """The listed labels as CSV and as an MNIST-style training set, streamed when clicked.

    The links are this visitor's alone (or the owner's, for everyone's labels) and expire.
    """
    whose = "everyone's labels" if mine is None else "your labels"
    st.markdown(f"**Downloads** ({whose}, oldest first)")
    try:
        token = downloads.links_for(store).issue(mine, session_id())
    except StorageUnavailable:
        st.warning(DOWNLOADS_UNAVAILABLE, icon="💾")
        return
    if token is None:
        st.info(LINKS_BUSY, icon="⏳")
        return
    csv_column, npz_column = st.columns(2)
    csv_column.link_button(
        "CSV",
        downloads.path(token, downloads.CSV_NAME),
        icon=":material/download:",
        width="stretch",
    )
    npz_column.link_button(
        ".npz training set",
        downloads.path(token, downloads.NPZ_NAME),
        icon=":material/download:",
        width="stretch",
    )
    caption = (
        "The `.npz` holds `x` (28x28 inputs, uint8, as in MNIST) and `y` (true digits). "
        f"The links work for {downloads.LINK_LIFETIME_S // 60} minutes."
    )
    if mine is None:
        caption += (
            f" On the server, fine-tune the model straight from the database: "
            f"`{FINETUNE_COMMAND}` (`--data`: MNIST in Keras's `mnist.npz` layout; without it "
            f"Keras downloads MNIST). Fine-tuning needs at least "
            f"{feedback_export.MIN_FEEDBACK} labelled drawings; there are {listed:,} so far."
        )
    st.caption(caption)


def label_deletion(listed: int, deleted: int | None) -> None:
    """What a deletion just confirmed came to (`deleted`, None: none was), and, while the
    visitor has labels (`listed`), a button that deletes them, and only theirs, once confirmed."""
    if not listed and deleted is None:
        return
    with st.container(key=DELETION_AREA):
        if deleted is not None:
            st.success(deleted_said(deleted), icon=":material/delete:")
        if not listed:
            return
        if st.session_state.get(DELETE_KEY):
            deletion_question(listed)
        else:
            st.button(
                DELETE_TEXT,
                icon=":material/delete:",
                on_click=confirm_deleting,
                args=(True,),
                help="Remove your drawings and their labels from the database, for good.",
            )


def deletion_question(listed: int) -> None:
    """Whether to delete them all, asked in place of the button."""
    with st.container(border=True):
        st.markdown(
            f"**Delete all {listed:,} of your labels?** Your drawings and the digits you gave "
            "go from the database for good: from History, downloads, training and the Draw "
            "tab's examples. Nobody else's labels change."
        )
        with st.container(horizontal=True):
            st.button(DELETE_CONFIRM_TEXT, type="primary", on_click=delete_labels)
            st.button(KEEP_TEXT, on_click=confirm_deleting, args=(False,))


def confirm_deleting(asking: bool) -> None:
    """Ask, or stop asking, whether to delete this visitor's labels."""
    st.session_state[DELETE_KEY] = asking


def delete_labels() -> None:
    """Delete this visitor's labels: the confirmation's callback."""
    st.session_state[DELETE_KEY] = False
    try:
        deleted = open_feedback_store().delete(session_id())
    except StorageUnavailable:
        st.toast(DELETE_UNAVAILABLE, icon=":material/cloud_off:")
        return
    forget_saved_here()
    st.session_state[DELETED_KEY] = deleted
    # Also said where it shows whatever is scrolled into view: the button is at the tab's end.
    st.toast(deleted_said(deleted), icon=":material/delete:")


def deleted_said(deleted: int) -> str:
    """How many of their labels a deletion removed, in words."""
    return f"Deleted your {counted(deleted, 'label')}."


def owner_sign_in() -> bool:
    """Whether this session is the app's owner; offers the secret's field when one is set."""
    secret = access.owner_secret(secrets=st.secrets)
    if secret is None:
        return False
    if st.session_state.get(OWNER_KEY):
        return True
    with st.expander("For the app's owner"):
        # Checked once per value typed, in the callback, not on every rerun of the page.
        st.text_input(
            "Owner secret",
            type="password",
            key=OWNER_SECRET_INPUT_KEY,
            autocomplete="off",
            on_change=check_owner_secret,
        )
        refusal = st.session_state.get(OWNER_REFUSAL_KEY)
        if refusal:
            st.error(refusal, icon="🔒")
    return bool(st.session_state.get(OWNER_KEY))


def check_owner_secret() -> None:
    """The secret field's callback: sign the session in, or say why not; the field is emptied."""
    secret = access.owner_secret(secrets=st.secrets)
    attempt = st.session_state.get(OWNER_SECRET_INPUT_KEY, "")
    st.session_state[OWNER_SECRET_INPUT_KEY] = ""
    st.session_state[OWNER_REFUSAL_KEY] = None
    if not attempt:
        return
    try:
        if owner_guesses().check(attempt, secret, session_id()):
            st.session_state[OWNER_KEY] = True
        else:
            st.session_state[OWNER_REFUSAL_KEY] = "That is not the owner secret."
    except RateLimited as limited:
        st.session_state[OWNER_REFUSAL_KEY] = str(limited)
    except StorageUnavailable:  # the guesses are counted in the database, which failed
        st.session_state[OWNER_REFUSAL_KEY] = OWNER_CHECK_UNAVAILABLE


def history_section() -> None:
    """This visitor's labels (everyone's for the owner): latest first, with accuracy and the
    confusion heat-map over all labels, and downloads."""
    owner = owner_sign_in()
    mine = None if owner else session_id()
    try:
        store = open_feedback_store()
        summary = store.summary()  # counts only: nobody's drawings
        entries = store.history(limit=HISTORY_ROWS, session_id=mine)
        listed = summary.labelled if owner else store.count(mine)
    except StorageUnavailable:
        st.warning(
            "**The history is unavailable right now**; drawing and reading digits go on. "
            "Try again in a moment.",
            icon="💾",
        )
        return
    deleted = st.session_state.pop(DELETED_KEY, None)
    if summary.labelled == 0:
        st.info(NO_LABELS_HINT, icon="🗂️")
        label_deletion(0, deleted)
        return
    st.markdown("**How well the model reads** (everyone's labelled drawings, counted together)")
    accuracy_row(summary)
    if entries:
        history_table(entries, listed, "Everyone's" if owner else "Your")
    else:
        st.info(NO_OWN_LABELS_HINT, icon="🗂️")
    st.markdown(
        "**Confusion matrix** (all labelled drawings: right answers in blue on the diagonal, "
        f'misreadings in orange off it, and under "{charts.NO_DIGIT_ANSWER}" the digits the '
        "page took for no digit)"
    )
    st.vega_lite_chart(
        spec=charts.confusion_heatmap(summary.confusion, counted="Drawings"),
        width="stretch",
        height=330,
    )
    if entries:
        download_links(store, mine, listed)
    label_deletion(listed if entries and mine is not None else 0, deleted)
