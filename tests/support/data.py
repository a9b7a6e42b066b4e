"""The data sets beside the project for the tests: a test that needs one skips when it is
absent, and fails under CI, which must provide ../shared/."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest

from devtools import datasets
from train_model import SPLIT_SEED
from training import unipen


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
def _pen_validation() -> unipen.PenCharacters:
    pen = unipen.load(datasets.UNIPEN_PATH)
    return pen.subset(unipen.validation_writers(pen.writer, SPLIT_SEED))


def pen_validation() -> unipen.PenCharacters:
    """Characters of the writers training holds out; skips when the file is absent, fails in CI."""
    path = datasets.UNIPEN_PATH
    _require(
        path,
        f"UNIPEN pen handwriting is not at {path}",
        f"UNIPEN is missing at {path}; CI must provide ../shared/",
    )
    return _pen_validation()


def cvl_valid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CVL's validation split: (images uint8, digits, writers); skips when absent, fails in CI."""
    path = datasets.CVL_PATH
    _require(path, f"CVL digits are not at {path}", f"CVL is missing at {path}; CI must provide it")
    with np.load(path) as data:
        valid = data["split"] == "valid"
        return data["x"][valid], data["y"][valid].astype(int), data["writer"][valid]
