"""Whole numbers on a wide canvas: split into digits, each read in one batched call.

Numbers are composed from MNIST test digits redrawn as canvas strokes, side by side on a
700x280 canvas with varied gaps, some close enough to touch and some digits drawn as two
strokes (the pen lifted part way). To judge the splitting and not the model, a number
counts as read right when it equals what the model reads from each digit drawn alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from canvas_drawings import COLOUR_SETUPS, centre_line, draw
from preprocess import canvas_to_ink
from reading import read_digits, read_number
from segment import split_digits
from tests.mnist_data import mnist

WIDTH, HEIGHT = 700, 280
MARGIN = 12
TOUCH_OVERLAP = 0.04  # touching digits' boxes overlap by at most this fraction of the height
RANDOM_CASES = 100

Segments = list[tuple[float, float, float, float]]


@dataclass(frozen=True)
class WrittenNumber:
    """A composed canvas, and each digit drawn alone exactly where it lies in the number."""

    rgba: np.ndarray
    alone: list[np.ndarray]
    spans: list[tuple[float, float]]  # each digit's columns on the canvas, left to right


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
    wobble: float = 0.06,
) -> WrittenNumber:
    """Digits (centre lines in 28 px units) written left to right on the wide canvas.

    gaps[k] is the blank space between digit k and k + 1 as a fraction of the height, or None
    for digits that touch. Sizes and baselines wobble a little, as in handwriting.
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

    every_segment = on_canvas([s for digit in placed for s in digit])
    return WrittenNumber(
        rgba=_render(every_segment, brush * fit, setup),
        alone=[_render(on_canvas(digit), brush * fit, setup) for digit in placed],
        spans=[((a - low[1]) * fit + left, (b - low[1]) * fit + left) for a, b in spans],
    )


def read_alone(classifier, number: WrittenNumber) -> str:
    """What the model reads from each digit drawn by itself, as a number."""
    readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba in number.alone])
    return "".join(str(reading.digit) for reading in readings)


def read_written(classifier, number: WrittenNumber) -> str:
    reading = read_number(classifier, canvas_to_ink(number.rgba))
    return reading.number if reading else ""


def pieces_of_ink(rgba: np.ndarray) -> int:
    return ndimage.label(canvas_to_ink(rgba) >= 0.05, structure=np.ones((3, 3)))[1]


def random_numbers(seed: int, count: int, touch: float, lift: float):
    """(written number, true digits) for random 2-6 digit numbers from MNIST test digits."""
    images, labels = mnist("test")
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
        number = write_number(digits, gaps, height, brush, setup, rng)
        yield number, "".join(str(int(labels[i])) for i in chosen)


# (number, gaps between digits as fractions of the height or None for touching,
#  {position: where the pen is lifted in that digit}, digit height, brush)
CURATED = [
    ("2026", [0.2, 0.2, 0.2], {}, 180, 14),
    ("19", [0.3], {}, 200, 16),
    ("314159", [0.12, 0.1, 0.15, 0.1, 0.12], {}, 150, 10),
    ("8675", [0.25, 0.3, 0.2], {}, 170, 18),
    ("42", [0.06], {}, 190, 12),
    ("1234", [0.05, 0.05, 0.05], {}, 180, 12),
    ("90210", [0.05, 0.06, 0.04, 0.05], {}, 160, 9),
    ("271828", [0.1, 0.08, 0.12, 0.1, 0.09], {}, 130, 8),
    ("60", [0.15], {}, 220, 24),
    ("38", [0.1], {}, 120, 4),
    ("555", [0.2, 0.2], {0: (0.0, 0.3), 2: (0.0, 0.3)}, 170, 12),
    ("512", [0.2, 0.2], {0: (0.0, 0.3)}, 200, 20),
    ("45", [0.15], {0: (0.25, 0.9), 1: (0.0, 0.3)}, 180, 12),
    ("747", [0.2, 0.2], {0: (0.0, 0.95), 1: (0.25, 0.9), 2: (0.0, 0.95)}, 170, 12),
    ("2045", [0.1, 0.1, 0.1], {2: (0.25, 0.9), 3: (0.0, 0.3)}, 160, 10),
    ("1975", [0.06, 0.06, 0.06], {2: (0.0, 0.95), 3: (0.0, 0.3)}, 170, 11),
    ("06", [None], {}, 170, 14),
    ("20", [None], {}, 170, 18),
    ("90", [None], {}, 170, 14),
    ("83", [None], {}, 170, 14),
]


@pytest.mark.parametrize(
    ("number", "gaps", "lifts", "height", "brush"), CURATED, ids=[c[0] for c in CURATED]
)
def test_curated_numbers_are_read(classifier, clear_digits, number, gaps, lifts, height, brush):
    digits = []
    for position, label in enumerate(number):
        segments = clear_digits[int(label)].segments
        if position in lifts:
            segments = lift_pen(segments, lifts[position], (brush / 2 + 4) / (height / 20))
        digits.append(segments)
    written = write_number(
        digits, gaps, height, brush, "black on transparent", np.random.default_rng(len(number))
    )
    for position in lifts:
        assert pieces_of_ink(written.alone[position]) >= 2, "the pen lift left one stroke"
    if None in gaps:
        apart = sum(pieces_of_ink(rgba) for rgba in written.alone)
        assert pieces_of_ink(written.rgba) < apart, "the digits do not touch"
    assert read_alone(classifier, written) == number
    assert read_written(classifier, written) == number


def test_random_numbers_are_read_as_their_digits_alone(classifier):
    """Close gaps, thin to thick pens, all colour set-ups, a quarter of digits in two strokes."""
    cases = list(random_numbers(seed=2026, count=RANDOM_CASES, touch=0.0, lift=0.25))
    two_strokes = sum(pieces_of_ink(rgba) >= 2 for number, _ in cases for rgba in number.alone)
    assert two_strokes >= 40
    right = [
        read_written(classifier, number) == read_alone(classifier, number) for number, _ in cases
    ]
    assert np.mean(right) >= 0.95


def touches(number: WrittenNumber) -> bool:
    """Whether some digits of the number run into each other."""
    return pieces_of_ink(number.rgba) < sum(pieces_of_ink(rgba) for rgba in number.alone)


def test_touching_digits_are_often_split(classifier):
    """Half of neighbouring digits are pushed together until their strokes meet (if they can)."""
    cases = [number for number, _ in random_numbers(seed=7, count=80, touch=0.5, lift=0.0)]
    touching = [number for number in cases if touches(number)]
    apart = [number for number in cases if not touches(number)]
    assert len(touching) >= 30
    right = [
        read_written(classifier, number) == read_alone(classifier, number) for number in touching
    ]
    assert np.mean(right) >= 0.4
    right = [read_written(classifier, number) == read_alone(classifier, number) for number in apart]
    assert np.mean(right) >= 0.95


def test_digits_are_found_in_order_without_a_model(clear_digits):
    rng = np.random.default_rng(3)
    for count in (2, 3, 4, 5, 6):
        labels = rng.choice(10, size=count)
        digits = [clear_digits[int(label)].segments for label in labels]
        gaps = list(rng.uniform(0.1, 0.3, size=count - 1))
        number = write_number(digits, gaps, 160, 12, "navy on cream", rng)
        pieces = split_digits(canvas_to_ink(number.rgba))
        assert len(pieces) == count
        for piece, (left, right) in zip(pieces, number.spans):
            assert left - 15 <= (piece.left + piece.right) / 2 <= right + 15
        for piece in pieces:
            assert piece.image.shape == (28, 28) and piece.image.dtype == np.float32
            assert piece.image.min() >= 0.0 and piece.image.max() == pytest.approx(1.0)


class CountingClassifier:
    """The real classifier, counting its calls."""

    def __init__(self, classifier) -> None:
        self.classifier, self.calls = classifier, 0

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return self.classifier.read(images)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.classifier.predict_proba(images)


def test_a_number_is_read_in_one_batched_call(classifier, clear_digits):
    digits = [clear_digits[d].segments for d in (2, 0, 2, 6)]
    written = write_number(
        digits, [0.1, None, 0.1], 170, 12, "red on white", np.random.default_rng(0)
    )
    counting = CountingClassifier(classifier)
    reading = read_number(counting, canvas_to_ink(written.rgba))
    assert counting.calls == 1
    assert reading.number == "2026"
    assert len(reading.digits) == 4
    assert all(0.5 < digit.confidence <= 1.0 for digit in reading.digits)
    assert all(digit.probabilities.shape == (10,) for digit in reading.digits)
    lefts = [digit.box.left for digit in reading.digits]
    assert lefts == sorted(lefts)


def test_specks_and_stray_taps_are_not_digits(classifier, clear_digits):
    digits = [clear_digits[d].segments for d in (4, 7)]
    written = write_number(digits, [0.3], 180, 14, "black on transparent", np.random.default_rng(1))
    rgba = written.rgba.copy()
    for row, col in ((20, 30), (250, 660), (30, 400), (260, 350)):
        rgba[row : row + 3, col : col + 3] = (0, 0, 0, 255)
    assert read_number(classifier, canvas_to_ink(rgba)).number == "47"


def test_blank_ink_has_no_digits(classifier):
    blank = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    assert split_digits(blank) == []
    assert read_number(classifier, blank) is None
    faint = np.full((HEIGHT, WIDTH), 0.1, dtype=np.float32)
    assert read_number(classifier, faint) is None
