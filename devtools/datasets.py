"""The data sets kept beside the project, in ../shared: MNIST, UNIPEN pen handwriting, CVL."""

from __future__ import annotations

import functools

import numpy as np

from devtools import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared"
MNIST_PATH = SHARED_DATA / "mnist.npz"
UNIPEN_PATH = SHARED_DATA / "unipen_dev.npz"
CVL_PATH = SHARED_DATA / "cvl_dev.npz"


@functools.cache
def _mnist_arrays() -> dict[str, np.ndarray]:
    with np.load(MNIST_PATH) as data:
        return {name: data[name] for name in data.files}


def mnist(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8, labels) of one MNIST split, read once; FileNotFoundError when absent."""
    if not MNIST_PATH.is_file():
        raise FileNotFoundError(f"MNIST is not at {MNIST_PATH}")
    data = _mnist_arrays()
    return data[f"x_{split}"], data[f"y_{split}"]
