"""A memory of one person's handwriting: the digits they labelled, recalled for later drawings.

Each label given (the answer confirmed, or the digit meant) keeps the drawing's features, the
network's penultimate layer standardised and scaled to unit length (`digit_model.Classifier`),
with the digit and whether the page had called the drawing no digit. A later drawing is read
by the model, then each kept example that looks like it adds evidence for its digit: nothing
below a cosine similarity of LOOKS_ALIKE, rising to a full share at LOOKS_THE_SAME. One full
example adds ONE_EXAMPLE_SHIFT to its digit's log-odds, each further one MORE_EXAMPLES_SHIFT,
up to MAX_SHIFT: a style corrected twice weighs more than a single label, and a few wrong
labels, seldom alike, cannot overturn what the model is sure of. The probabilities stay a
calibrated answer, the model's shifted by bounded evidence. A drawing the model takes for no
digit is read as one when an example of that digit looks the same, or when an example the
page had also called no digit looks even FLAGGED_ALIKE: this writer's crossed 7 or barred 0
is their way of writing the digit. The settings were chosen by measurement,
`benchmarks/bench_memory.py`, which measures them again on any model file.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from reading import DigitReading

CAPACITY = 100  # examples kept; the oldest goes when a new one comes
LOOKS_ALIKE = 0.55  # cosine similarity where an example starts to count...
LOOKS_THE_SAME = 0.75  # ...and where it counts fully, and may make a flagged drawing a digit
FLAGGED_ALIKE = 0.30  # an example called no digit makes a flagged drawing this alike a digit
ONE_EXAMPLE_SHIFT = 6.0  # what one full example adds to its digit's log-odds: odds of ~400:1
MORE_EXAMPLES_SHIFT = 2.0  # what each further full example of the digit adds...
MAX_SHIFT = 9.0  # ...up to this: overturns odds up to ~8,000:1
SAME_DRAWING = 1 - 1e-6  # features this alike are the same drawing labelled again
LESS_SURE = 0.01  # examples of other digits that take this much from the answer are named


class HandwritingMemory:
    """The examples of one person's handwriting, kept for one visit (never stored)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._features: np.ndarray | None = None  # (capacity, D) once the first example comes
        self._digits = np.zeros(capacity, np.int64)
        self._flagged = np.zeros(capacity, bool)  # read as no digit, doubtfully or not
        self._count = 0  # examples kept
        self._next = 0  # the row the next new example takes

    def __len__(self) -> int:
        return self._count

    def add(self, reading: DigitReading, digit: int) -> None:
        """Keep `reading` as an example of `digit`; the same drawing labelled again is relabelled.

        A speck too small to read teaches nothing and is not kept.
        """
        if not 0 <= int(digit) <= 9:
            raise ValueError(f"a digit is 0-9, not {digit!r}")
        if reading.features is None:
            raise ValueError("this reading has no features: read it with reading.read_digit")
        if reading.too_small:
            return
        features = np.asarray(reading.features, np.float32)
        if self._features is None:
            self._features = np.zeros((self.capacity, len(features)), np.float32)
        same = np.flatnonzero(self._same_drawing(features))
        if len(same):
            self._digits[same[0]] = digit
            return
        self._features[self._next] = features
        self._digits[self._next] = digit
        self._flagged[self._next] = not reading.is_digit
        self._next = (self._next + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def holds(self, reading: DigitReading, digit: int) -> bool:
        """Whether this very drawing is kept as an example of `digit`."""
        if self._features is None or reading.features is None:
            return False
        same = self._same_drawing(np.asarray(reading.features, np.float32))
        return bool(np.any(same & (self._digits[: self._count] == digit)))

    def _same_drawing(self, features: np.ndarray) -> np.ndarray:
        """For each example kept, whether it is the drawing with these features."""
        return self._features[: self._count] @ features >= SAME_DRAWING

    def forget(self) -> None:
        """Drop every example."""
        self._count = self._next = 0

    def recall(self, reading: DigitReading) -> DigitReading:
        """The reading with the examples that look like it weighed in; unchanged when none do."""
        if not self._count or reading.features is None:
            return reading
        likeness = self._features[: self._count] @ reading.features
        weight = np.clip((likeness - LOOKS_ALIKE) / (LOOKS_THE_SAME - LOOKS_ALIKE), 0, 1)
        counted = weight > 0
        flagged_alike = self._flagged[: self._count] & (likeness >= FLAGGED_ALIKE)
        if not counted.any() and (reading.is_digit or not flagged_alike.any()):
            return reading
        digits = self._digits[: self._count]
        evidence = np.bincount(digits, weights=weight, minlength=10)
        shift = np.minimum(
            ONE_EXAMPLE_SHIFT * np.minimum(evidence, 1.0)
            + MORE_EXAMPLES_SHIFT * np.maximum(evidence - 1.0, 0.0),
            MAX_SHIFT,
        )
        logits = np.log(np.maximum(reading.probabilities, np.finfo(np.float32).tiny)) + shift
        probabilities = np.exp(logits - logits.max())
        probabilities = (probabilities / probabilities.sum()).astype(np.float32)
        digit = int(probabilities.argmax())
        # Examples that only look alike move the probabilities, never the verdict, unless the
        # page had called them no digit too.
        vouching = (digits == digit) & ((likeness >= LOOKS_THE_SAME) | flagged_alike)
        is_digit = reading.is_digit or bool(vouching.any())
        backing = int(((counted & (digits == digit)) | vouching).sum())
        doubted = reading.probabilities[digit] - probabilities[digit] >= LESS_SURE
        against = digits[counted & (digits != digit)] if doubted else []
        return dataclasses.replace(
            reading,
            probabilities=probabilities,
            is_digit=is_digit,
            doubtful=reading.doubtful and not is_digit,
            examples=backing if is_digit else 0,
            examples_against=tuple(sorted(map(int, against))) if is_digit else (),
            changed=digit != reading.digit or is_digit != reading.is_digit,
        )
