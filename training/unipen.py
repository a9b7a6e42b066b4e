"""Real pen handwriting from UNIPEN: characters as strokes, split by writer for validation.

`unipen_dev.npz` (see the shared data README) keeps each character's pen-down strokes in
tablet units, y growing downwards. Here a character becomes centre-line segments
(row0, col0, row1, col1), the form `canvas_drawings` draws with a round brush, so pen
digits and letters reach the model through the same rendering as MNIST digits redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DIGITS = "0123456789"
VALIDATION_WRITERS = 0.15  # share of writer sessions held out, whole, for validation

# Letters and symbols a person could mean as a digit (O for 0, l and | for 1, S for 5, ...),
# and marks too small to have a shape of their own (a comma or an apostrophe drawn at a
# digit's size is a 1's stroke): neither trained on as digits nor as not-digits.
DIGIT_LIKE = set("OoQDlIiJj|!/\\()[]{}ZzSsbBGgq$&") | set(".,'`")


@dataclass(frozen=True)
class PenCharacters:
    """Characters written with a pen: strokes as segments, the character meant, site and writer."""

    segments: list[np.ndarray]  # per character: (K, 4) float32 (row0, col0, row1, col1)
    label: np.ndarray  # (N,) str
    site: np.ndarray  # (N,) str
    writer: np.ndarray  # (N,) str

    def subset(self, mask: np.ndarray) -> PenCharacters:
        """The characters where `mask` is True."""
        return PenCharacters(
            [s for s, keep in zip(self.segments, mask) if keep],
            self.label[mask],
            self.site[mask],
            self.writer[mask],
        )

    @property
    def is_digit(self) -> np.ndarray:
        """(N,) bool: the character is one of 0-9."""
        return np.isin(self.label, list(DIGITS))

    @property
    def is_other(self) -> np.ndarray:
        """(N,) bool: a letter or symbol no one would mean as a digit."""
        return ~self.is_digit & ~np.isin(self.label, list(DIGIT_LIKE))

    @property
    def digits(self) -> np.ndarray:
        """(N,) int: the digit written, -1 for anything else."""
        return np.array([DIGITS.find(label) if len(label) == 1 else -1 for label in self.label])


def stroke_segments(strokes: list[np.ndarray]) -> np.ndarray:
    """Pen strokes of (x, y) points as (K, 4) segments (row0, col0, row1, col1); a tap is a dot."""
    pieces = []
    for points in strokes:
        rows_cols = points[:, ::-1].astype(np.float32)
        if len(rows_cols) == 1:
            rows_cols = np.concatenate([rows_cols, rows_cols])
        pieces.append(np.concatenate([rows_cols[:-1], rows_cols[1:]], axis=1))
    return np.concatenate(pieces)


def load(path: str | Path) -> PenCharacters:
    """Every character of a `unipen_dev.npz` file as segments."""
    with np.load(path) as data:
        points, stroke_starts, char_starts = (
            data["points"],
            data["stroke_starts"],
            data["char_starts"],
        )
        label, site, writer = data["label"], data["site"], data["writer"]
    strokes = np.split(points, stroke_starts[1:])
    per_char = np.split(np.arange(len(strokes)), char_starts[1:])
    segments = [stroke_segments([strokes[i] for i in indices]) for indices in per_char]
    return PenCharacters(segments, label, site, writer)


def validation_writers(
    writers: np.ndarray, seed: int, share: float = VALIDATION_WRITERS
) -> np.ndarray:
    """(N,) bool: True for characters whose writer session is held out for validation."""
    names = np.unique(writers)
    held_out = np.random.default_rng(seed).permutation(names)[: round(share * len(names))]
    return np.isin(writers, held_out)
