"""What the drawing canvas sends the server when a stroke ends, built without a browser: the
Fabric.js drawing and the PNG data URL of the canvas, as `st_canvas` reads them, for MNIST test
digits traced as pen strokes (benchmarks/bench_replica.py's simulated people draw these).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import tabs.draw
from devtools.datasets import mnist
from devtools.drawing import Digit
from preprocess import CANVAS_SIZE, png_data_url
from training.canvas_drawings import centre_line

FABRIC_VERSION = "7.4.0"  # what the canvas's Fabric.js writes into its JSON
# A Fabric.js freedraw path's properties besides its place, size and points, as the canvas
# sends them.
PATH_PROPERTIES = {
    **dict.fromkeys(
        ["lockMovementX", "lockMovementY", "lockRotation", "lockScalingX", "lockScalingY"], False
    ),
    **dict.fromkeys(["lockSkewingX", "lockSkewingY", "lockScalingFlip"], False),
    "type": "Path",
    "version": FABRIC_VERSION,
    "originX": "center",
    "originY": "center",
}
PATH_STYLE = {
    "fill": None,
    "stroke": "#000000",
    "strokeDashArray": None,
    "strokeLineCap": "round",
    "strokeDashOffset": 0,
    "strokeLineJoin": "round",
    "strokeUniform": False,
    "strokeMiterLimit": 10,
    "scaleX": 1,
    "scaleY": 1,
    "angle": 0,
    "flipX": False,
    "flipY": False,
    "opacity": 1,
    "shadow": None,
    "visible": True,
    "backgroundColor": "",
    "fillRule": "nonzero",
    "paintFirst": "fill",
    "globalCompositeOperation": "source-over",
    "skewX": 0,
    "skewY": 0,
}


@dataclass(frozen=True)
class Drawing:
    """One drawing as the canvas sends it: the digit drawn, and the canvas's JSON value."""

    label: int
    value: str


def fabric_path(points: Sequence[tuple[float, float]], brush: int) -> dict:
    """A pen stroke as the Fabric.js freedraw brush records it: a quadratic curve through the
    mouse positions, from the first to the last."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    path: list[list] = [["M", *points[0]]]
    for (x, y), (x_next, y_next) in itertools.pairwise(points[1:]):
        path.append(["Q", x, y, (x + x_next) / 2, (y + y_next) / 2])
    path.append(["L", *points[-1]])
    return {
        **PATH_PROPERTIES,
        "left": (min(xs) + max(xs)) / 2,
        "top": (min(ys) + max(ys)) / 2,
        "width": max(xs) - min(xs),
        "height": max(ys) - min(ys),
        **PATH_STYLE,
        "strokeWidth": brush,
        "path": path,
    }


def canvas_value(digit: Digit, placement: tuple[float, float, float]) -> str:
    """The canvas component's JSON value for this digit drawn at `placement`, as the browser
    sets it: the Fabric.js drawing, and the canvas as a PNG data URL (black on white)."""
    brush = tabs.draw.DEFAULT_BRUSH
    drawing = {
        "version": FABRIC_VERSION,
        "objects": [fabric_path(stroke, brush) for stroke in digit.strokes(*placement)],
        "background": "#ffffff",
    }
    image = digit.traced_image(*placement, brush=brush)
    return json.dumps(
        {"drawing": {"raw": drawing, "data": png_data_url(image)}}, separators=(",", ":")
    )


def simulated_drawings(count: int, seed: int) -> list[Drawing]:
    """`count` MNIST test digits, each traced at a random place and size on the canvas."""
    images, labels = mnist("test")
    rng = np.random.default_rng(seed)
    drawings = []
    for image, label in zip(images, labels):
        digit = Digit(int(label), centre_line(image.astype(np.float32) / 255.0))
        if not digit.segments:
            continue
        height = float(rng.uniform(110, 240))
        top, left = (float(v) for v in rng.uniform(12, CANVAS_SIZE - height - 12, 2))
        if not digit.fits(height, top, left):
            continue
        drawings.append(Drawing(digit.label, canvas_value(digit, (height, top, left))))
        if len(drawings) == count:
            break
    return drawings
