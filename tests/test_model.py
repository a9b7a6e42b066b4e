"""The committed model: accuracy on MNIST and on canvas-style drawings through the full pipeline."""

import numpy as np
import pytest

import digit_model
from preprocess import canvas_to_ink
from reading import read_digit, read_digits
from tests.support.data import mnist
from training.canvas_drawings import COLOUR_SETUPS, centre_line, draw, random_drawings


@pytest.fixture(scope="module")
def classifier() -> digit_model.Classifier:
    return digit_model.load()


def read(classifier, rgba: np.ndarray) -> int:
    return read_digit(classifier, canvas_to_ink(rgba)).digit


def test_committed_model_reads_mnist_test_digits(classifier):
    images, labels = mnist("test")
    predicted = classifier.predict_proba(images[:3000] / np.float32(255)).argmax(axis=1)
    assert (predicted == labels[:3000]).mean() >= 0.99


def test_committed_model_reads_canvas_style_drawings(classifier):
    images, labels = mnist("test")
    drawings = list(random_drawings(images[-300:], labels[-300:], seed=7))
    readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba, _, _ in drawings])
    predicted = np.array([reading.digit for reading in readings])
    assert (predicted == [label for _, label, _ in drawings]).mean() >= 0.97


def test_answer_does_not_depend_on_place_size_or_colours(classifier):
    images, labels = mnist("test")
    for index in range(10):
        segments, label = centre_line(images[index] / 255.0), int(labels[index])
        for (height, top, left), setup in zip(
            [(200, 20, 30), (80, 15, 15), (110, 160, 150), (150, 60, 100), (60, 200, 20)],
            COLOUR_SETUPS,
        ):
            brush = max(4.0, height / 10)
            assert read(classifier, draw(segments, height, top, left, brush, setup)) == label


def test_probabilities_are_a_distribution(classifier):
    images, _ = mnist("test")
    probabilities = classifier.predict_proba(images[:5] / np.float32(255))
    assert probabilities.shape == (5, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_predict_proba_rejects_wrong_shapes(classifier):
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        classifier.predict_proba(np.zeros((28, 28), np.float32))


def test_missing_model_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(digit_model.ModelUnavailable, match="python train_model\\.py"):
        digit_model.load(tmp_path / "model.keras")


def test_corrupt_model_file_says_how_to_fix_it(tmp_path):
    corrupt = tmp_path / "model.keras"
    corrupt.write_bytes(digit_model.DEFAULT_PATH.read_bytes()[:5000])
    with pytest.raises(digit_model.ModelUnavailable, match="could not be read"):
        digit_model.load(corrupt)
