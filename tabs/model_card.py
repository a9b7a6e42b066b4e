"""The Model card tab: how the model was built and how well it reads digits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

import digit_model
from digit_model import ModelMetrics
from digit_model.metrics import (
    Calibration,
    SourceFigures,
    commonest_letters_read,
    commonest_misreads,
    pooled,
)
from tabs import charts
from tabs.common import NO_VALUE

ALL_SITES = "all together"  # the row of the sites-left-out table that pools every site
ROW_HEIGHT = 35  # px of one row of a table, its header's too
SURE = 0.9  # the summary says how often answers about this sure were right...
SURE_ANSWERS = 30  # ...where at least this many were given
# Short headings, so that a source's table fits the page's width without scrolling sideways.
SOURCE_HEADINGS = {
    "Commonest misreads": st.column_config.Column(
        "Misread most", help="The commonest misreadings: the digit written → the digit read (times)"
    ),
    "Taken for no digit": st.column_config.Column(
        "No digit", help='Real digits answered "Not a digit"'
    ),
    "Letters flagged": st.column_config.Column(
        "Flagged", help='The letters answered "Not a digit", as they should be'
    ),
    "Letters taken for digits": st.column_config.Column(
        "Let through", help="The letters most often read as a digit: letter → digit (times)"
    ),
}
# The headings' explanations in words, for a touch screen, where nothing hovers.
HEADINGS_SAID = (
    'In these tables, **No digit** is the share of real digits answered "Not a digit", '
    "**Flagged** the share of letters answered so, as they should be; **Misread most** and "
    "**Let through** say which digit was written, or which letter, and what was read (times)."
)
UNSEEN_BELOW = " Handwriting from places training never saw is in the table below."


def shares_table(
    frame: pd.DataFrame,
    shares: list[str],
    *,
    whole: bool = False,
    headings: Mapping[str, ColumnConfig] | None = None,
) -> None:
    """A table whose `shares` columns are shown as percentages to two decimals, and a dash
    where a value was not measured; `whole`: tall enough to show every row; `headings`: the
    short heading and its explanation that some columns show."""
    height = ROW_HEIGHT * (len(frame) + 1) + 3 if whole else "auto"
    # The table draws a missing value as its placeholder whatever the formatted text says,
    # and the formatter needs a text for it all the same: both are the dash.
    st.dataframe(
        frame.style.format(na_rep=NO_VALUE).format("{:.2%}", subset=shares, na_rep=NO_VALUE),
        hide_index=True,
        height=height,
        placeholder=NO_VALUE,
        column_config=headings,
    )


def plain_summary(metrics: ModelMetrics) -> str:
    """The card's main figures in plain words, for a reader with no use for its tables."""
    unseen = pooled(list(metrics.unseen_sources.values())) if metrics.unseen_sources else None
    unseen = unseen or metrics.pen
    if unseen is None:
        said = [
            f"The model reads {metrics.test_accuracy:.1%} of the {metrics.test_samples:,} "
            "digits it was tested on correctly."
        ]
    else:
        said = [
            f"The model reads {unseen.accuracy:.1%} of the digits written by people kept out "
            f"of its training correctly ({unseen.samples:,} digits)."
        ]
        if unseen.letters_flagged is not None:
            said.append(
                f'It says "not a digit" to {unseen.letters_flagged:.1%} of handwritten letters.'
            )
        said.append(
            f'It calls 1 real digit in {round(1 / unseen.digits_flagged):,} "not a digit" by '
            "mistake."
            if unseen.digits_flagged
            else 'It calls none of the real digits "not a digit".'
        )
    calibration, _ = calibration_measured_on(metrics)
    sure = [row for row in calibration.bins if row.low <= SURE < row.high]
    if sure and sure[0].samples >= SURE_ANSWERS:
        said.append(
            f"When it is about {sure[0].confidence:.0%} sure, it is right "
            f"{sure[0].accuracy:.0%} of the time ({sure[0].samples:,} such answers)."
        )
    if metrics.unseen_sources and metrics.unseen_calibration:
        said.append(
            'Its confidence, and where it draws the line for "not a digit", were tuned on these '
            "same digits."
        )
    if metrics.leave_one_site_out:
        folds = metrics.leave_one_site_out[-1]  # the largest models
        left_out = pooled(list(folds.sites.values()))
        sites = len(folds.sites)
        said.append(
            f"Trained the same way without one pen site at a time, it read {left_out.accuracy:.1%}"
            f" of the digits of the site it never saw ({sites} site{'s' if sites > 1 else ''}, "
            f"{left_out.samples:,} digits)."
        )
    return " ".join(said)


def summary_row(metrics: ModelMetrics) -> None:
    """Headline figures: accuracy on MNIST and on canvas-style drawings, size."""
    columns = st.columns(4)
    columns[0].metric("MNIST test accuracy", f"{metrics.test_accuracy:.2%}")
    canvas = metrics.canvas
    columns[1].metric(
        "Canvas-style accuracy",
        f"{canvas.accuracy:.2%}" if canvas else "not measured",
        help="MNIST test digits redrawn as canvas strokes at random sizes, places and "
        "colours, read through the same steps as a drawing on this page."
        + (f" {canvas.samples:,} drawings." if canvas else "")
        + (
            f" {canvas.digits_flagged:.1%} of them were called not a digit."
            if canvas and canvas.digits_flagged is not None
            else ""
        ),
    )
    columns[2].metric("Parameters", f"{metrics.parameters:,}")
    columns[3].metric("File size", f"{metrics.file_size_bytes / 1e6:.2f} MB")
    st.caption(
        f"Tested on {metrics.test_samples:,} held-out MNIST digits. Trained for "
        f"{metrics.epochs} epochs ({metrics.training_seconds / 60:.1f} min) on "
        f"{metrics.training_samples:,} drawings, finished "
        f"{datetime.fromisoformat(metrics.trained_at):%Y-%m-%d %H:%M %Z}."
    )


def architecture_table(metrics: ModelMetrics) -> None:
    """The network layer by layer: what each layer is, its output shape, its weights."""
    st.markdown("**Architecture**")
    kinds = Counter(layer.type for layer in metrics.architecture)
    st.caption(", ".join(f"{count} {kind}" for kind, count in kinds.items()))
    layers = pd.DataFrame([vars(layer) for layer in metrics.architecture]).rename(
        columns={
            "layer": "Layer",
            "type": "Type",
            "output": "Output shape",
            "parameters": "Parameters",
        }
    )
    st.dataframe(layers, hide_index=True, height=250)


def per_digit_accuracy(metrics: ModelMetrics) -> None:
    """The share of each digit's test images misread, so the weaker ones stand out."""
    st.markdown("**Misread per digit**")
    st.caption(
        "The share of each digit's test images misread: the tallest bar is the weakest digit."
    )
    st.vega_lite_chart(
        spec=charts.per_digit_accuracy_chart(metrics.per_digit_accuracy, st.context.theme.type),
        width="stretch",
        height=230,
    )


def confusion_on_test_digits(metrics: ModelMetrics) -> None:
    """Which test digits the model takes for which."""
    st.markdown("**Confusion matrix** (test set: right answers in blue, mistakes in orange)")
    st.vega_lite_chart(
        spec=charts.confusion_heatmap(metrics.confusion_matrix, counted="Test digits"),
        width="stretch",
        height=330,
    )


def calibration_measured_on(metrics: ModelMetrics) -> tuple[Calibration, str]:
    """The calibration the card shows, and the drawings it was measured on, in words."""
    if metrics.unseen_calibration and metrics.unseen_sources:
        names = ", ".join(metrics.unseen_sources)
        return metrics.unseen_calibration, f"digits of sources kept out of training ({names})"
    if metrics.pen:
        return metrics.pen.calibration, "pen digits of writers kept out of training"
    return metrics.test_calibration, "MNIST test digits"


def source_table(
    sources: dict[str, SourceFigures], first_column: str, *, counted: bool = True
) -> None:
    """One row per source of handwriting: its writers and digits (unless not `counted`, where
    a table above gave them), read right, refused, letters flagged, its commonest
    misreadings, and the letters most often taken for a digit."""
    # The figures first, the words after: a narrow screen shows the first columns.
    frame = pd.DataFrame(
        {
            first_column: name,
            "Writers": source.writers,
            "Digits": source.samples,
            "Read right": source.accuracy,
            "Taken for no digit": source.digits_flagged,
            "Letters flagged": source.letters_flagged,
            # Not recorded: None, shown as the dash a share not measured shows.
            "Commonest misreads": commonest_misreads(source.confusion_matrix) or None,
            "Letters taken for digits": commonest_letters_read(source.letters_read_as, count=2)
            or None,
        }
        for name, source in sources.items()
    )
    if not counted:
        frame = frame.drop(columns=["Writers", "Digits"])
    shares = ["Read right", "Taken for no digit", "Letters flagged"]
    if not any(source.letters for source in sources.values()):  # digits alone: no empty columns
        frame = frame.drop(columns=["Letters flagged", "Letters taken for digits"])
        shares.remove("Letters flagged")
    shares_table(frame, shares, headings=SOURCE_HEADINGS)


def unseen_sources_table(metrics: ModelMetrics) -> None:
    """Handwriting from sources training never saw, one row each: what users meet."""
    if not metrics.unseen_sources:
        return
    st.markdown("**Sources never seen in training** (no writer and no site of them)")
    st.caption(HEADINGS_SAID)
    source_table(metrics.unseen_sources, "Source")


def coarse_scans(metrics: ModelMetrics) -> None:
    """The unseen sources scanned black-and-white into coarse grids, as old forms and
    low-resolution scanners send digits to the API."""
    if not metrics.coarse_scans:
        return
    st.markdown("**Coarse black-and-white scans**")
    st.caption(
        "The same sources' digits and letters scanned into a grid of 16 by 16 or 32 by 32 "
        "black or white cells, the character's box filling it, and sent scaled up so that each "
        "cell is a block: read as an uploaded picture is."
    )
    # The writers and digits of the unseen sources' table, just above: left out, the table
    # fits a desktop's width.
    source_table(metrics.coarse_scans, "Scanned into", counted=False)


def scanned_again(metrics: ModelMetrics) -> None:
    """The Vienna validation digits at coarser scans: what a blurred, low-resolution scan costs."""
    if not metrics.scanned:
        return
    st.markdown("**Scanned at fewer pixels across**")
    st.caption(
        "The Vienna validation writers' digits, scanned again at fewer pixels across and scaled "
        "back up, so blurred as a coarse scan or a small photo is, then read as the page reads "
        "a drawing. At 28 px they are read as they came."
    )
    source_table(metrics.scanned, "Scanned at")


def sites_left_out(metrics: ModelMetrics) -> None:
    """Every pen site read by a model trained without it: the recipe at new places, one
    table per size of model."""
    if not metrics.leave_one_site_out:
        return
    st.markdown("**Each pen site left out in turn**")
    st.caption(
        "For each UNIPEN site, a model was trained the same way on every other site's "
        "writers, with its confidence and not-a-digit threshold fitted on the Vienna "
        "validation writers alone, then read the site it never saw. It shows how the way this "
        "model is trained copes with each place in turn, not just the ones kept out of it. "
        "The last row of each table counts its sites' drawings together."
    )
    for folds in metrics.leave_one_site_out:
        st.caption(
            f"Models of {folds.epochs} epochs on {folds.mnist_digits:,} MNIST digits "
            f"(this model: {metrics.epochs} epochs), {len(folds.sites)} "
            f"site{'s' if len(folds.sites) > 1 else ''} left out:"
        )
        together = pooled(list(folds.sites.values()))
        source_table({**folds.sites, ALL_SITES: together}, "Site left out")


def pen_and_calibration(metrics: ModelMetrics) -> None:
    """Real pen handwriting of writers the model never saw: digits read, letters flagged,
    and how far its confidence can be trusted."""
    pen = metrics.pen
    calibration, measured_on = calibration_measured_on(metrics)
    st.markdown("**Handwriting from elsewhere, and confidence**")
    figures = [
        (
            "Calibration error",
            f"{calibration.ece:.2%}",
            "How far the confidence shown is, on average, from how often such answers are "
            f"right ({calibration.samples:,} {measured_on}).",
        )
    ]
    if pen:
        figures[:0] = [
            (
                "Pen digits, known sites",
                f"{pen.accuracy:.2%}",
                f"{pen.samples:,} digits written on pen tablets by {pen.writers:,} "
                "writers kept out of training, at sites training learnt from."
                + (UNSEEN_BELOW if metrics.unseen_sources else ""),
            ),
            (
                "Their letters flagged",
                f"{pen.letters_flagged:.2%}",
                f"Of {pen.letters:,} letters by the same writers, the share the model says are "
                f"not a digit at all. Digits it wrongly says so of: {pen.digits_flagged:.2%}.",
            ),
        ]
    for column, (label, value, explanation) in zip(st.columns(len(figures)), figures):
        column.metric(label, value, help=explanation)
    unseen_sources_table(metrics)
    coarse_scans(metrics)
    scanned_again(metrics)
    sites_left_out(metrics)
    st.caption(
        f"Reliability, measured on {calibration.samples:,} {measured_on}: answers grouped by "
        "the confidence they were given, against how often they were right. The closer to the "
        "dashed diagonal, the more the confidence can be trusted; each point's size and number "
        "say how many answers it stands on, so a point of a few answers may stray."
    )
    st.vega_lite_chart(
        spec=charts.calibration_chart(
            [vars(row) for row in calibration.bins], st.context.theme.type
        ),
        width="stretch",
        height=260,
    )
    rows = [("Style: " + name, share, None) for name, share in metrics.styles.items()]
    if pen:
        letters = pen.letters_by_site or {}
        rows = [
            ("Pen digits, site " + site, share, letters.get(site))
            for site, share in pen.by_site.items()
        ] + rows
    shares_table(
        pd.DataFrame(rows, columns=["Drawings", "Read right", "Letters flagged"]),
        ["Read right", "Letters flagged"],
        whole=True,
    )
    st.caption(
        "Pen handwriting: UNIPEN (CC BY 4.0), read after drawing it as this canvas draws. "
        "Vienna digits: the CVL Single Digit database (TU Wien, ICDAR 2013); its validation "
        "writers are kept out of training. Styles: MNIST test digits redrawn as a slashed "
        "zero, a flagged one, a crossed seven and other ways people write outside the "
        "United States."
    )


def training_curves(metrics: ModelMetrics) -> None:
    """Loss and accuracy per epoch on training and validation digits."""
    history = metrics.history
    st.markdown("**Training curves**")
    st.caption(
        'Accuracy here is over eleven answers, the ten digits and "not a digit", before the '
        "not-a-digit threshold is fitted, and on harder drawings than MNIST's test digits: "
        "the training drawings are turned, sheared and thickened on purpose and include "
        "letters, and the validation drawings add pen digits and letters of writers and "
        "sources kept out of training to MNIST's own. The loss is computed against softened "
        "targets (label smoothing), so it levels off well above zero."
    )
    # Each legend sits inside its chart, in a corner the curves usually leave empty.
    for (measure, corner), column in zip(
        (("accuracy", "bottom-right"), ("loss", "top-right")), st.columns(2)
    ):
        column.vega_lite_chart(
            spec=charts.training_curve(history, measure, legend=corner),
            width="stretch",
            height=240,
        )


def model_card_section(path: Path, figures: Callable[[], ModelMetrics | None]) -> None:
    """How the model at `path` was built and how well it reads digits: `figures` gives its
    metrics, None when it has none, ValueError when they cannot be read."""
    metrics_file = digit_model.metrics_path(path)
    try:
        metrics = figures()
    except ValueError as error:
        st.warning(f"{error}. Retrain to rewrite the metrics: `{digit_model.train_command(path)}`.")
        return
    if metrics is None:
        st.warning(
            f"No model metrics at `{metrics_file}`. Training writes them beside the model: "
            f"`{digit_model.train_command(path)}`."
        )
        return
    st.markdown(f"**In short:** {plain_summary(metrics)}")
    summary_row(metrics)
    architecture_table(metrics)
    per_digit_accuracy(metrics)
    confusion_on_test_digits(metrics)
    pen_and_calibration(metrics)
    training_curves(metrics)
