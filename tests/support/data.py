"""The data sets beside the project for the tests: a test that needs one skips when it is
absent, and fails under CI, which must provide ../shared/."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from devtools import datasets
from training import cvl, unipen

if TYPE_CHECKING:
    import train_model


def _require(path: Path, missing: str, missing_in_ci: str) -> None:
    """Skip the test when `path` is absent, or fail it under CI."""
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(missing_in_ci)
        pytest.skip(missing)


def mnist(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8, labels) of one split; skips when the file is absent, fails in CI."""
    path = datasets.MNIST_PATH
    _require(
        path,
        f"MNIST is not at {path}",
        f"MNIST is missing at {path}; CI must provide ../shared/mnist.npz",
    )
    return datasets.mnist(split)


@functools.cache
def _pen_split() -> train_model.PenSplit:
    # Imported here: TensorFlow takes seconds to load, and the feedback tests' writer
    # processes, which import this module, need only MNIST.
    import train_model

    return train_model.pen_split(datasets.UNIPEN_PATH)


def pen_unseen_sites() -> unipen.PenCharacters:
    """Characters of the UNIPEN sites training never sees; skips when the file is absent, fails
    in CI."""
    path = datasets.UNIPEN_PATH
    _require(
        path,
        f"UNIPEN pen handwriting is not at {path}",
        f"UNIPEN is missing at {path}; CI must provide ../shared/",
    )
    return _pen_split().unseen_sites


def cvl_valid() -> cvl.CvlDigits:
    """CVL's validation writers' digits, read-only; skips when the file is absent, fails in CI."""
    path = datasets.CVL_PATH
    _require(path, f"CVL digits are not at {path}", f"CVL is missing at {path}; CI must provide it")
    return _cvl_valid()


@functools.cache
def _cvl_valid() -> cvl.CvlDigits:
    # Loaded once for the whole run: many tests read it, and none may change it for the others.
    digits = cvl.load(datasets.CVL_PATH, "valid")
    for array in (digits.images, digits.digits, digits.writer):
        array.flags.writeable = False
    return digits
