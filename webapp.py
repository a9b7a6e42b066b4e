"""Draw a digit and the page reads it on every stroke.

    streamlit run webapp.py

One page in tabs: "Draw" (canvas, answer, probabilities, what the model sees) and
"Model card" (how the model was built and how well it does). Computing lives in
`preprocess` and `digit_model`; this file only lays out the page and wires it up.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

import digit_model
from preprocess import canvas_to_ink, normalize

MODEL_PATH_VARIABLE = "DIGIT_MODEL_PATH"  # point the page at another model file
CANVAS_KEY = "digit_canvas"
CANVAS_SIZE = 280  # px; fits a 360 px phone screen with the page margins
BRUSH_WIDTHS = (6, 40)  # px, the slider's range
DEFAULT_BRUSH = 18
UNSURE_BELOW = 0.6  # a winner less likely than this is shown as a guess between two digits
PREVIEW_SCALE = 6  # each of the 28x28 input pixels becomes a crisp 6x6 block
HIGHLIGHT = "#2563eb"  # the theme's primary colour, for the winning digit
MUTED = "#cbd5e1"
DRAW_HINT = "Draw a digit from 0 to 9 in the box. The answer appears as soon as you lift the pen."

# The canvas waits 200 ms after the pen is lifted before it sends the drawing, to batch quick
# edits; that alone would double the time to the answer. When a stroke ends on the drawing
# surface, this asks it to send at once through its own "Update the app" toolbar button (after
# the canvas has finished the stroke). If the component's markup ever changes, the page falls
# back to the canvas's own delay.
SEND_ON_PEN_UP = """<script>
(() => {
  if (window.digitCanvasSendsOnPenUp) return;
  window.digitCanvasSendsOnPenUp = true;
  document.addEventListener("pointerup", (event) => {
    const surface = event.composedPath().find((node) => node.classList?.contains("upper-canvas"));
    const host = surface?.getRootNode().host;
    if (!host?.closest(".st-key-CANVAS_KEY")) return;
    setTimeout(() => host.shadowRoot
      .querySelector('button[aria-label="Update the app with this drawing"]')?.click());
  }, true);
})();
</script>""".replace("CANVAS_KEY", CANVAS_KEY)


@dataclass(frozen=True)
class Reading:
    """What the model made of one drawing: its 28x28 input and the ten probabilities."""

    image: np.ndarray
    probabilities: np.ndarray

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def top_two(self) -> tuple[int, int]:
        first, second = np.argsort(self.probabilities)[::-1][:2]
        return int(first), int(second)


def model_path() -> Path:
    """The model file: DIGIT_MODEL_PATH when set, else the one committed with the app."""
    return Path(os.environ.get(MODEL_PATH_VARIABLE) or digit_model.DEFAULT_PATH)


@st.cache_resource(show_spinner="Loading the digit model…")
def load_classifier(path: str) -> digit_model.Classifier:
    """Load the model once per server process; every session and stroke shares it."""
    classifier = digit_model.load(path)
    # After every run, fragment runs included, Streamlit collects garbage (and clears Keras's
    # session, which collects again). With TensorFlow loaded each collection walks ~350k
    # objects and holds the interpreter for a few hundred ms; the answer waits for it before
    # going out. The objects alive now (modules, the model) stay for the life of the process,
    # so take them out of the collector's sight.
    gc.freeze()
    return classifier


def read_drawing(rgba: np.ndarray | None, classifier: digit_model.Classifier) -> Reading | None:
    """Run one canvas image through the model; None when there is no digit to read."""
    if rgba is None:
        return None
    image = normalize(canvas_to_ink(rgba))
    if image is None:
        return None
    return Reading(image, classifier.predict_proba(image[np.newaxis])[0])


def probability_chart(reading: Reading) -> dict:
    """Vega-Lite bar chart of all ten probabilities with the winner highlighted."""
    values = [
        {"digit": str(digit), "probability": float(p), "winner": digit == reading.digit}
        for digit, p in enumerate(reading.probabilities)
    ]
    return {
        "data": {"values": values},
        "mark": {"type": "bar", "cornerRadiusEnd": 3},
        "encoding": {
            "x": {
                "field": "digit",
                "type": "ordinal",
                "sort": None,
                "axis": {"labelAngle": 0, "title": None},
            },
            "y": {
                "field": "probability",
                "type": "quantitative",
                "scale": {"domain": [0, 1]},
                "axis": {"format": ".0%", "title": None, "tickCount": 4},
            },
            "color": {"condition": {"test": "datum.winner", "value": HIGHLIGHT}, "value": MUTED},
            "tooltip": [
                {"field": "digit", "type": "ordinal"},
                {"field": "probability", "type": "quantitative", "format": ".1%"},
            ],
        },
    }


def enlarged(image: np.ndarray) -> np.ndarray:
    """The 28x28 input as uint8 pixels, each repeated into a block so nothing gets blurred."""
    pixels = np.round(image * 255).astype(np.uint8)
    return pixels.repeat(PREVIEW_SCALE, axis=0).repeat(PREVIEW_SCALE, axis=1)


def answer_section(reading: Reading | None) -> None:
    """The answer with its confidence, all ten probabilities, and the model's view."""
    if reading is None:
        st.info(DRAW_HINT, icon="✏️")
        return
    prediction, confidence = st.columns(2)
    prediction.metric("Prediction", reading.digit)
    confidence.metric("Confidence", f"{reading.confidence:.0%}")
    if reading.confidence < UNSURE_BELOW:
        first, second = reading.top_two
        st.warning(
            f"Not sure: this looks like a **{first}** ({reading.probabilities[first]:.0%}) "
            f"or a **{second}** ({reading.probabilities[second]:.0%}). "
            "Try drawing it larger and clearer.",
            icon="🤔",
        )
    st.vega_lite_chart(spec=probability_chart(reading), width="stretch", height=190)
    st.image(
        enlarged(reading.image),
        caption="What the model sees: the 28x28 input, centred like MNIST",
        width=28 * PREVIEW_SCALE,
        output_format="PNG",
    )


@st.fragment
def drawing_section(classifier: digit_model.Classifier) -> None:
    """Canvas and answer; a stroke re-runs only this fragment, not the rest of the page."""
    # Imported here: the component registers itself with the running server on import, which
    # fails outside one, and the rest of this module is used by tests and benchmarks too.
    from streamlit_drawable_canvas import st_canvas

    canvas_column, answer_column = st.columns(2, gap="medium")
    with canvas_column:
        canvas_area = st.container()
        brush = st.slider(
            "Brush width", *BRUSH_WIDTHS, value=DEFAULT_BRUSH, format="%d px", key="brush_width"
        )
        st.caption("Undo, redo and clear (bin icon) are in the toolbar above the box.")
    with canvas_area:
        drawing = st_canvas(
            stroke_width=brush,
            stroke_color="#000000",
            background_color="#ffffff",
            height=CANVAS_SIZE,
            width=CANVAS_SIZE,
            drawing_mode="freedraw",
            update_streamlit=True,
            return_image_data=True,
            key=CANVAS_KEY,
        )
    with answer_column:
        answer_section(read_drawing(drawing.image_data, classifier))


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


def per_digit_chart(metrics: dict) -> None:
    """Test accuracy of each digit, so the weaker ones stand out."""
    values = [
        {"digit": str(digit), "accuracy": accuracy}
        for digit, accuracy in enumerate(metrics["per_digit_accuracy"])
    ]
    lowest = min(v["accuracy"] for v in values)
    st.markdown("**Accuracy per digit**")
    st.vega_lite_chart(
        spec={
            "data": {"values": values},
            # The axis starts near the lowest accuracy, so the bars are clipped, not stacked from 0.
            "mark": {"type": "bar", "color": HIGHLIGHT, "clip": True},
            "encoding": {
                "x": {"field": "digit", "type": "ordinal", "axis": {"labelAngle": 0}},
                "y": {
                    "field": "accuracy",
                    "type": "quantitative",
                    "stack": None,
                    "scale": {"domain": [min(0.95, lowest - 0.005), 1]},
                    "axis": {"format": ".1%"},
                },
                "tooltip": [
                    {"field": "digit"},
                    {"field": "accuracy", "type": "quantitative", "format": ".2%"},
                ],
            },
        },
        width="stretch",
        height=230,
    )


def confusion_heatmap(metrics: dict) -> None:
    """Confusion matrix as a heat-map: which digits the model takes for which."""
    values = [
        {"true": str(true), "predicted": str(predicted), "count": count}
        for true, row in enumerate(metrics["confusion_matrix"])
        for predicted, count in enumerate(row)
    ]
    cells = {
        "x": {
            "field": "predicted",
            "type": "ordinal",
            "title": "Predicted",
            "axis": {"labelAngle": 0, "orient": "top"},
        },
        "y": {"field": "true", "type": "ordinal", "title": "True digit"},
    }
    st.markdown("**Confusion matrix** (test set; off the diagonal are the mistakes)")
    st.vega_lite_chart(
        spec={
            "data": {"values": values},
            "encoding": {
                **cells,
                "tooltip": [
                    {"field": "true", "title": "True digit"},
                    {"field": "predicted", "title": "Predicted"},
                    {"field": "count", "type": "quantitative", "title": "Test digits"},
                ],
            },
            "layer": [
                {
                    "mark": "rect",
                    "encoding": {
                        "color": {
                            "field": "count",
                            "type": "quantitative",
                            "scale": {"type": "symlog", "scheme": "blues"},
                            "legend": None,
                        }
                    },
                },
                {
                    "mark": {"type": "text", "fontSize": 10},
                    "encoding": {
                        "text": {"field": "count", "type": "quantitative"},
                        "color": {
                            "condition": {"test": "datum.count > 100", "value": "white"},
                            "value": "#334155",
                        },
                    },
                },
            ],
        },
        width="stretch",
        height=330,
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
        values = [
            {"epoch": epoch, "split": split, measure: value}
            for key, split in ((measure, "training"), (f"val_{measure}", "validation"))
            for epoch, value in enumerate(history.get(key, []), start=1)
        ]
        column.vega_lite_chart(
            spec={
                "data": {"values": values},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "epoch", "type": "quantitative", "axis": {"tickMinStep": 1}},
                    "y": {
                        "field": measure,
                        "type": "quantitative",
                        "scale": {"type": "log"} if measure == "loss" else {"zero": False},
                    },
                    "color": {
                        "field": "split",
                        "type": "nominal",
                        "title": None,
                        "scale": {"range": [HIGHLIGHT, "#f97316"]},
                        "legend": {"orient": corner, "direction": "horizontal"},
                    },
                },
            },
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
        per_digit_chart(metrics)
        confusion_heatmap(metrics)
        training_curves(metrics)
    except (KeyError, TypeError, ValueError) as error:
        st.warning(
            f"The model metrics in `{metrics_file}` are incomplete ({type(error).__name__}: "
            f"{error}). Retrain to rewrite them: `{digit_model.TRAIN_COMMAND}`."
        )


def main() -> None:
    """The page: title, the model's state, then one tab per section."""
    st.set_page_config(page_title="Digit reader", page_icon="✏️")
    st.title("✏️ Digit reader")
    st.caption("A small convolutional network trained on MNIST reads your handwriting.")
    path = model_path()
    try:
        classifier = load_classifier(str(path))
    except digit_model.ModelUnavailable as error:
        st.error(str(error), icon="🚫")
        classifier = None

    draw_tab, model_card_tab = st.tabs(["Draw", "Model card"])
    with draw_tab:
        if classifier is None:
            st.info("The canvas comes back once the model file is in place.")
        else:
            drawing_section(classifier)
    with model_card_tab:
        model_card_section(path)
    st.html(SEND_ON_PEN_UP, unsafe_allow_javascript=True)


if __name__ == "__main__":
    main()
