"""Real pen handwriting for the tests: validation writers of ../shared/unipen_dev.npz."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

import unipen
from train_model import SPLIT_SEED

UNIPEN_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "unipen_dev.npz"


@functools.cache
def _validation() -> unipen.PenCharacters:
    pen = unipen.load(UNIPEN_PATH)
    return pen.subset(unipen.validation_writers(pen.writer, SPLIT_SEED))


def pen_validation() -> unipen.PenCharacters:
    """Characters of the writers training holds out; skips when the file is absent, fails in CI."""
    if not UNIPEN_PATH.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"UNIPEN is missing at {UNIPEN_PATH}; CI must provide ../shared/")
        pytest.skip(f"UNIPEN pen handwriting is not at {UNIPEN_PATH}")
    return _validation()
