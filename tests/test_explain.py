"""The heat-map of why the model answered: on the strokes, cold elsewhere, and truthful."""

from __future__ import annotations

import numpy as np
import pytest

from preprocess import canvas_to_ink
from reading import read_digit
from reading.explain import overlay, saliency
from tests.support.data import mnist
from tests.support.readers import CountingClassifier

SHARE = 0.25  # the share of a digit's ink hidden when checking what the heat-map ranks highest


@pytest.fixture(scope="module")
def drawn_inputs(classifier, clear_digits) -> list[tuple[np.ndarray, int]]:
    """One canvas drawing of each digit, as the model's 28x28 input."""
    return [
        (read_digit(classifier, canvas_to_ink(digit.image(200, 40, 60))).image, label)
        for label, digit in sorted(clear_digits.items())
    ]


def test_heat_lies_on_the_strokes_and_nowhere_else(classifier, drawn_inputs):
    for image, label in drawn_inputs:
        heat = saliency(classifier, image, label)
        assert heat.shape == (28, 28) and heat.dtype == np.float32
        assert heat.min() >= 0.0
        assert heat[image == 0].max() == 0.0
        strokes = image > 0.2
        assert (heat[strokes] > 0).mean() >= 0.5  # the rest, if any, speak against the answer


def occluded(image: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    hidden = image.copy()
    hidden[tuple(pixels.T)] = 0.0
    return hidden


def test_hiding_the_hottest_strokes_hurts_more_than_hiding_the_coldest(classifier):
    images, labels = mnist("test")
    hotter_hurts_more = []
    for image, label in zip(images[:40] / np.float32(255), labels[:40]):
        heat = saliency(classifier, image, int(label))
        ink = np.argwhere(image > 0.2)
        ranked = ink[np.argsort(heat[tuple(ink.T)])]
        count = round(SHARE * len(ranked))
        hottest, coldest = occluded(image, ranked[-count:]), occluded(image, ranked[:count])
        first_look = classifier.read_all(np.stack([hottest, coldest]), second_look=False)
        p_hottest, p_coldest = first_look.probabilities[:, label]
        hotter_hurts_more.append(p_hottest < p_coldest)
    assert np.mean(hotter_hurts_more) >= 0.9


def test_the_heat_map_is_one_batched_call_at_the_first_look(classifier, drawn_inputs):
    counting = CountingClassifier(classifier)
    saliency(counting, *drawn_inputs[3])
    assert counting.looks == [False]  # every occluded copy read alike


def test_overlay_colours_the_strokes_by_heat(classifier, drawn_inputs):
    image, label = drawn_inputs[7]
    heat = saliency(classifier, image, label)
    picture = overlay(image, heat, size=280)
    assert picture.shape == (280, 280, 3) and picture.dtype == np.uint8
    assert (picture[:10, :10] == 255).all()  # blank corners stay white paper
    row, col = np.unravel_index(np.argmax(heat * (image > 0.5)), heat.shape)
    red, green, blue = picture[row * 10 + 5, col * 10 + 5].astype(int)
    assert red > 150 and red > green + 60 and red > blue + 60  # the hottest stroke is red
    cold = overlay(image, np.zeros((28, 28), np.float32))
    red, green, blue = cold[row * 10 + 5, col * 10 + 5].astype(int)
    assert abs(red - green) < 10 and abs(green - blue) < 10  # no heat: grey strokes


def test_bad_arguments_are_refused(classifier, drawn_inputs):
    image, label = drawn_inputs[0]
    with pytest.raises(ValueError, match="28, 28"):
        saliency(classifier, np.zeros((20, 20), np.float32), label)
    with pytest.raises(ValueError, match="digit 0-9"):
        saliency(classifier, image, 10)
    with pytest.raises(ValueError, match="28, 28"):
        overlay(image, np.zeros((14, 14), np.float32))
