"""Drawings that are not digits, generated to teach the model to say so.

Besides the letters and symbols of real pen handwriting (`unipen`), people draw things
on a digit canvas that are no character at all: scribbles, hatching, a circle crossed
out, a smiley, or a stroke left half-finished. Each generator returns centre-line
segments (K, 4) of (row0, col0, row1, col1) in arbitrary units, as `styles` uses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from training.styles import Segments, ellipse, polyline

UNFINISHED_DIGITS = (2, 7)  # whose first part alone reads as no digit: a hook, a dash


def scribble(rng: np.random.Generator) -> Segments:
    """A tangle: a closed curve of several crossing loops."""
    t = np.linspace(0.0, 2 * np.pi, 160)
    rows = sum(rng.uniform(0.3, 1.0) * np.sin(k * t + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5))
    cols = sum(rng.uniform(0.3, 1.0) * np.cos(k * t + rng.uniform(0, 2 * np.pi)) for k in (3, 4, 7))
    return polyline(np.stack([rows, cols], 1))


def hatching(rng: np.random.Generator) -> Segments:
    """Three to eight parallel strokes, as when shading an area."""
    count = int(rng.integers(3, 9))
    angle = rng.uniform(0, np.pi)
    along = np.array([np.sin(angle), np.cos(angle)])
    across = np.array([along[1], -along[0]])
    length = rng.uniform(0.6, 1.2)
    lines = []
    for index in range(count):
        start = across * index * rng.uniform(0.12, 0.2) + along * rng.uniform(-0.1, 0.1)
        lines.append(polyline(np.stack([start, start + length * along])))
    return np.concatenate(lines)


def crossed_circle(rng: np.random.Generator) -> Segments:
    """A circle crossed out with an X or a plus."""
    radius = (1.0, rng.uniform(0.7, 1.2))
    circle = polyline(ellipse((0.0, 0.0), radius))
    turn = rng.choice([np.pi / 4, 0.0]) + rng.uniform(-0.2, 0.2)
    reach = rng.uniform(0.8, 1.3)
    arms = []
    for angle in (turn, turn + np.pi / 2):
        direction = reach * np.array([np.sin(angle), np.cos(angle)]) * radius
        arms.append(polyline(np.stack([-direction, direction])))
    return np.concatenate([circle, *arms])


def smiley(rng: np.random.Generator) -> Segments:
    """A round face with two eyes and a smile."""
    face = polyline(ellipse((0.0, 0.0), (1.0, rng.uniform(0.85, 1.15))))
    eye_row, eye_gap = rng.uniform(-0.45, -0.25), rng.uniform(0.25, 0.45)
    eyes = [polyline(ellipse((eye_row, side * eye_gap), (0.06, 0.06))) for side in (-1, 1)]
    smile = polyline(ellipse((0.1, 0.0), (0.45, 0.5), start=np.pi * 1.15, sweep=np.pi * 0.7))
    return np.concatenate([face, *eyes, smile])


def unfinished(segments: Segments, rng: np.random.Generator) -> Segments:
    """The first sixth to third of a digit's pen path: a stroke abandoned early."""
    lengths = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    reach = np.cumsum(lengths) <= rng.uniform(0.15, 0.3) * lengths.sum()
    reach[0] = True
    return segments[reach]


Generator = Callable[[np.random.Generator], Segments]

GENERATORS: dict[str, Generator] = {
    "scribble": scribble,
    "hatching": hatching,
    "crossed circle": crossed_circle,
    "smiley": smiley,
}
