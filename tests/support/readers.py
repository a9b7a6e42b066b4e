"""What the real classifier reads, for tests that compare readings or count model calls."""

from __future__ import annotations

import numpy as np

from devtools.numbers import WrittenNumber, digits_read
from digit_model import ModelOutputs
from preprocess import canvas_to_ink
from reading import read_number


def read_written(classifier, number: WrittenNumber) -> str:
    """The digits (and marks) the page reads from the whole written canvas
    (`devtools.numbers.digits_read`)."""
    return digits_read(read_number(classifier, canvas_to_ink(number.rgba)))


class CountingClassifier:
    """The real classifier, noting each call: whether it took the second look, how many
    images it read."""

    def __init__(self, classifier) -> None:
        self.classifier, self.looks, self.sizes = classifier, [], []

    def read_all(self, images: np.ndarray, second_look: bool = True) -> ModelOutputs:
        self.looks.append(second_look)
        self.sizes.append(len(images))
        return self.classifier.read_all(images, second_look=second_look)
