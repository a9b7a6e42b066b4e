"""A number read again on every stroke as it is written, as the page reads it: each digit
costs only its own ink, what is kept between strokes is bounded, and every reading is the
one a fresh read of the same canvas gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

from devtools.numbers import write_number
from preprocess import canvas_to_ink
from reading import NumberReading, candidates, cuts, marks, read_number, recent, segment
from tests.support.pictures import written
from tests.support.readers import CountingClassifier


def digit_by_digit(clear_digits, number: str, gaps: list[float | None]) -> list[np.ndarray]:
    """The canvas's ink after each digit of `number` is written, as a person writes it."""
    digits = [clear_digits[int(d)].segments for d in number]
    written = write_number(digits, gaps, 170, 12, "black on transparent", np.random.default_rng(3))
    return [canvas_to_ink(canvas) for canvas in written.as_written()]


class Work(NamedTuple):
    """What reading one canvas took, and what it read."""

    inputs: int  # 28x28 inputs prepared
    cuts: int  # groups whose cuts were worked out
    first_looks: int  # candidates the model read at its first look
    reading: NumberReading


@pytest.fixture
def read_counting(monkeypatch) -> Callable[[CountingClassifier, np.ndarray], Work]:
    """Reads a number with a counting classifier, counting the work it takes."""
    done = {"inputs": 0, "cuts": 0}

    def counted(name: str, work: Callable) -> Callable:
        def call(*args):
            done[name] += 1
            return work(*args)

        return call

    monkeypatch.setattr(candidates, "normalize", counted("inputs", candidates.normalize))
    monkeypatch.setattr(cuts, "_cuts", counted("cuts", cuts._cuts))

    def read(counting: CountingClassifier, ink: np.ndarray) -> Work:
        done.update(inputs=0, cuts=0)
        counting.sizes.clear()
        counting.looks.clear()
        reading = read_number(counting, ink)
        looks = sum(size for size, second in zip(counting.sizes, counting.looks) if not second)
        return Work(done["inputs"], done["cuts"], looks, reading)

    return read


def read_afresh(read_counting, classifier, inks: list[np.ndarray]) -> list[Work]:
    """Each canvas read as a new process reads it, with nothing kept from the others."""
    work = []
    for ink in inks:
        segment.forget_recent()
        work.append(read_counting(CountingClassifier(classifier), ink))
    return work


def assert_same_reading(kept: NumberReading, fresh: NumberReading) -> None:
    assert kept.number == fresh.number
    for ours, theirs in zip(kept.digits, fresh.digits, strict=True):
        assert ours.box == theirs.box
        assert np.array_equal(ours.image, theirs.image)
        assert np.array_equal(ours.probabilities, theirs.probabilities)
        assert (ours.is_digit, ours.doubtful) == (theirs.is_digit, theirs.doubtful)


def test_a_number_with_a_point_read_again_measures_no_pen_twice(
    classifier, clear_digits, monkeypatch
):
    """The pen widths of the digits beside a mark are kept, as the page reads on each stroke."""
    measured = []

    def measure(own: np.ndarray) -> float:
        measured.append(own)
        return pen_width(own)

    pen_width = marks._pen_width
    monkeypatch.setattr(marks, "_pen_width", measure)
    ink = canvas_to_ink(written(clear_digits, "3.5"))
    first = read_number(classifier, ink)
    once = len(measured)
    again = read_number(classifier, ink)
    assert first.number == again.number == "3.5"
    assert once >= 2 and len(measured) == once


def test_each_digit_written_costs_only_its_own_ink_and_reads_as_a_fresh_read(
    classifier, clear_digits, read_counting
):
    inks = digit_by_digit(clear_digits, "31415", [0.15] * 4)
    writer = CountingClassifier(classifier)
    as_written = [read_counting(writer, ink) for ink in inks]
    # The same ink again, as a rerun of the page sends it: nothing is prepared or looked at
    # twice; only the chosen digits are read for the answer.
    again = read_counting(writer, inks[-1])
    assert_same_reading(again.reading, as_written[-1].reading)
    assert again.inputs == again.first_looks == 0 and writer.looks == [True]
    # Another classifier (another model file) shares the inputs, not the first looks.
    other = read_counting(CountingClassifier(classifier), inks[-1])
    afresh = read_afresh(read_counting, classifier, inks)
    assert other.inputs == 0 and other.first_looks == afresh[-1].first_looks

    assert as_written[-1].reading.number == "31415"
    for kept, fresh in zip(as_written, afresh):
        assert_same_reading(kept.reading, fresh.reading)
    for kept, fresh in zip(as_written[1:], afresh[1:]):
        assert 0 < kept.inputs < fresh.inputs
        assert 0 < kept.first_looks < fresh.first_looks


def test_a_digit_written_against_the_one_before_is_cut_again_and_reads_as_a_fresh_read(
    classifier, clear_digits, read_counting
):
    # The 4 touches the 0: their ink becomes one group, cut apart again; the 2 and the 5
    # stand apart.
    inks = digit_by_digit(clear_digits, "2045", [0.2, None, 0.2])
    writer = CountingClassifier(classifier)
    as_written = [read_counting(writer, ink) for ink in inks]
    afresh = read_afresh(read_counting, classifier, inks)

    assert as_written[-1].reading.number == "2045"
    for kept, fresh in zip(as_written, afresh):
        assert_same_reading(kept.reading, fresh.reading)
    # The 5 leaves the touching 0 and 4 as they were: their cuts are not worked out again.
    assert afresh[-1].cuts > 0 and as_written[-1].cuts < afresh[-1].cuts


def test_what_is_kept_for_recent_ink_is_bounded_and_shared_read_only():
    kept = recent.Recent(2)
    computed = []

    def compute(key):
        computed.append(key)
        return np.full(3, key, np.float32)

    for key in (1, 2, 1, 3, 1, 2):
        result = kept.get(key, lambda key=key: compute(key))
        assert np.array_equal(result, np.full(3, key)) and not result.flags.writeable
    # 2 was the least recently used when 3 came, so it was forgotten; 1 never was.
    assert computed == [1, 2, 3, 2]
