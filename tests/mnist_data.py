"""MNIST for the tests, from the copy beside the project (../shared/mnist.npz)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest

MNIST_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "mnist.npz"


@functools.cache
def _load() -> dict[str, np.ndarray]:
    with np.load(MNIST_PATH) as data:
        return {name: data[name] for name in data.files}


def mnist(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8, labels) of one split; skips when the file is absent, fails in CI."""
    if not MNIST_PATH.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"MNIST is missing at {MNIST_PATH}; CI must provide ../shared/mnist.npz")
        pytest.skip(f"MNIST is not at {MNIST_PATH}")
    data = _load()
    return data[f"x_{split}"], data[f"y_{split}"]
