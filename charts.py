"""Vega-Lite specs for the page's charts, as plain dicts: no Streamlit here, only data to chart.

Each function takes the numbers to show and returns a spec for `st.vega_lite_chart`; the
page decides where the chart goes and how large it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

HIGHLIGHT = "#2563eb"  # the theme's primary colour: the winning digit, training curves
MUTED = "#cbd5e1"  # the other nine digits
CONTRAST = "#f97316"  # a second series beside HIGHLIGHT
DARK_TEXT = "#334155"
EMPTY_CELL = "#f8fafc"  # a confusion-matrix cell nothing fell into
# Cell labels turn white where the blue is dark: above this share of the colour scale, which
# is logarithmic (symlog), so that one full diagonal does not wash out the few mistakes.
WHITE_TEXT_ABOVE = 0.65


def probability_chart(probabilities: Sequence[float]) -> dict:
    """Bar chart of the ten probabilities, the likeliest digit highlighted."""
    winner = int(np.argmax(probabilities))
    values = [
        {"digit": str(digit), "probability": float(p), "winner": digit == winner}
        for digit, p in enumerate(probabilities)
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


def per_digit_accuracy_chart(per_digit_accuracy: Sequence[float]) -> dict:
    """Bar chart of each digit's accuracy, on an axis that starts near the lowest one."""
    values = [
        {"digit": str(digit), "accuracy": accuracy}
        for digit, accuracy in enumerate(per_digit_accuracy)
    ]
    lowest = min(per_digit_accuracy)
    return {
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
    }


def confusion_heatmap(confusion: Sequence[Sequence[int]] | np.ndarray, counted: str) -> dict:
    """Heat-map of a 10x10 confusion matrix (rows: true digit); `counted` names what is counted."""
    matrix = np.asarray(confusion, dtype=np.int64)
    if matrix.shape != (10, 10):
        raise ValueError(f"A confusion matrix has 10x10 cells, got shape {matrix.shape}.")
    values = [
        {"true": str(true), "predicted": str(predicted), "count": int(count)}
        for true, row in enumerate(matrix)
        for predicted, count in enumerate(row)
    ]
    white_text_above = (1 + int(matrix.max())) ** WHITE_TEXT_ABOVE - 1
    return {
        "data": {"values": values},
        "encoding": {
            "x": {
                "field": "predicted",
                "type": "ordinal",
                "title": "Predicted",
                "axis": {"labelAngle": 0, "orient": "top"},
            },
            "y": {"field": "true", "type": "ordinal", "title": "True digit"},
            "tooltip": [
                {"field": "true", "title": "True digit"},
                {"field": "predicted", "title": "Predicted"},
                {"field": "count", "type": "quantitative", "title": counted},
            ],
        },
        "layer": [
            {
                "mark": "rect",
                "encoding": {
                    "color": {
                        "condition": {"test": "datum.count === 0", "value": EMPTY_CELL},
                        "field": "count",
                        "type": "quantitative",
                        "scale": {"type": "symlog", "scheme": "blues"},
                        "legend": None,
                    }
                },
            },
            {
                # Empty cells stay blank, so the few filled ones stand out.
                "transform": [{"filter": "datum.count > 0"}],
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    "text": {"field": "count", "type": "quantitative"},
                    "color": {
                        "condition": {
                            "test": f"datum.count > {white_text_above:.1f}",
                            "value": "white",
                        },
                        "value": DARK_TEXT,
                    },
                },
            },
        ],
    }


def training_curve(history: Mapping[str, Sequence[float]], measure: str, legend: str) -> dict:
    """One measure ("loss" or "accuracy") per epoch on training and validation digits.

    `legend` is the corner the legend sits in, one the curves usually leave empty.
    """
    values = [
        {"epoch": epoch, "split": split, measure: value}
        for key, split in ((measure, "training"), (f"val_{measure}", "validation"))
        for epoch, value in enumerate(history.get(key, []), start=1)
    ]
    return {
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
                "scale": {"range": [HIGHLIGHT, CONTRAST]},
                "legend": {"orient": legend, "direction": "horizontal"},
            },
        },
    }
