"""Handwriting styles MNIST lacks, synthesized onto training digits' strokes.

MNIST is American census and school handwriting. Writers elsewhere (and engineers
everywhere) often write digits it never shows, and a model trained on it misreads them:

| style | who writes it | read without it as |
|---|---|---|
| `slash_zero`, `bar_zero`, `dot_zero` | engineers, Scandinavia, Germany, Australia | 8, 4 or 9 |
| `flag_one`, `foot_one` | continental Europe: a long up-stroke, often a foot | 7 |
| `caret_one` | a 1 whose flag reaches down, like a narrow Λ | 7 or 4 |
| `cross_seven` | continental Europe: a bar through the stem | 4 or 2 |
| `closed_four`, `open_four` | a triangle on the stem, or two strokes open at the top | 9 |
| `straight_stem_nine` | a loop on a straight vertical stem | 4 or 7 |

Each function takes a digit as centre-line segments (K, 4) of (row0, col0, row1, col1)
in any units, as `canvas_drawings.centre_line` and `unipen` give them, and returns the
restyled digit in the same units, ready to be drawn with a round brush.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Segments = np.ndarray  # (K, 4) float32: row0, col0, row1, col1


def _box(segments: Segments) -> tuple[float, float, float, float]:
    """(top, left, bottom, right) around every segment end."""
    rows = np.concatenate([segments[:, 0], segments[:, 2]])
    cols = np.concatenate([segments[:, 1], segments[:, 3]])
    return float(rows.min()), float(cols.min()), float(rows.max()), float(cols.max())


def polyline(points: np.ndarray) -> Segments:
    """(P, 2) (row, col) points joined in order: (P - 1, 4) segments."""
    points = np.asarray(points, dtype=np.float32)
    return np.concatenate([points[:-1], points[1:]], axis=1)


def ellipse(
    centre: tuple[float, float],
    radii: tuple[float, float],
    start: float = 0.0,
    sweep: float = 2 * np.pi,
) -> np.ndarray:
    """(P, 2) points along an elliptic arc, angles in radians, counter-clockwise on screen."""
    angles = start + np.linspace(0.0, sweep, 33)
    return np.stack(
        [centre[0] - radii[0] * np.sin(angles), centre[1] + radii[1] * np.cos(angles)], 1
    )


def _with(segments: Segments, *strokes: np.ndarray) -> Segments:
    """The digit with more strokes, each (P, 2) points."""
    return np.concatenate([segments, *(polyline(stroke) for stroke in strokes)]).astype(np.float32)


def _height(segments: Segments) -> float:
    top, _, bottom, _ = _box(segments)
    return max(bottom - top, 1e-6)


def _topmost(segments: Segments) -> np.ndarray:
    """(row, col) of the highest point of the digit."""
    ends = segments.reshape(-1, 2)
    return ends[ends[:, 0].argmin()]


def _bottommost(segments: Segments) -> np.ndarray:
    """(row, col) of the lowest point of the digit."""
    ends = segments.reshape(-1, 2)
    return ends[ends[:, 0].argmax()]


def _column_at(segments: Segments, row: float) -> float:
    """Mean column where the digit's strokes cross `row`; the box centre if none do."""
    r0, c0, r1, c1 = segments.T
    crossing = (np.minimum(r0, r1) <= row) & (np.maximum(r0, r1) >= row) & (r0 != r1)
    if not crossing.any():
        _, left, _, right = _box(segments)
        return (left + right) / 2
    t = (row - r0[crossing]) / (r1[crossing] - r0[crossing])
    return float(np.mean(c0[crossing] + t * (c1[crossing] - c0[crossing])))


def slash_zero(segments: Segments, rng: np.random.Generator) -> Segments:
    """A zero narrowed by up to 55 %, with a slash through it, upright or leaning right by up
    to 45°: reaching about to its outline, or far past it at both ends like a phi."""
    top, left, bottom, right = _box(segments)
    centre = np.array([(top + bottom) / 2, (left + right) / 2])
    segments = segments.copy()
    segments[:, 1::2] = centre[1] + rng.uniform(0.45, 1.0) * (segments[:, 1::2] - centre[1])
    half = rng.uniform(0.45, 1.4) * (bottom - top)
    tilt = rng.uniform(0.0, np.radians(45))  # from vertical, leaning right
    direction = np.array([-np.cos(tilt), np.sin(tilt)])
    return _with(segments, np.stack([centre - half * direction, centre + half * direction]))


def bar_zero(segments: Segments, rng: np.random.Generator) -> Segments:
    """A zero with a near-vertical bar through the middle, inside or across its outline."""
    top, left, bottom, right = _box(segments)
    centre = np.array([(top + bottom) / 2, (left + right) / 2])
    half = rng.uniform(0.3, 0.6) * (bottom - top)
    tilt = rng.uniform(-np.radians(10), np.radians(15))
    direction = np.array([-np.cos(tilt), np.sin(tilt)])
    return _with(segments, np.stack([centre - half * direction, centre + half * direction]))


def dot_zero(segments: Segments, rng: np.random.Generator) -> Segments:
    """A zero with a dot in the middle."""
    top, left, bottom, right = _box(segments)
    centre = ((top + bottom) / 2, (left + right) / 2)
    radius = rng.uniform(0.02, 0.06) * (bottom - top)
    return _with(segments, ellipse(centre, (radius, radius)))


def flag_one(segments: Segments, rng: np.random.Generator) -> Segments:
    """A one with a long up-stroke: a flag from its top down to the left."""
    height = _height(segments)
    peak = _topmost(segments)
    length = rng.uniform(0.25, 0.55) * height
    angle = rng.uniform(np.radians(35), np.radians(70))  # from vertical
    end = peak + length * np.array([np.cos(angle), -np.sin(angle)])
    return _with(segments, np.stack([end, peak]))


def foot_one(segments: Segments, rng: np.random.Generator) -> Segments:
    """A flagged one standing on a foot: a short horizontal stroke under it."""
    segments = flag_one(segments, rng)
    height = _height(segments)
    base = _bottommost(segments)
    half = rng.uniform(0.15, 0.35) * height
    slope = rng.uniform(-0.05, 0.05) * height
    ends = np.array([[slope, -half], [-slope, half]])
    return _with(segments, base + ends)


def caret_one(segments: Segments, rng: np.random.Generator) -> Segments:
    """A one like a narrow Λ: its flag reaches most of the way down."""
    height = _height(segments)
    peak = _topmost(segments)
    length = rng.uniform(0.55, 0.9) * height
    angle = rng.uniform(np.radians(12), np.radians(28))
    end = peak + length * np.array([np.cos(angle), -np.sin(angle)])
    return _with(segments, np.stack([end, peak]))


def cross_seven(segments: Segments, rng: np.random.Generator) -> Segments:
    """A seven with a short bar across its stem about half way down."""
    top, left, bottom, right = _box(segments)
    row = top + rng.uniform(0.45, 0.62) * (bottom - top)
    column = _column_at(segments, row)
    half = rng.uniform(0.18, 0.32) * max(bottom - top, right - left)
    slope = rng.uniform(-0.06, 0.06) * (bottom - top)
    shift = rng.uniform(-0.25, 0.25) * half
    return _with(
        segments,
        np.array([[row + slope, column - half + shift], [row - slope, column + half + shift]]),
    )


def _four(segments: Segments, rng: np.random.Generator, closed: bool) -> Segments:
    """A four redrawn in the same box: a stem, a crossbar and a closed or open top."""
    top, left, bottom, right = _box(segments)
    height, width = bottom - top, max(right - left, 0.45 * (bottom - top))
    stem = left + rng.uniform(0.6, 0.78) * width
    bar = top + rng.uniform(0.55, 0.72) * height
    bar_end = stem + rng.uniform(0.08, 0.3) * width
    stem_top = top + rng.uniform(0.0, 0.1) * height
    if closed:
        top_stroke = np.array([[stem_top, stem], [bar, left], [bar, bar_end]])
    else:
        arm_top = top + rng.uniform(0.0, 0.25) * height
        arm_col = left + rng.uniform(0.0, 0.2) * width
        top_stroke = np.array([[arm_top, arm_col], [bar, left], [bar, bar_end]])
    stem_stroke = np.array([[stem_top, stem], [bottom, stem + rng.uniform(-0.1, 0.05) * width]])
    return _jitter(np.concatenate([polyline(top_stroke), polyline(stem_stroke)]), rng, height)


def closed_four(segments: Segments, rng: np.random.Generator) -> Segments:
    """A four with a closed triangular top: a diagonal from the stem's top to the crossbar."""
    return _four(segments, rng, closed=True)


def open_four(segments: Segments, rng: np.random.Generator) -> Segments:
    """A four open at the top: a separate left arm, the crossbar, and the stem."""
    return _four(segments, rng, closed=False)


def straight_stem_nine(segments: Segments, rng: np.random.Generator) -> Segments:
    """A nine redrawn in the same box: a loop on a straight vertical stem."""
    top, left, bottom, right = _box(segments)
    height, width = bottom - top, max(right - left, 0.4 * (bottom - top))
    loop_height = rng.uniform(0.35, 0.5) * height
    radii = (loop_height / 2, width / 2)
    centre = (top + radii[0], left + radii[1])
    loop = ellipse(centre, radii, start=0.0, sweep=2 * np.pi * rng.uniform(1.0, 1.08))
    stem_col = left + width * rng.uniform(0.92, 1.0)
    stem = np.array([[centre[0], stem_col], [bottom, stem_col + rng.uniform(-0.08, 0.04) * width]])
    return _jitter(np.concatenate([polyline(loop), polyline(stem)]), rng, height)


def _jitter(segments: Segments, rng: np.random.Generator, height: float) -> Segments:
    """A hand's imprecision: a random shear (slant) and a small wobble of every point."""
    shear = rng.uniform(-0.25, 0.15)
    points = segments.reshape(-1, 2).copy()
    points[:, 1] -= shear * (points[:, 0] - points[:, 0].mean())
    points += rng.normal(0.0, 0.012 * height, points.shape)
    return points.reshape(-1, 4).astype(np.float32)


Style = Callable[[Segments, np.random.Generator], Segments]

# Each style, and the digit it is drawn on.
STYLES: dict[str, tuple[int, Style]] = {
    "slashed zero": (0, slash_zero),
    "barred zero": (0, bar_zero),
    "dotted zero": (0, dot_zero),
    "flagged one": (1, flag_one),
    "one with a foot": (1, foot_one),
    "caret one": (1, caret_one),
    "crossed seven": (7, cross_seven),
    "closed four": (4, closed_four),
    "open four": (4, open_four),
    "straight-stem nine": (9, straight_stem_nine),
}
