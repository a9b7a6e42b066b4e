"""The data sets the tests and benchmarks read: MNIST from the project's ../shared or Keras's
cache, and UNIPEN pen handwriting and CVL digits from ../shared."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from devtools import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared"
SHARED_MNIST = SHARED_DATA / "mnist.npz"
# Where keras.datasets.mnist.load_data() keeps MNIST, found without importing TensorFlow.
KERAS_MNIST = Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "datasets/mnist.npz"
MNIST_PATH = SHARED_MNIST if SHARED_MNIST.is_file() else KERAS_MNIST
UNIPEN_PATH = SHARED_DATA / "unipen_dev.npz"
CVL_PATH = SHARED_DATA / "cvl_dev.npz"


@functools.cache
def _why_mnist_is_missing() -> str | None:
    """None once MNIST is at MNIST_PATH, downloading it there as any Keras user gets it when
    absent; else why not. Tried once per process: offline, each try takes seconds."""
    if MNIST_PATH.is_file():
        return None
    import keras  # loads TensorFlow: only when MNIST must be downloaded

    try:
        keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception when the download fails
        return (
            f"MNIST is neither at {SHARED_MNIST} nor in Keras's cache at {KERAS_MNIST}, "
            f"and Keras could not download it: {str(error).splitlines()[0]}"
        )
    if not MNIST_PATH.is_file():
        return f"Keras downloaded MNIST, but not to {MNIST_PATH}: set KERAS_HOME"
    return None


def mnist_path() -> Path:
    """Where MNIST is, downloaded into Keras's cache first when absent; FileNotFoundError
    saying why when it cannot be had."""
    if reason := _why_mnist_is_missing():
        raise FileNotFoundError(reason)
    return MNIST_PATH


@functools.cache
def _mnist_arrays() -> dict[str, np.ndarray]:
    with np.load(mnist_path()) as data:
        return {name: data[name] for name in data.files}


def mnist(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8, labels) of one MNIST split, read once; FileNotFoundError when it cannot
    be had."""
    data = _mnist_arrays()
    return data[f"x_{split}"], data[f"y_{split}"]
