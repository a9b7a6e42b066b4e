"""MNIST digits as centre-line strokes, drawn on the page's canvas the way people draw: as the
image the canvas sends, as pen paths, or with a real mouse in the browser."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

import digit_model
import tabs.draw
from preprocess import CANVAS_SIZE, canvas_to_ink
from reading import HandwritingMemory, read_digits
from training.canvas_drawings import Segments, centre_line, draw

PEN_STEP = 8.0  # px between the mouse positions of a stroke
SETUP = "black on transparent"  # drawn so, then laid on white as the canvas sends it
CLEAR_CONFIDENCE = 0.8  # a digit the model reads at least this surely at every test placement
MISREAD_BELOW = 0.2  # a misread digit's own probability stays under this wherever it is drawn
SEARCHED_DIGITS = 300  # MNIST test digits looked at to find a clear one of each label

# (height, top, left) on the 280 px canvas: large and centred, small in a corner, and so on.
PLACEMENTS = [(200, 40, 60), (90, 20, 160), (130, 130, 20), (250, 12, 40)]


@dataclass(frozen=True)
class Digit:
    """An MNIST test digit as centre-line strokes that can be drawn at any place and size."""

    label: int
    segments: Segments

    def image(
        self, height: float, top: float, left: float, brush: float = tabs.draw.DEFAULT_BRUSH
    ) -> np.ndarray:
        """The 280x280 RGBA image the page's canvas sends for this digit: black on white."""
        return _black_on_white(draw(self.segments, height, top, left, brush, SETUP))

    def strokes(self, height: float, top: float, left: float) -> list[list[tuple[float, float]]]:
        """Pen paths in canvas pixels (x, y), placed exactly as `image` places the digit."""
        rows = [s[0] for s in self.segments] + [s[2] for s in self.segments]
        cols = [s[1] for s in self.segments] + [s[3] for s in self.segments]
        scale = height / max(max(rows) - min(rows), 1e-6)
        strokes = []
        for path in _pen_paths(self.segments):
            points = [
                (left + (c - min(cols)) * scale, top + (r - min(rows)) * scale) for r, c in path
            ]
            kept = [points[0]]
            for point in points[1:]:
                if np.hypot(point[0] - kept[-1][0], point[1] - kept[-1][1]) >= PEN_STEP:
                    kept.append(point)
            if kept[-1] != points[-1]:
                kept.append(points[-1])
            strokes.append(kept)
        return strokes

    def fits(
        self, height: float, top: float, left: float, brush: float = tabs.draw.DEFAULT_BRUSH
    ) -> bool:
        """Whether the whole digit, brush included, lies on the canvas at this placement."""
        points = np.array([point for stroke in self.strokes(height, top, left) for point in stroke])
        return bool((points >= brush / 2).all() and (points <= CANVAS_SIZE - brush / 2).all())

    def traced_image(
        self, height: float, top: float, left: float, brush: float = tabs.draw.DEFAULT_BRUSH
    ) -> np.ndarray:
        """The canvas image of the pen paths `trace` follows: straight lines between the
        mouse positions, as near as this gets to what the browser draws."""
        segments = [
            (y0, x0, y1, x1)
            for stroke in self.strokes(height, top, left)
            for (x0, y0), (x1, y1) in itertools.pairwise(stroke)
        ]
        rows = [s[0] for s in segments] + [s[2] for s in segments]
        cols = [s[1] for s in segments] + [s[3] for s in segments]
        extent = max(rows) - min(rows)
        return _black_on_white(draw(segments, extent, min(rows), min(cols), brush, SETUP))

    def trace(self, page, canvas, height: float, top: float, left: float) -> None:
        """Draw the digit on a canvas element with the mouse, one pen-down per stroke."""
        box = canvas.bounding_box()
        for stroke in self.strokes(height, top, left):
            page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(box["x"] + x, box["y"] + y)
            page.mouse.up()


def _black_on_white(rgba: np.ndarray) -> np.ndarray:
    """A black-on-transparent drawing laid on white, as the page's canvas sends it."""
    white = 255 - rgba[..., 3:]
    return np.concatenate([white, white, white, np.full_like(white, 255)], axis=-1)


def _pen_paths(segments: Segments) -> list[list[tuple[float, float]]]:
    """Join centre-line segments into the few long paths a pen would follow."""
    links = {frozenset(((r0, c0), (r1, c1))) for r0, c0, r1, c1 in segments}
    neighbours: dict[tuple[float, float], set[tuple[float, float]]] = {}
    for a, b in map(tuple, links):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    # A diagonal link beside a two-step corner is the same stretch of line twice: keep one.
    for a, b in [tuple(link) for link in links]:
        if a[0] != b[0] and a[1] != b[1] and neighbours[a] & neighbours[b]:
            links.discard(frozenset((a, b)))
            neighbours[a].discard(b)
            neighbours[b].discard(a)
    # Start at line ends (odd degree) so each path runs end to end.
    starts = sorted(neighbours, key=lambda point: len(neighbours[point]) % 2 == 0)
    paths = []
    for start in starts:
        while any(frozenset((start, n)) in links for n in neighbours[start]):
            path = [start]
            while step := next(
                (n for n in neighbours[path[-1]] if frozenset((path[-1], n)) in links), None
            ):
                links.discard(frozenset((path[-1], step)))
                path.append(step)
            paths.append(path)
    return paths


def find_clear_digits(
    classifier: digit_model.Classifier, images: np.ndarray, labels: np.ndarray
) -> dict[int, Digit]:
    """For each label, the first of these MNIST digits that fits the canvas and that the model
    reads surely at every test placement, as drawn from its centre line and as traced."""
    found: dict[int, Digit] = {}
    for image, label in zip(images[:SEARCHED_DIGITS], labels[:SEARCHED_DIGITS]):
        if int(label) in found:
            continue
        digit = Digit(int(label), centre_line(image.astype(np.float32) / 255.0))
        if not all(digit.fits(*placement) for placement in PLACEMENTS):
            continue
        canvases = [digit.image(*placement) for placement in PLACEMENTS]
        canvases += [digit.traced_image(*placement) for placement in PLACEMENTS]
        readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba in canvases])
        if all(
            reading.probabilities[label] >= CLEAR_CONFIDENCE and reading.is_digit
            for reading in readings
        ):
            found[int(label)] = digit
            if len(found) == 10:
                break
    return found


def find_misread_style(
    classifier: digit_model.Classifier, images: np.ndarray, labels: np.ndarray
) -> tuple[Digit, tuple, tuple]:
    """A digit the model misreads wherever it is drawn, traced at two placements, that one
    correction teaches: (digit, first placement, second placement). LookupError if none is."""
    first, again = PLACEMENTS[0], PLACEMENTS[2]
    for image, label in zip(images, labels):
        digit = Digit(int(label), centre_line(image.astype(np.float32) / 255.0))
        if not digit.segments or not (digit.fits(*first) and digit.fits(*again)):
            continue
        inks = [canvas_to_ink(digit.traced_image(*placement)) for placement in (first, again)]
        readings = read_digits(classifier, inks)
        if any(r.is_digit and r.probabilities[digit.label] > MISREAD_BELOW for r in readings):
            continue
        memory = HandwritingMemory()
        memory.add(readings[0], digit.label)
        taught = memory.recall(readings[1])
        if taught.is_digit and taught.probabilities[digit.label] >= CLEAR_CONFIDENCE:
            return digit, first, again
    raise LookupError("no misread digit that one correction teaches")
