"""The data sets for the tests: a test that needs one it cannot have skips, saying why in one
line, and fails under CI, which must provide ../shared/."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from devtools import datasets
from training import cvl, sources, unipen

# Where the files of ../shared come from, for a skip's one line.
SHARED_ORIGIN = "a file of the project's ../shared, as developers and CI have it (see docs/data.md)"


def _unavailable(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it under CI, which must run every test."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide ../shared/")
    pytest.skip(reason)


def _require(path: Path, what: str) -> None:
    """Skip the test when `what`, kept at `path` in ../shared, is absent, or fail it under CI."""
    if not path.is_file():
        _unavailable(f"needs {what} at {path}: {SHARED_ORIGIN}")


MNIST_TEST_EVERY = 5  # a small MNIST keeps every 5th of its test digits


def thinned(source: Path, path: Path, every: int, arrays: tuple[str, ...]) -> Path:
    """A copy of the .npz at `source` keeping every `every`th item of `arrays`, the rest whole."""
    with np.load(source) as data:
        np.savez(path, **{n: data[n][::every] if n in arrays else data[n] for n in data.files})
    return path


def small_mnist(folder: Path) -> Path:
    """MNIST with all its training digits and every MNIST_TEST_EVERY-th test digit, written
    in `folder`: a model is measured on it in seconds."""
    mnist("train")  # skip or fail clearly when MNIST is absent
    return thinned(
        datasets.MNIST_PATH, folder / "mnist.npz", MNIST_TEST_EVERY, ("x_test", "y_test")
    )


def mnist(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8, labels) of one split, from ../shared or Keras's cache; skips when MNIST
    cannot be had, fails in CI."""
    try:
        return datasets.mnist(split)
    except FileNotFoundError as error:
        _unavailable(str(error))


@functools.cache
def _pen_split() -> sources.PenSplit:
    return sources.pen_split(datasets.UNIPEN_PATH)


def pen_unseen_sites() -> unipen.PenCharacters:
    """Characters of the UNIPEN sites training never sees; skips when the file is absent, fails
    in CI."""
    _require(datasets.UNIPEN_PATH, "UNIPEN pen handwriting")
    return _pen_split().unseen_sites


def cvl_valid() -> cvl.CvlDigits:
    """CVL's validation writers' digits, read-only; skips when the file is absent, fails in CI."""
    _require(datasets.CVL_PATH, "the CVL digits")
    return _cvl_valid()


@functools.cache
def _cvl_valid() -> cvl.CvlDigits:
    # Loaded once for the whole run: many tests read it, and none may change it for the others.
    digits = cvl.load(datasets.CVL_PATH, "valid")
    for array in (digits.images, digits.digits, digits.writer):
        array.flags.writeable = False
    return digits
