"""MNIST digits redrawn the way people draw on the canvas, to measure the whole pipeline.

Each digit is thinned to its centre line and redrawn as a uniform-width round-brush
stroke at a random size, place and brush width on a 280x280 canvas, in one of
several colour set-ups. The result is the RGBA image `st_canvas` returns. A loop the
writer's pen filled in is traced round its edge, as a person redrawing it would.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from preprocess import CANVAS_SIZE, FIELD, enlarge, normalize

UPSCALE = 4  # thin the digit at this multiple of 28 px so the centre line is smooth
FILLED_DEPTH = 2.0  # ink deeper than this many stroke half-widths is a loop filled in

Segments = list[tuple[float, float, float, float]]  # centre line: (row0, col0, row1, col1) each

# (stroke RGBA, background RGBA): the app's own set-up first, then others people use.
COLOUR_SETUPS: dict[str, tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = {
    "black on transparent": ((0, 0, 0, 255), (0, 0, 0, 0)),
    "white on black": ((255, 255, 255, 255), (0, 0, 0, 255)),
    "navy on cream": ((20, 40, 140, 255), (250, 245, 225, 255)),
    "red on white": ((220, 30, 30, 255), (255, 255, 255, 255)),
    "yellow on transparent": ((250, 210, 0, 255), (0, 0, 0, 0)),
}

_NEIGHBOUR_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _removable(step: int) -> np.ndarray:
    """Zhang-Suen's test of one sub-iteration for each of the 256 neighbourhoods: (256,) bool.
    Bit i of a neighbourhood's code is neighbour P(i + 2), clockwise from the one above."""
    ring = (np.arange(256)[:, None] >> np.arange(8)) & 1  # P2 ... P9
    p2, _, p4, _, p6, _, p8, _ = ring.T
    neighbours = ring.sum(axis=1)
    transitions = ((ring == 0) & (np.roll(ring, -1, axis=1) == 1)).sum(axis=1)
    if step == 0:
        clear = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
    else:
        clear = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
    return (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & clear


_REMOVABLE = (_removable(0), _removable(1))


def _thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: reduce a binary shape to its one-pixel centre line."""
    thinned = np.zeros(binary.shape, dtype=bool)
    rows, cols = np.flatnonzero(binary.any(axis=1)), np.flatnonzero(binary.any(axis=0))
    if rows.size == 0:
        return thinned
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)  # only the shape can change
    image = np.pad(binary[box].astype(np.uint8), 1)
    while True:
        changed = False
        for removable in _REMOVABLE:
            p = image
            ring = (
                p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2],
            )  # fmt: skip
            code = np.zeros_like(ring[0])
            for bit, neighbour in enumerate(ring):
                code |= neighbour << bit
            remove = (p[1:-1, 1:-1] == 1) & removable[code]
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            thinned[box] = image[1:-1, 1:-1]
            return thinned


def _hollowed(ink: np.ndarray) -> np.ndarray:
    """Binary ink with the middle of each filled-in loop cleared, so that its centre line goes
    round the loop instead of shrinking it to a line (a 9 whose loop is a blob is no 7)."""
    depth = ndimage.distance_transform_edt(ink)
    skeleton = _thin(ink)
    if not skeleton.any():
        return ink
    half_width = np.median(depth[skeleton])  # the stroke's, along its centre line
    return ink & (depth <= FILLED_DEPTH * half_width)


def centre_line(digit: np.ndarray) -> Segments:
    """The digit's centre line as segments (row0, col0, row1, col1) in units of its 28 px field."""
    large = enlarge(digit, FIELD * UPSCALE, smooth=True)
    skeleton = _thin(_hollowed(large > 0.5 * large.max()))
    segments = []
    for dr, dc in _NEIGHBOUR_STEPS:
        rows, cols = np.nonzero(skeleton)
        r2, c2 = rows + dr, cols + dc
        inside = (r2 < skeleton.shape[0]) & (c2 >= 0) & (c2 < skeleton.shape[1])
        linked = np.zeros_like(inside)
        linked[inside] = skeleton[r2[inside], c2[inside]]
        for r, c, rr, cc in zip(rows[linked], cols[linked], r2[linked], c2[linked]):
            segments.append((r / UPSCALE, c / UPSCALE, rr / UPSCALE, cc / UPSCALE))
    return segments


def stroke_coverage(
    segments: Segments,
    height: float,
    top: float,
    left: float,
    brush: float,
    size: int = CANVAS_SIZE,
) -> np.ndarray:
    """How much of each pixel a round brush of width `brush` covers: (size, size) float32."""
    ends = np.asarray(segments).reshape(-1, 2)  # (row, col) of each end, in the segments' dtype
    low = ends.min(axis=0)
    scale = height / max(np.ptp(ends[:, 0]), 1e-6)
    rows = ((ends[:, 0] - low[0]) * scale + top).reshape(-1, 2)  # (start, end) of each segment
    cols = ((ends[:, 1] - low[1]) * scale + left).reshape(-1, 2)
    line = Image.new("1", (size, size), 0)
    pen = ImageDraw.Draw(line)
    for (r0, r1), (c0, c1) in zip(rows.tolist(), cols.tolist()):
        pen.line([(c0, r0), (c1, r1)], fill=1)
    centre = np.asarray(line)
    coverage = np.zeros((size, size), dtype=np.float32)
    box = line.getbbox()
    if box is None:
        return coverage
    # The brush reaches at most its radius beyond the centre line: work on that region only.
    reach = int(brush / 2) + 2
    region = (
        slice(max(box[1] - reach, 0), min(box[3] + reach, size)),
        slice(max(box[0] - reach, 0), min(box[2] + reach, size)),
    )
    distance = ndimage.distance_transform_edt(~centre[region])
    coverage[region] = np.clip(brush / 2 + 0.5 - distance, 0.0, 1.0)
    return coverage


def draw(
    segments: Segments,
    height: float,
    top: float,
    left: float,
    brush: float,
    setup: str,
    size: int = CANVAS_SIZE,
) -> np.ndarray:
    """Render centre-line segments as a round-brush stroke: (size, size, 4) uint8 RGBA."""
    coverage = stroke_coverage(segments, height, top, left, brush, size)
    stroke, background = COLOUR_SETUPS[setup]
    rgba = np.empty((size, size, 4), dtype=np.uint8)
    rgba[...] = _composite(np.zeros(1, dtype=np.float32), stroke, background)
    covered = coverage > 0  # the brush touches a small part of the canvas: blend only there
    rgba[covered] = _composite(coverage[covered], stroke, background)
    return rgba


def _composite(coverage: np.ndarray, stroke: tuple, background: tuple) -> np.ndarray:
    """Paint `stroke` over `background` at pixels covered this much, as the browser would:
    (n,) coverage -> (n, 4) uint8 RGBA."""
    stroke_colour, stroke_alpha = np.array(stroke[:3]) / 255, stroke[3] / 255
    back_colour, back_alpha = np.array(background[:3]) / 255, background[3] / 255
    front = coverage[:, None] * stroke_alpha
    alpha = front + (1 - front) * back_alpha
    premultiplied = front * stroke_colour + (1 - front) * back_alpha * back_colour
    colour = np.divide(premultiplied, alpha, out=np.zeros_like(premultiplied), where=alpha > 0)
    rgba = np.concatenate([colour, alpha], axis=-1) * 255
    return rgba.round().clip(0, 255).astype(np.uint8)


def _random_placement(
    segments: Segments, rng: np.random.Generator, size: int
) -> tuple[float, float, float, float]:
    """A random (height, top, left, brush) that keeps the whole stroke on the canvas."""
    rows = [s[0] for s in segments] + [s[2] for s in segments]
    cols = [s[1] for s in segments] + [s[3] for s in segments]
    aspect = (max(cols) - min(cols) + 1e-6) / (max(rows) - min(rows) + 1e-6)
    height = rng.uniform(0.2, 0.85) * size
    brush = rng.uniform(max(2.0, 0.03 * height), max(3.0, 0.2 * height))
    room = size - brush - 4
    height = min(height, room, room / aspect)
    top = rng.uniform(brush / 2 + 1, size - height - brush / 2 - 1)
    left = rng.uniform(brush / 2 + 1, size - height * aspect - brush / 2 - 1)
    return height, top, left, brush


def random_drawings(
    images: np.ndarray, labels: np.ndarray, seed: int = 0, size: int = CANVAS_SIZE
) -> Iterator[tuple[np.ndarray, int, str]]:
    """Yield (canvas RGBA, label, colour set-up) per digit, drawn at a random size and place."""
    rng = np.random.default_rng(seed)
    for image, label in zip(images, labels):
        segments = centre_line(image.astype(np.float32) / 255.0)
        if segments:
            rgba, setup = random_drawing(segments, rng, size)
            yield rgba, int(label), setup


def random_drawing(
    segments: Segments, rng: np.random.Generator, size: int = CANVAS_SIZE
) -> tuple[np.ndarray, str]:
    """Segments drawn at a random size, place and brush in a random colour set-up: (RGBA, name)."""
    placement = _random_placement(segments, rng, size)
    setup = list(COLOUR_SETUPS)[rng.integers(len(COLOUR_SETUPS))]
    return draw(segments, *placement, setup, size), setup


def random_ink(segments: Segments, rng: np.random.Generator, size: int = CANVAS_SIZE) -> np.ndarray:
    """Centre-line segments drawn with a random brush, size and place: the ink, (size, size)."""
    return stroke_coverage(segments, *_random_placement(segments, rng, size), size)


def drawn_input(
    segments: Segments, rng: np.random.Generator, size: int = CANVAS_SIZE
) -> np.ndarray | None:
    """Centre-line segments drawn with a random brush, size and place, then normalised to 28x28."""
    return normalize(random_ink(segments, rng, size))


def drawn(segment_list: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Each drawing's segments drawn with a random brush and normalised: (N, 28, 28) float32."""
    return as_inputs([drawn_input(segments, rng) for segments in segment_list])


def as_inputs(forms: list[np.ndarray | None]) -> np.ndarray:
    """Inputs in MNIST form stacked, a blank one for each drawing with no ink to normalise:
    (N, 28, 28) float32, one per drawing, so that they line up with their labels."""
    blank = np.zeros((28, 28), np.float32)
    return np.array([blank if form is None else form for form in forms], np.float32).reshape(
        -1, 28, 28
    )


def canvas_style_inputs(
    images: np.ndarray, labels: np.ndarray, seed: int = 0, size: int = CANVAS_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Digits redrawn with a random brush, size and place, then normalised: (inputs, labels)."""
    rng = np.random.default_rng(seed)
    inputs, kept = [], []
    for image, label in zip(images, labels):
        segments = centre_line(image.astype(np.float32) / 255.0)
        if segments:
            inputs.append(drawn_input(segments, rng, size))
            kept.append(label)
    return np.array(inputs, dtype=np.float32).reshape(-1, 28, 28), np.array(
        kept, dtype=labels.dtype
    )
