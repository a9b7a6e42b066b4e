"""One classifier per server process, whichever of the page and the HTTP API asks first."""

from __future__ import annotations

import numpy as np
import pytest

import digit_model
import webapp
from server import served_model


def test_the_page_and_the_api_share_one_classifier(monkeypatch):
    monkeypatch.delenv(digit_model.MODEL_PATH_VARIABLE, raising=False)
    for_the_api = served_model.shared_classifier()
    assert webapp.load_classifier(str(digit_model.model_path())) is for_the_api
    assert served_model.shared_classifier(digit_model.DEFAULT_PATH) is for_the_api


def test_a_missing_model_is_tried_again_once_it_is_there(tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(path))
    with pytest.raises(digit_model.ModelUnavailable, match=r"python train_model\.py"):
        served_model.shared_classifier()
    path.write_bytes(digit_model.DEFAULT_PATH.read_bytes())
    probabilities, _ = served_model.shared_classifier().read(np.zeros((1, 28, 28), np.float32))
    assert probabilities.shape == (1, 10)
