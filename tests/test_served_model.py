"""One classifier per server process, whichever of the page and the HTTP API asks first."""

from __future__ import annotations

import time

import numpy as np
import pytest

import digit_model
import webapp
from preprocess import canvas_to_ink
from reading import read_number
from server import served_model
from tests.support.pictures import written

WARM_UP_S = 120  # loading and compiling take about 12 s alone, longer beside other work


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


def test_a_model_file_that_fails_to_load_is_logged_with_why(tmp_path, monkeypatch, caplog):
    """A replica nobody sends visitors to shows no page: its log must say why it is not ready."""
    path = tmp_path / "model.keras"
    path.write_bytes(digit_model.DEFAULT_PATH.read_bytes()[:1000])
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(path))
    served_model.preload()  # loads on this thread: the warning is logged when it returns
    [record] = [r for r in caplog.records if r.name == served_model.__name__]
    assert record.levelname == "WARNING" and f"{path} could not be read" in record.getMessage()
    assert served_model.state() is served_model.ModelState.UNAVAILABLE


def test_start_up_compiles_every_batch_size_a_number_is_read_at(
    tmp_path, monkeypatch, clear_digits
):
    """Each stroke of a number reads the ways to split it in one batch, and a new batch size
    has XLA compile for half a second: once the server's model is loaded, it is compiled for
    them all, and only then is it counted ready, so no stroke of the first numbers written
    waits for one."""
    path = tmp_path / "model.keras"
    path.write_bytes(digit_model.DEFAULT_PATH.read_bytes())
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(path))
    call, batch_sizes = digit_model.Classifier._call, []

    def noted(classifier, images):
        batch_sizes.append((classifier, digit_model._bucket(len(images))))  # compiled for
        return call(classifier, images)

    monkeypatch.setattr(digit_model.Classifier, "_call", noted)
    served_model.preload()
    wait_until_ready()
    classifier = served_model.shared_classifier()
    compiled = {size for called, size in batch_sizes if called is classifier}
    batch_sizes.clear()
    number = "3141592653589793"
    for length in range(1, len(number) + 1):  # the number as it grows, digit by digit
        read_number(classifier, canvas_to_ink(written(clear_digits, number[:length])))
    read_at = {size for called, size in batch_sizes if called is classifier}
    assert len(read_at) > 5
    assert read_at <= compiled


def test_a_model_whose_compile_ahead_fails_is_ready_and_reads(tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    path.write_bytes(digit_model.DEFAULT_PATH.read_bytes())
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(path))

    def failing_warm_up(classifier):
        raise MemoryError("no memory to compile ahead")

    monkeypatch.setattr(digit_model.Classifier, "warm_up", failing_warm_up)
    classifier = served_model.shared_classifier()
    wait_until_ready()
    probabilities, _ = classifier.read(np.zeros((3, 28, 28), np.float32))
    assert probabilities.shape == (3, 10)


def wait_until_ready() -> None:
    """Until the served model is loaded and compiled; fails after WARM_UP_S."""
    deadline = time.monotonic() + WARM_UP_S
    while served_model.state() is not served_model.ModelState.LOADED:
        assert time.monotonic() < deadline, "the model was not ready in time"
        time.sleep(0.1)
