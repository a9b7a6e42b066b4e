"""The History tab: the labelled drawings, running accuracy, confusion heat-map, downloads."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

import charts
import feedback_export
import feedback_store
from feedback_store import FeedbackStore, StorageUnavailable, Summary
from tabs.common import open_feedback_store

HISTORY_ROWS = 50  # latest labels listed in the History tab
NO_LABELS_HINT = (
    "Nothing labelled yet. Under each answer on the Draw tab, confirm it or pick the digit "
    "you meant: it is saved here at once."
)
FINETUNE_COMMAND = (
    "python train_model.py finetune --feedback feedback.npz --data ../shared/mnist.npz"
)


def browser_timezone() -> tzinfo:
    """The visitor's time zone as the browser reports it; UTC when it does not."""
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def accuracy_row(summary: Summary) -> None:
    """Running accuracy over every labelled drawing, and what it is counted on."""
    accuracy, labelled, misread = st.columns(3)
    accuracy.metric(
        "Accuracy on labelled drawings",
        f"{summary.accuracy:.1%}",
        help="How often the model's answer was the digit the person meant.",
    )
    labelled.metric("Labelled drawings", f"{summary.labelled:,}")
    misread.metric("Misread", f"{summary.labelled - summary.correct:,}")


def history_table(entries: list[feedback_store.Entry], labelled: int) -> None:
    """The latest labels, newest first, each with a small picture of the drawing."""
    zone = browser_timezone()
    table = pd.DataFrame(
        {
            "Drawing": [feedback_store.thumbnail(entry.image) for entry in entries],
            "Answer": [entry.predicted_digit for entry in entries],
            # In percent, to be shown as the Draw tab shows it: whole percents.
            "Confidence": [entry.confidence * 100 for entry in entries],
            "True digit": [entry.true_digit for entry in entries],
            "Right": ["✓" if entry.correct else "✗" for entry in entries],
            "Time": [entry.created_at.astimezone(zone) for entry in entries],
        }
    )
    st.markdown("**Latest labels**")
    st.caption(f"The latest {len(entries):,} of {labelled:,}, newest first; times in {zone}.")
    st.dataframe(
        table,
        hide_index=True,
        row_height=48,
        column_config={
            "Drawing": st.column_config.ImageColumn("Drawing", width="small"),
            "Confidence": st.column_config.ProgressColumn(
                "Confidence", format="%.0f%%", min_value=0, max_value=100
            ),
            "Time": st.column_config.DatetimeColumn("Time", format="YYYY-MM-DD HH:mm:ss"),
        },
    )


def download_buttons(store: FeedbackStore, labelled: int) -> None:
    """Every label as CSV, and as an MNIST-style training set; built only when clicked."""
    st.markdown("**Downloads** (every labelled drawing, oldest first)")
    csv_column, npz_column = st.columns(2)
    csv_column.download_button(
        "CSV",
        data=lambda: b"".join(feedback_export.csv_chunks(store.rows())),
        file_name="feedback.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
    npz_column.download_button(
        ".npz training set",
        data=lambda: b"".join(feedback_export.npz_chunks(store.rows(), store.count())),
        file_name="feedback.npz",
        mime="application/octet-stream",
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
    # Imported here, when the tab is open: the training script is not needed to show the page.
    from train_model import MIN_FEEDBACK

    st.caption(
        "The `.npz` holds `x` (28x28 inputs, uint8, as in MNIST) and `y` (true digits). "
        f"Fine-tune the model on it: `{FINETUNE_COMMAND}` "
        "(`--data`: MNIST in Keras's `mnist.npz` layout; without it Keras downloads MNIST). "
        f"Fine-tuning needs at least {MIN_FEEDBACK} labelled drawings; there are "
        f"{labelled:,} so far."
    )


def history_section() -> None:
    """The labelled drawings: latest first, running accuracy, confusion heat-map, downloads."""
    try:
        store = open_feedback_store()
        summary = store.summary()
        entries = store.history(limit=HISTORY_ROWS)
    except StorageUnavailable as error:
        st.warning(
            f"**The history is unavailable right now**; drawing and reading digits go on.\n\n"
            f"{error}",
            icon="💾",
        )
        return
    if summary.labelled == 0:
        st.info(NO_LABELS_HINT, icon="🗂️")
        return
    accuracy_row(summary)
    history_table(entries, summary.labelled)
    st.markdown("**Confusion matrix** (labelled drawings; off the diagonal are the misreadings)")
    st.vega_lite_chart(
        spec=charts.confusion_heatmap(summary.confusion, counted="Drawings"),
        width="stretch",
        height=330,
    )
    download_buttons(store, summary.labelled)
