"""Whole numbers written on the page's 700x280 canvas from MNIST digits' strokes: side by side
with varied gaps, some touching, some digits drawn in two strokes (the pen lifted part way)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from devtools.drawing import Segments
from preprocess import canvas_to_ink
from reading import NumberReading, PlacedMark
from reading.marks import MARK_SYMBOLS
from training.canvas_drawings import COLOUR_SETUPS, centre_line, draw

WIDTH, HEIGHT = 700, 280
MARGIN = 12
TOUCH_OVERLAP = 0.04  # touching digits' boxes overlap by at most this fraction of the height
DASH = 0.25  # a dash or minus sign is this fraction of the height long (its centre line)...
SIGN_GAP = 0.2  # ...and a minus sign stands this far before the first digit's ink
WOBBLE = 0.06  # each digit's height and baseline vary by up to this fraction of the height
FOOT = 0.2  # a digit's foot is its ink in this lowest fraction of its height


@dataclass(frozen=True)
class WrittenNumber:
    """A composed canvas, and each digit drawn alone exactly where it lies in the number;
    drawn when first asked for (most of the time it takes to write a number)."""

    strokes: Segments  # every stroke on the canvas, marks included
    digit_strokes: list[Segments]  # each digit's strokes on the canvas, left to right
    brush: float  # the pen's width in canvas pixels
    setup: str  # the colours drawn in: a name in `COLOUR_SETUPS`
    spans: list[tuple[float, float]]  # each digit's columns on the canvas, left to right

    @functools.cached_property
    def rgba(self) -> np.ndarray:
        """The canvas with the whole number on it."""
        return _render(self.strokes, self.brush, self.setup)

    @functools.cached_property
    def alone(self) -> list[np.ndarray]:
        """The canvas with each digit alone on it, where it lies in the number."""
        return [_render(strokes, self.brush, self.setup) for strokes in self.digit_strokes]

    def placed(self, marks: Iterable[PlacedMark], scale: float = 1.0) -> list[tuple[int, str]]:
        """Each mark read (in a picture `scale` times the canvas), with how many of the digits
        as written start left of its middle: where it lies among them, however they were
        split (a mark written close may lie under the edge of the box before it)."""
        return [
            (
                sum(2 * left * scale < mark.box.left + mark.box.right for left, _ in self.spans),
                mark.symbol,
            )
            for mark in marks
        ]

    def as_written(self) -> list[np.ndarray]:
        """The canvas after each digit is written, left to right, as the page reads it on
        every stroke: each digit as drawn alone, the stronger ink where two overlap. Marks
        (points, commas, dashes) are left out."""
        canvas, strongest = self.alone[0], canvas_to_ink(self.alone[0])
        canvases = [canvas]
        for digit in self.alone[1:]:
            ink = canvas_to_ink(digit)
            canvas = np.where((ink > strongest)[..., None], digit, canvas)
            strongest = np.maximum(ink, strongest)
            canvases.append(canvas)
        return canvases


def marks_in(text: str) -> list[tuple[int, str]]:
    """Each mark (point, comma, dash) of a written number's text, with how many digits come
    before it."""
    return [
        (sum(c.isdigit() for c in text[:at]), c) for at, c in enumerate(text) if c in MARK_SYMBOLS
    ]


def digits_read(reading: NumberReading | None) -> str:
    """Each digit of a number as read, withheld or not (the page shows "?" for those), with
    the marks read where they were written; empty for no number, as for writing of several
    lines, which the page gives no number for."""
    if reading is None or reading.several_lines:
        return ""
    return reading.spelled([str(digit.digit) for digit in reading.digits])


def _points(segments: Segments) -> np.ndarray:
    return np.array([(s[0], s[1]) for s in segments] + [(s[2], s[3]) for s in segments])


def _render(segments: Segments, brush: float, setup: str) -> np.ndarray:
    """Segments given in canvas pixels, drawn as they are on the 700x280 canvas."""
    points = _points(segments)
    low = points.min(axis=0)
    canvas = draw(segments, np.ptp(points[:, 0]), low[0], low[1], brush, setup, size=WIDTH)
    return canvas[:HEIGHT]


def lift_pen(segments: Segments, at: tuple[float, float], gap: float) -> Segments:
    """The digit drawn in two strokes: its centre line left out within `gap` (28 px units) of the
    point nearest `at` (row, column as fractions of its box)."""
    middles = np.array([((s[0] + s[2]) / 2, (s[1] + s[3]) / 2) for s in segments])
    points = _points(segments)
    target = points.min(axis=0) + np.array(at) * np.ptp(points, axis=0)
    centre = middles[np.argmin(np.hypot(*(middles - target).T))]
    return [s for s, m in zip(segments, middles) if np.hypot(*(m - centre)) > gap]


def write_number(
    digits: list[Segments],
    gaps: list[float | None],
    height: float,
    brush: float,
    setup: str,
    rng: np.random.Generator,
    wobble: float = WOBBLE,
    marks: Mapping[int, str] | None = None,
    after_foot: float | None = None,
) -> WrittenNumber:
    """Digits (centre lines in 28 px units) written left to right on the wide canvas.

    gaps[k] is the blank space between digit k and k + 1 as a fraction of the height, or None
    for digits that touch. Sizes and baselines wobble a little, as in handwriting. marks[k]
    is a mark written in the middle of the gap after the first k digits, as one dab or one
    short stroke of the pen (not in `alone`): a point (".") or comma (",") on the line, or a
    dash ("-") half way up, which may also come before the first digit (k = 0) as a minus sign.
    With `after_foot`, a point or comma is written that fraction of the height (and the pen's
    width) after the foot of the digit before it instead, as a hand that writes it close does:
    under the edge of a round or slanted digit's box.
    """
    placed: list[Segments] = []
    spans: list[tuple[float, float]] = []
    for index, segments in enumerate(digits):
        points = _points(segments)
        scale = height * (1 + rng.uniform(-wobble, wobble)) / np.ptp(points[:, 0])
        drop = rng.uniform(-wobble, wobble) * height
        top, left = points.min(axis=0)
        local = [
            (
                (r0 - top) * scale + drop,
                (c0 - left) * scale,
                (r1 - top) * scale + drop,
                (c1 - left) * scale,
            )
            for r0, c0, r1, c1 in segments
        ]
        shift = 0.0
        if placed and gaps[index - 1] is not None:
            shift = spans[-1][1] + brush + gaps[index - 1] * height
        elif placed:
            # Slide the digit left until its stroke meets the one before it.
            before = cKDTree(_points([s for digit in placed for s in digit]))
            mine = _points(local)
            shift = spans[-1][1] + brush
            while (
                shift > spans[-1][1] + brush - TOUCH_OVERLAP * height
                and before.query(mine + np.array([0.0, shift]))[0].min() > 0.7 * brush
            ):
                shift -= 1.0
        placed.append([(r0, c0 + shift, r1, c1 + shift) for r0, c0, r1, c1 in local])
        spans.append((shift, shift + np.ptp(points[:, 1]) * scale))

    for after, symbol in (marks or {}).items():
        if symbol == "-" and 0 <= after < len(digits):
            beside = [_points(placed[index])[:, 0] for index in (after - 1, after) if index >= 0]
            row = np.mean([(rows.min() + rows.max()) / 2 for rows in beside])
            if after:
                column = (spans[after - 1][1] + spans[after][0]) / 2
            else:
                column = spans[0][0] - brush - (SIGN_GAP + DASH / 2) * height
            ends = column - DASH / 2 * height, column + DASH / 2 * height
            placed.append([(row, ends[0], row, ends[1])])
            continue
        if not 0 < after < len(digits) or symbol not in (".", ","):
            raise ValueError(
                "a point or comma goes between two of the digits, a dash before one of them, "
                f"not {after, symbol}"
            )
        bottoms = [_points(placed[index])[:, 0].max() for index in (after - 1, after)]
        row, column = np.mean(bottoms), (spans[after - 1][1] + spans[after][0]) / 2
        if after_foot is not None:
            before = _points(placed[after - 1])
            foot = before[before[:, 0] >= bottoms[0] - FOOT * np.ptp(before[:, 0])]
            column = foot[:, 1].max() + brush + after_foot * height
        if symbol == ".":
            placed.append([(row, column, row, column)])
        else:
            placed.append(
                [
                    (
                        row - 0.02 * height,
                        column + 0.02 * height,
                        row + 0.12 * height,
                        column - 0.03 * height,
                    )
                ]
            )

    every = _points([s for digit in placed for s in digit])
    low, size = every.min(axis=0), np.ptp(every, axis=0)
    fit = min(1.0, (HEIGHT - brush - 2 * MARGIN) / size[0], (WIDTH - brush - 2 * MARGIN) / size[1])
    top, left = (HEIGHT - size[0] * fit) / 2, (WIDTH - size[1] * fit) / 2

    def on_canvas(segments: Segments) -> Segments:
        return [
            (
                (r0 - low[0]) * fit + top,
                (c0 - low[1]) * fit + left,
                (r1 - low[0]) * fit + top,
                (c1 - low[1]) * fit + left,
            )
            for r0, c0, r1, c1 in segments
        ]

    return WrittenNumber(
        strokes=on_canvas([s for digit in placed for s in digit]),
        digit_strokes=[on_canvas(digit) for digit in placed[: len(digits)]],
        brush=brush * fit,
        setup=setup,
        spans=[((a - low[1]) * fit + left, (b - low[1]) * fit + left) for a, b in spans],
    )


def random_numbers(
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    count: int,
    touch: float,
    lift: float,
    mark_share: float = 0.0,
    sign_share: float = 0.0,
    wobble: float = WOBBLE,
    after_foot: float | None = None,
) -> Iterator[tuple[WrittenNumber, str]]:
    """(written number, what is written) for random 2-6 digit numbers from the first 2000 of
    these MNIST digits (uint8 images, labels); a share of them with a point or comma between
    two digits, in a wider gap (written close after the digit before it with `after_foot`,
    as `write_number`), and a share with a minus sign before them. Each digit's height and
    baseline wobble by up to `wobble` of the height (`write_number`)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        chosen = rng.choice(2000, size=int(rng.integers(2, 7)), replace=False)
        height, brush = rng.uniform(110, 220), rng.uniform(5, 20)
        digits = []
        for index in chosen:
            segments = centre_line(images[index] / np.float32(255))
            if rng.random() < lift:
                gap = (brush / 2 + rng.uniform(2, 6)) / (height / 20)
                segments = lift_pen(segments, tuple(rng.uniform(0.15, 0.85, 2)), gap)
            digits.append(segments)
        gaps = [None if rng.random() < touch else rng.uniform(0.04, 0.35) for _ in chosen[1:]]
        setup = list(COLOUR_SETUPS)[rng.integers(len(COLOUR_SETUPS))]
        marks = {}
        if mark_share and rng.random() < mark_share:  # no draw otherwise: numbers as before
            after = int(rng.integers(1, len(chosen)))
            gaps[after - 1] = rng.uniform(0.35, 0.6)
            marks[after] = ".,"[rng.integers(2)]
        if sign_share and rng.random() < sign_share:
            marks[0] = "-"
        number = write_number(digits, gaps, height, brush, setup, rng, wobble, marks, after_foot)
        written = [
            marks.get(position, "") + str(int(labels[i])) for position, i in enumerate(chosen)
        ]
        yield number, "".join(written)
