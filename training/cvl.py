"""The CVL Single Digit database (TU Wien, ICDAR 2013): digits of Vienna writers, MNIST-style.

`cvl_dev.npz` (see the shared data README) holds 28x28 uint8 digits, bright ink on black and
fitted into 20x20 the MNIST way, in two splits with no writer in common: `train`, to learn
from, and `valid`, which the database's rules reserve for validation, never for training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "valid")


@dataclass(frozen=True)
class CvlDigits:
    """One split's digits: images as MNIST stores them, the digit meant, and the writer."""

    images: np.ndarray  # (N, 28, 28) uint8
    digits: np.ndarray  # (N,) int64
    writer: np.ndarray  # (N,) str

    def subset(self, mask: np.ndarray) -> CvlDigits:
        """The digits where `mask` is True."""
        return CvlDigits(self.images[mask], self.digits[mask], self.writer[mask])


def load(path: str | Path, split: str) -> CvlDigits:
    """The digits of one split ("train" or "valid") of a `cvl_dev.npz` file."""
    if split not in SPLITS:
        raise ValueError(f"CVL has the splits {SPLITS}, not {split!r}")
    with np.load(path) as data:
        chosen = data["split"] == split
        return CvlDigits(
            data["x"][chosen], data["y"][chosen].astype(np.int64), data["writer"][chosen]
        )
