"""The handwriting memory: a corrected style is read right afterwards, and wrong labels stay
where they were given."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import reading
from devtools.drawing import PLACEMENTS
from preprocess import canvas_to_ink
from reading.memory import (
    FLAGGED_ALIKE,
    LESS_SURE,
    LOOKS_ALIKE,
    LOOKS_THE_SAME,
    MAX_SHIFT,
    MORE_EXAMPLES_SHIFT,
    ONE_EXAMPLE_SHIFT,
)
from tests.support.data import cvl_valid, mnist
from training.canvas_drawings import random_drawings

WRITERS = 12  # CVL validation writers searched for a misread the writer draws twice


def misread_twice(classifier):
    """Two drawings of one digit by one writer that look the same and are both misread, the
    second by odds one example may overturn (see `ONE_EXAMPLE_SHIFT`)."""
    valid = cvl_valid()
    images, digits, writers = valid.images, valid.digits, valid.writer
    for writer in sorted(set(writers))[:WRITERS]:
        mine = np.flatnonzero(writers == writer)
        found = reading.read_inputs(classifier, images[mine] / np.float32(255))
        wrong = [i for i, r in enumerate(found) if r.digit != digits[mine[i]] or not r.is_digit]
        for first in wrong:
            for again in wrong:
                alike = found[first].features @ found[again].features
                meant = digits[mine[first]]
                same_digit = digits[mine[again]] == meant
                odds = found[again].probabilities.max() / found[again].probabilities[meant]
                within_reach = np.log(odds) < ONE_EXAMPLE_SHIFT
                if again > first and same_digit and alike >= LOOKS_THE_SAME and within_reach:
                    return found[first], found[again], int(meant), found
    pytest.fail("no writer's misread digit was found drawn twice alike")


def test_a_corrected_style_is_read_right_afterwards(classifier):
    first, again, meant, writers_drawings = misread_twice(classifier)
    memory = reading.HandwritingMemory()
    memory.add(first, meant)

    reread = memory.recall(again)
    assert reread.digit == meant and reread.is_digit
    assert reread.examples == 1 and reread.changed
    # The writer's drawings unlike it keep the model's answer.
    unlike = [r for r in writers_drawings if r.features @ first.features < 0.5]
    assert unlike
    assert [memory.recall(r).digit for r in unlike] == [r.digit for r in unlike]


def test_read_digit_takes_the_memory(classifier, clear_digits):
    ink = canvas_to_ink(clear_digits[4].image(*PLACEMENTS[0]))
    memory = reading.HandwritingMemory()
    plain = reading.read_digit(classifier, ink)
    empty = reading.read_digit(classifier, ink, memory=memory)
    np.testing.assert_array_equal(empty.probabilities, plain.probabilities)
    assert plain.examples == 0 and not plain.changed

    memory.add(plain, 4)  # ✓ Correct
    backed = reading.read_digit(classifier, canvas_to_ink(clear_digits[4].image(*PLACEMENTS[1])))
    backed = memory.recall(backed)
    assert backed.digit == 4 and backed.examples == 1 and not backed.changed
    assert backed.confidence >= plain.confidence - 1e-6

    memory.forget()
    assert len(memory) == 0
    assert reading.read_digit(classifier, ink, memory=memory).examples == 0


def test_a_prank_label_does_not_spread(classifier, clear_digits):
    memory = reading.HandwritingMemory()
    for digit in range(5):  # five clear digits each labelled with a wrong digit
        pranked = reading.read_digit(
            classifier, canvas_to_ink(clear_digits[digit].image(200, 40, 60))
        )
        memory.add(pranked, (digit + 5) % 10)
    images, labels = mnist("test")
    drawings = list(random_drawings(images[1000:1300], labels[1000:1300], seed=5))
    inks = [canvas_to_ink(rgba) for rgba, _, _ in drawings]
    plain = reading.read_digits(classifier, inks)
    fooled = reading.read_digits(classifier, inks, memory)
    truth = np.array([label for _, label, _ in drawings])
    right = np.array([r.digit for r in plain]) == truth
    still_right = np.array([r.digit for r in fooled]) == truth
    assert still_right.sum() >= right.sum() - 1  # at most one of 300 other digits flips
    # And the pranked drawings themselves, drawn again elsewhere, as the model reads them.
    again = [canvas_to_ink(clear_digits[d].image(*PLACEMENTS[2])) for d in range(5)]
    assert [r.digit for r in reading.read_digits(classifier, again, memory)] == list(range(5))


def test_a_drawing_that_is_no_digit_stays_none(classifier, clear_digits, not_a_digit):
    memory = reading.HandwritingMemory()
    for digit, drawing in clear_digits.items():
        for placement in PLACEMENTS:
            memory.add(
                reading.read_digit(classifier, canvas_to_ink(drawing.image(*placement))), digit
            )
    for placement in PLACEMENTS:
        read = reading.read_digit(classifier, canvas_to_ink(not_a_digit.image(*placement)), memory)
        assert not read.is_digit and read.examples == 0


def test_the_memory_is_capped_and_a_drawing_is_kept_once(classifier, clear_digits):
    memory = reading.HandwritingMemory(capacity=3)
    readings = [
        reading.read_digit(classifier, canvas_to_ink(clear_digits[d].image(*PLACEMENTS[0])))
        for d in range(5)
    ]
    memory.add(readings[0], 0)
    memory.add(readings[0], 6)  # the same drawing labelled again: relabelled, not kept twice
    assert len(memory) == 1
    assert memory.holds(readings[0], 6) and not memory.holds(readings[0], 0)
    assert not memory.holds(readings[1], 6)  # another drawing is not this one
    # A 6 now backs the drawing: its odds rise by e**ONE_EXAMPLE_SHIFT, however sure the model was.
    assert memory.recall(readings[0]).probabilities[6] > 10 * readings[0].probabilities[6]
    for read, digit in zip(readings[1:], range(1, 5)):
        memory.add(read, digit)
    assert len(memory) == 3
    assert memory.recall(readings[0]).examples == 0  # the oldest example went first
    assert not memory.holds(readings[0], 6)
    with pytest.raises(ValueError, match="0-9"):
        memory.add(readings[1], 10)


def read_as(features: np.ndarray, odds: float, is_digit: bool = True) -> reading.DigitReading:
    """A drawing with the given features that the model reads as 7, by `odds` to 1 against 1."""
    probabilities = np.full(10, 1e-6, np.float32)
    probabilities[1] = 1 / (1 + odds)
    probabilities[7] = odds / (1 + odds) - 8e-6
    return reading.DigitReading(
        np.zeros((28, 28), np.float32), probabilities, is_digit, False, features=features
    )


def alike(likeness: float, turn: int = 0) -> np.ndarray:
    """A unit vector `likeness` alike to (1, 0, 0, 0), its other part on axis 1 + `turn`."""
    features = np.zeros(4, np.float32)
    features[0], features[1 + turn] = likeness, np.sqrt(1 - likeness**2)
    return features


def test_only_an_example_that_looks_the_same_or_was_flagged_too_makes_a_flagged_drawing_a_digit():
    drawing = np.eye(4, dtype=np.float32)[0]
    half_alike = (LOOKS_ALIKE + LOOKS_THE_SAME) / 2
    memory = reading.HandwritingMemory()
    for turn in range(3):  # three different drawings of 1 the model read as digits, half alike
        memory.add(read_as(alike(half_alike, turn), odds=0.5), 1)
    recalled = memory.recall(read_as(drawing, odds=0.5, is_digit=False))
    assert recalled.digit == 1 and not recalled.is_digit and recalled.examples == 0

    memory.add(read_as(alike(LOOKS_THE_SAME + 0.01), odds=0.5), 1)
    recalled = memory.recall(read_as(drawing, odds=0.5, is_digit=False))
    assert recalled.is_digit and recalled.digit == 1 and recalled.examples == 4


def test_a_flagged_style_corrected_once_is_read_as_that_digit_when_flagged_again():
    """A barred 0 or a crossed 7: the page called it no digit, the writer gave the digit."""
    drawing = np.eye(4, dtype=np.float32)[0]
    memory = reading.HandwritingMemory()
    memory.add(read_as(alike(FLAGGED_ALIKE + 0.05), odds=20, is_digit=False), 7)
    recalled = memory.recall(read_as(drawing, odds=20, is_digit=False))
    assert recalled.is_digit and recalled.digit == 7 and recalled.examples == 1
    assert recalled.changed and not recalled.doubtful
    # Unlike it, or drawn as a digit the page took for a digit, it vouches for nothing.
    unlike = np.eye(4, dtype=np.float32)[3]
    assert not memory.recall(read_as(unlike, odds=20, is_digit=False)).is_digit
    other = reading.HandwritingMemory()
    other.add(read_as(alike(FLAGGED_ALIKE + 0.05), odds=20), 7)
    assert not other.recall(read_as(drawing, odds=20, is_digit=False)).is_digit


def test_one_label_cannot_overturn_a_firm_answer_but_a_style_corrected_twice_can():
    """A prank is one label; a writer's long-flagged 1, read as a firm 7, is corrected again."""
    firmer_than_one_label = np.exp(ONE_EXAMPLE_SHIFT + MORE_EXAMPLES_SHIFT / 2)
    seven = read_as(np.eye(4, dtype=np.float32)[0], odds=firmer_than_one_label)
    memory = reading.HandwritingMemory()
    memory.add(read_as(alike(0.95), odds=firmer_than_one_label), 1)
    assert memory.recall(seven).digit == 7

    memory.add(read_as(alike(0.95, turn=1), odds=firmer_than_one_label), 1)
    assert memory.recall(seven).digit == 1 and memory.recall(seven).examples == 2
    # However many labels, odds beyond MAX_SHIFT stand.
    memory.add(read_as(alike(0.95, turn=2), odds=firmer_than_one_label), 1)
    assert memory.recall(read_as(seven.features, odds=np.exp(MAX_SHIFT + 1))).digit == 7


def test_examples_of_other_digits_that_look_alike_are_named_as_making_it_less_sure():
    """A firm 7 and three examples: a 1 and a 4 that look like it, and a 4 that does not."""
    probabilities = np.full(10, 1e-4, np.float32)
    probabilities[7] = 1 - 9e-4
    drawing = np.eye(4, dtype=np.float32)[0]
    seven = reading.DigitReading(
        np.zeros((28, 28), np.float32), probabilities, True, False, features=drawing
    )
    memory = reading.HandwritingMemory()
    alike = np.array([LOOKS_THE_SAME, np.sqrt(1 - LOOKS_THE_SAME**2), 0, 0], np.float32)
    for digit, features in ((4, alike), (1, alike[[0, 2, 1, 3]]), (4, np.eye(4)[3])):
        memory.add(dataclasses.replace(seven, features=features.astype(np.float32)), digit)

    recalled = memory.recall(seven)

    assert recalled.digit == 7 and recalled.confidence < seven.confidence
    assert recalled.examples == 0 and recalled.examples_against == (1, 4)
    # A 7 ten times as firm loses less than a point of confidence to them: none is named.
    firmer = dataclasses.replace(seven, probabilities=np.full(10, 1e-5, np.float32))
    firmer.probabilities[7] = 1 - 9e-5
    recalled = memory.recall(firmer)
    assert firmer.confidence - recalled.confidence < LESS_SURE
    assert recalled.examples_against == ()
