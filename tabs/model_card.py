"""The Model card tab: how the model was built and how well it reads digits."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

import charts
import digit_model


def summary_row(metrics: dict) -> None:
    """Headline figures: accuracy on MNIST and on canvas-style drawings, size."""
    columns = st.columns(4)
    columns[0].metric("Test accuracy", f"{metrics['test_accuracy']:.2%}")
    canvas = metrics.get("canvas")
    columns[1].metric(
        "Canvas-style accuracy",
        f"{canvas['accuracy']:.2%}" if canvas else "not measured",
        help="MNIST test digits redrawn as canvas strokes at random sizes, places and "
        "colours, read through the same steps as a drawing on this page."
        + (f" {canvas['samples']:,} drawings." if canvas else ""),
    )
    columns[2].metric("Parameters", f"{metrics['parameters']:,}")
    columns[3].metric("File size", f"{metrics['file_size_bytes'] / 1e6:.2f} MB")
    details = []
    if "test_samples" in metrics:
        details.append(f"Tested on {metrics['test_samples']:,} held-out MNIST digits.")
    if "epochs" in metrics:
        details.append(
            f"Trained for {metrics['epochs']} epochs "
            f"({metrics['training_seconds'] / 60:.1f} min) on "
            f"{metrics['training_samples']:,} digits, finished "
            f"{datetime.fromisoformat(metrics['trained_at']):%Y-%m-%d %H:%M %Z}."
        )
    st.caption(" ".join(details))


def architecture_table(metrics: dict) -> None:
    """The network layer by layer: what each layer is, its output shape, its weights."""
    st.markdown("**Architecture**")
    kinds = Counter(layer["type"] for layer in metrics["architecture"])
    st.caption(", ".join(f"{count} {kind}" for kind, count in kinds.items()))
    layers = pd.DataFrame(metrics["architecture"]).rename(
        columns={
            "layer": "Layer",
            "type": "Type",
            "output": "Output shape",
            "parameters": "Parameters",
        }
    )
    st.dataframe(layers, hide_index=True, height=250)


def per_digit_accuracy(metrics: dict) -> None:
    """Test accuracy of each digit, so the weaker ones stand out."""
    st.markdown("**Accuracy per digit**")
    st.caption("Bars: the share of each digit's test images misread. Labels: its accuracy.")
    st.vega_lite_chart(
        spec=charts.per_digit_accuracy_chart(metrics["per_digit_accuracy"]),
        width="stretch",
        height=230,
    )


def confusion_on_test_digits(metrics: dict) -> None:
    """Which test digits the model takes for which."""
    st.markdown("**Confusion matrix** (test set; off the diagonal are the mistakes)")
    st.vega_lite_chart(
        spec=charts.confusion_heatmap(metrics["confusion_matrix"], counted="Test digits"),
        width="stretch",
        height=330,
    )


def pen_and_calibration(metrics: dict) -> None:
    """Digits written with a pen by people the model never saw, and how far its confidence
    can be trusted; shown when the metrics file has them."""
    pen = metrics.get("pen")
    calibration = metrics.get("test_calibration")
    if not pen and not calibration:
        return
    st.markdown("**Pen handwriting and confidence**")
    figures = []
    if pen:
        figures.append(
            (
                "Pen digits",
                f"{pen['accuracy']:.2%}",
                f"{pen['samples']:,} digits written on pen tablets by {pen['writers']:,} "
                "writers kept out of training.",
            )
        )
        figures.append(
            (
                "Letters taken for no digit",
                f"{pen['letters_flagged']:.1%}",
                f"Of {pen['letters']:,} handwritten letters, the share the model says are "
                "not a digit at all.",
            )
        )
    if calibration:
        figures.append(
            (
                "Calibration error",
                f"{calibration['ece']:.2%}",
                "How far the confidence shown is, on average, from how often such answers "
                f"are right ({calibration['samples']:,} MNIST test digits).",
            )
        )
    for column, (label, value, explanation) in zip(st.columns(len(figures)), figures):
        column.metric(label, value, help=explanation)
    if calibration and calibration.get("bins"):
        st.caption(
            "Answers grouped by the confidence they were given, against how often they were "
            "right: the closer to the dashed diagonal, the more the confidence can be trusted."
        )
        st.vega_lite_chart(
            spec=charts.calibration_chart(calibration["bins"]), width="stretch", height=260
        )


def training_curves(metrics: dict) -> None:
    """Loss and accuracy per epoch on training and validation digits."""
    history = metrics.get("history")
    if not history:
        st.caption("No training curves: this model's metrics come from an evaluation only.")
        return
    st.markdown("**Training curves**")
    # Each legend sits inside its chart, in a corner the curves usually leave empty.
    for (measure, corner), column in zip(
        (("accuracy", "bottom-right"), ("loss", "top-right")), st.columns(2)
    ):
        column.vega_lite_chart(
            spec=charts.training_curve(history, measure, legend=corner),
            width="stretch",
            height=240,
        )


def model_card_section(path: Path) -> None:
    """How the model was built and how well it reads digits, from its metrics file."""
    metrics = digit_model.load_metrics(path)
    metrics_file = digit_model.metrics_path(path)
    if metrics is None:
        st.warning(
            f"No model metrics at `{metrics_file}`. Training writes them beside the model: "
            f"`{digit_model.TRAIN_COMMAND}`."
        )
        return
    try:
        summary_row(metrics)
        architecture_table(metrics)
        per_digit_accuracy(metrics)
        confusion_on_test_digits(metrics)
        pen_and_calibration(metrics)
        training_curves(metrics)
    except (KeyError, TypeError, ValueError) as error:
        st.warning(
            f"The model metrics in `{metrics_file}` are incomplete ({type(error).__name__}: "
            f"{error}). Retrain to rewrite them: `{digit_model.TRAIN_COMMAND}`."
        )
