"""The page's charts: Vega-Lite specs as plain dicts, and the ten probabilities as plain HTML
bars; no Streamlit here, only data to chart.

Each function takes the numbers to show and returns a spec for `st.vega_lite_chart` (or, for
the bars, HTML for `st.html`); the page decides where the chart goes and how large it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# The light theme's primary colour: the winning digit, training curves, a photo's outlines,
# and a focus ring where the theme gives none.
HIGHLIGHT = "#2563eb"
MUTED = "#cbd5e1"  # the other nine digits
CONTRAST = "#f97316"  # a second series beside HIGHLIGHT
DARK_TEXT = "#334155"  # on a confusion matrix's light cells
# A value written beside its mark, on the page's own background, by the theme the browser
# says it shows (Vega cannot tell): dark slate on the light theme's white (7.6 to 1), light
# slate on the dark theme's navy (7.0 to 1). Before the browser has said (a visit's first
# run, a theme just switched), a mid slate readable on both (4.8 and 3.7 to 1).
LABEL_TEXT = {"light": "#475569", "dark": "#94a3b8", None: "#64748b"}
# The marks a chart's values are drawn with, by theme: each theme's primary colour, which
# stands out from its background (5.2 and 4.9 to 1; before the browser has said, HIGHLIGHT,
# 3.5 to 1 on the dark theme's navy). A reliability point, a little see-through, stays above
# 3 to 1 on either theme; the line that joins the points is a fainter guide.
MARK_COLOUR = {"light": HIGHLIGHT, "dark": "#3b82f6", None: HIGHLIGHT}
# A confusion-matrix cell nothing fell into: a faint grey over the light theme's background
# and over the dark theme's alike.
EMPTY_CELL = "rgba(148, 163, 184, 0.12)"
NO_DIGIT_ANSWER = "no digit"  # a confusion matrix's column of drawings given no digit
# A confusion matrix's right answers in blues, its mistakes in oranges: a mistake made as
# often as some right answer then still stands apart from it.
CELL_SCHEMES = {"right": "blues", "mistake": "oranges"}
# Cell labels turn white where the colour is dark: above this share of each colour scale,
# which is logarithmic (symlog), so that one full diagonal does not wash out the few mistakes.
WHITE_TEXT_ABOVE = 0.65
# Room around each chart's plot, in pixels: a label above the tallest bar or point, and the
# first and last axis labels, centred on their ticks, would otherwise be cut at the edge.
PADDING = {"top": 14, "right": 6, "bottom": 6, "left": 6}
LABEL_ROOM = 1.2  # a bar chart's axis reaches this far above its tallest bar, for its label
# A reliability point's area, in square pixels: from a band of one answer to the busiest.
POINT_AREA = (12, 400)
# How far above a point its count's baseline lies: the largest point's radius and a gap
COUNT_LABEL_DY = -math.ceil(math.sqrt(POINT_AREA[1] / math.pi)) - 3


PROBABILITIES_NAME = "How likely each digit is"  # what a screen reader calls the ten bars


def probability_bars(probabilities: Sequence[float]) -> str:
    """The ten probabilities as plain HTML bars, the likeliest digit highlighted: a few hundred
    bytes that the browser lays out at once, where a Vega-Lite chart is embedded anew on every
    stroke. Each bar says its digit and probability to a screen reader and on hover, as the
    chart's marks did; page.css lays them out."""
    winner = int(np.argmax(probabilities))
    bars = []
    for digit, probability in enumerate(probabilities):
        said = f"digit: {digit}; probability: {probability:.1%}"
        colour = HIGHLIGHT if digit == winner else MUTED
        bars.append(
            f'<div class="digit-bar" role="img" aria-label="{said}" title="{said}">'
            f'<span class="digit-bar-room"><span class="digit-bar-fill" '
            f'style="height: {probability:.2%}; background: {colour}"></span></span>'
            f'<span class="digit-bar-digit" aria-hidden="true">{digit}</span></div>'
        )
    return (
        f'<div class="digit-bars" role="group" aria-label="{PROBABILITIES_NAME}">'
        f"{''.join(bars)}</div>"
    )


def for_theme(colours: Mapping[str | None, str], theme: str | None) -> str:
    """The colour for a page of this theme ("light", "dark", or None when the browser has not
    said) from a choice by theme (`LABEL_TEXT`, `MARK_COLOUR`); an unknown theme's is None's."""
    return colours.get(theme, colours[None])


def per_digit_accuracy_chart(per_digit_accuracy: Sequence[float], theme: str | None) -> dict:
    """Bar chart of the share of each digit's test images misread, each bar labelled with it
    in the colour that reads on the page's `theme`.

    With every digit near 100 %, accuracy bars from zero would all look alike, and bars on an
    axis that starts near the top are cut; misread shares are small whole bars that differ.
    The axis reaches a little above the tallest bar, for its label.
    """
    values = [
        {"digit": str(digit), "accuracy": accuracy, "misread": 1 - accuracy}
        for digit, accuracy in enumerate(per_digit_accuracy)
    ]
    tallest = max(value["misread"] for value in values)
    return {
        "padding": PADDING,
        "data": {"values": values},
        "encoding": {
            "x": {"field": "digit", "type": "ordinal", "axis": {"labelAngle": 0, "title": None}},
            "y": {
                "field": "misread",
                "type": "quantitative",
                "scale": {"zero": True, "domainMax": tallest * LABEL_ROOM or 1, "nice": False},
                "axis": {"format": ".1%", "title": "Misread", "tickCount": 4},
            },
            "tooltip": [
                {"field": "digit"},
                {"field": "accuracy", "type": "quantitative", "format": ".2%"},
                {"field": "misread", "type": "quantitative", "format": ".2%"},
            ],
        },
        "layer": [
            {"mark": {"type": "bar", "color": for_theme(MARK_COLOUR, theme), "cornerRadiusEnd": 2}},
            {
                "mark": {
                    "type": "text",
                    "dy": -6,
                    "fontSize": 10,
                    "color": for_theme(LABEL_TEXT, theme),
                },
                "encoding": {"text": {"field": "misread", "type": "quantitative", "format": ".2%"}},
            },
        ],
    }


def calibration_chart(bins: Sequence[Mapping[str, float]], theme: str | None) -> dict:
    """Reliability diagram: how often answers given with each confidence were right.

    `bins` are {"confidence", "accuracy", "samples"} per confidence band; a calibrated model's
    points lie on the diagonal. Each point's area and label say how many answers it stands
    on, so a band of two drawings far from the diagonal is seen for what it is; the labels
    in the colour that reads on the page's `theme`.
    """
    values = [
        {
            "confidence": float(row["confidence"]),
            "accuracy": float(row["accuracy"]),
            "samples": int(row["samples"]),
        }
        for row in bins
    ]
    lowest = min([row["confidence"] for row in values] + [row["accuracy"] for row in values])
    start = max(0.0, np.floor(lowest * 10) / 10)
    axis = {"format": ".0%", "tickCount": 5, "labelFlush": False}
    return {
        "padding": PADDING,
        "layer": [
            {
                "data": {"values": [{"x": start, "y": start}, {"x": 1.0, "y": 1.0}]},
                "mark": {"type": "line", "color": MUTED, "strokeDash": [4, 4]},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative"},
                    "y": {"field": "y", "type": "quantitative"},
                },
            },
            {
                "data": {"values": values},
                "mark": {"type": "line", "color": for_theme(MARK_COLOUR, theme), "opacity": 0.5},
                "encoding": {
                    "x": {"field": "confidence", "type": "quantitative"},
                    "y": {"field": "accuracy", "type": "quantitative"},
                },
            },
            {
                "data": {"values": values},
                "mark": {
                    "type": "text",
                    "baseline": "bottom",
                    "dy": COUNT_LABEL_DY,
                    "fontSize": 10,
                    "color": for_theme(LABEL_TEXT, theme),
                },
                "encoding": {
                    "x": {"field": "confidence", "type": "quantitative"},
                    "y": {"field": "accuracy", "type": "quantitative"},
                    "text": {"field": "samples", "type": "quantitative", "format": ","},
                },
            },
            {
                "data": {"values": values},
                "mark": {"type": "circle", "color": for_theme(MARK_COLOUR, theme), "opacity": 0.85},
                "encoding": {
                    "size": {
                        "field": "samples",
                        "type": "quantitative",
                        "scale": {"type": "sqrt", "range": list(POINT_AREA)},
                        "legend": None,
                    },
                    "x": {
                        "field": "confidence",
                        "type": "quantitative",
                        "scale": {"domain": [start, 1]},
                        "axis": {**axis, "title": "Confidence given"},
                    },
                    "y": {
                        "field": "accuracy",
                        "type": "quantitative",
                        "scale": {"domain": [start, 1]},
                        "axis": {**axis, "title": "Share right"},
                    },
                    "tooltip": [
                        {"field": "confidence", "type": "quantitative", "format": ".1%"},
                        {"field": "accuracy", "type": "quantitative", "format": ".1%"},
                        {"field": "samples", "type": "quantitative", "title": "Answers"},
                    ],
                },
            },
        ],
    }


def confusion_heatmap(confusion: Sequence[Sequence[int]] | np.ndarray, counted: str) -> dict:
    """Heat-map of a confusion matrix (rows: true digit; columns: the digit answered, and with
    an eleventh, "no digit"), right answers and mistakes in colours of their own; `counted`
    names what is counted."""
    matrix = np.asarray(confusion, dtype=np.int64)
    if matrix.shape not in ((10, 10), (10, 11)):
        raise ValueError(f"A confusion matrix has 10x10 or 10x11 cells, got {matrix.shape}.")
    answers = [str(digit) for digit in range(10)] + [NO_DIGIT_ANSWER]
    values = [
        {
            "true": str(true),
            "predicted": answers[predicted],
            "count": int(count),
            "cell": "right" if true == predicted else "mistake",
        }
        for true, row in enumerate(matrix)
        for predicted, count in enumerate(row)
    ]
    right = np.eye(*matrix.shape, dtype=bool)
    white_text_above = {  # each colour scale reaches its own largest count
        cell: (1 + int(matrix[where].max())) ** WHITE_TEXT_ABOVE - 1
        for cell, where in (("right", right), ("mistake", ~right))
    }

    def cells(cell: str) -> dict:
        return {
            "transform": [{"filter": f"datum.cell === '{cell}'"}],
            "mark": "rect",
            "encoding": {
                "color": {
                    "condition": {"test": "datum.count === 0", "value": EMPTY_CELL},
                    "field": "count",
                    "type": "quantitative",
                    # From zero: a full diagonal is dark however alike its counts are.
                    "scale": {"type": "symlog", "scheme": CELL_SCHEMES[cell], "domainMin": 0},
                    "legend": None,
                }
            },
        }

    return {
        "padding": PADDING,
        "data": {"values": values},
        "encoding": {
            "x": {
                "field": "predicted",
                "type": "ordinal",
                "sort": answers[: matrix.shape[1]],
                "title": "Answer",
                # Every label at the middle of its cells: flush, the first and last sit inward.
                # "no digit" on two lines: on one, it is wider than its cells and runs off a
                # phone's screen.
                "axis": {
                    "labelAngle": 0,
                    "orient": "top",
                    "labelFlush": False,
                    "labelExpr": "split(datum.label, ' ')",
                },
            },
            "y": {
                "field": "true",
                "type": "ordinal",
                "title": "True digit",
                "axis": {"labelFlush": False},
            },
            "tooltip": [
                {"field": "true", "title": "True digit"},
                {"field": "predicted", "title": "Answer"},
                {"field": "count", "type": "quantitative", "title": counted},
            ],
        },
        "layer": [
            cells("right"),
            cells("mistake"),
            {
                # Empty cells stay blank, so the few filled ones stand out.
                "transform": [{"filter": "datum.count > 0"}],
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    "text": {"field": "count", "type": "quantitative"},
                    "color": {
                        "condition": {
                            "test": (
                                f"datum.count > (datum.cell === 'right' ? "
                                f"{white_text_above['right']:.1f} : "
                                f"{white_text_above['mistake']:.1f})"
                            ),
                            "value": "white",
                        },
                        "value": DARK_TEXT,
                    },
                },
            },
        ],
        "resolve": {"scale": {"color": "independent"}},
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
        "padding": PADDING,
        "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "axis": {"tickMinStep": 1}},
            "y": {
                "field": measure,
                "type": "quantitative",
                # Linear, fitted to the values: with label smoothing the loss levels off well
                # above zero, and on a log scale its fall would look flat.
                "scale": {"zero": False, "nice": True},
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
