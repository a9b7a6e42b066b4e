"""Whole numbers on a wide canvas: split into digits, each read in one batched call.

Numbers are composed from MNIST test digits redrawn as canvas strokes, side by side on a
700x280 canvas with varied gaps, some close enough to touch and some digits drawn as two
strokes (the pen lifted part way). To judge the splitting and not the model, a number
counts as read right when it equals what the model reads from each digit drawn alone.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from devtools.numbers import (
    HEIGHT,
    WIDTH,
    WrittenNumber,
    lift_pen,
    marks_in,
    random_numbers,
    write_number,
)
from devtools.pictures import png
from preprocess import canvas_to_ink
from reading import (
    PlacedDigit,
    layout,
    read_digits,
    read_image_bytes,
    read_number,
)
from reading.segment import split_digits
from tests.support.data import mnist
from tests.support.pictures import MARK_GAP, two_lines, written
from tests.support.readers import CountingClassifier, read_written

RANDOM_CASES = 100


def read_alone(classifier, number: WrittenNumber) -> str:
    """What the model reads from each digit drawn by itself, as a number."""
    readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba in number.alone])
    return "".join(str(reading.digit) for reading in readings)


def pieces_of_ink(rgba: np.ndarray) -> int:
    return ndimage.label(canvas_to_ink(rgba) >= 0.05, structure=np.ones((3, 3)))[1]


# (number, gaps between digits as fractions of the height or None for touching,
#  {position: where the pen is lifted in that digit}, digit height, brush)
CURATED = [
    ("2026", [0.2, 0.2, 0.2], {}, 180, 14),
    ("19", [0.3], {}, 200, 16),
    ("314159", [0.12, 0.1, 0.15, 0.1, 0.12], {}, 150, 10),
    ("8675", [0.25, 0.3, 0.2], {}, 170, 18),
    ("42", [0.06], {}, 190, 12),
    ("1234", [0.05, 0.05, 0.05], {}, 180, 12),
    ("90210", [0.05, 0.06, 0.04, 0.05], {}, 160, 9),
    ("271828", [0.1, 0.08, 0.12, 0.1, 0.09], {}, 130, 8),
    ("60", [0.15], {}, 220, 24),
    ("38", [0.1], {}, 120, 4),
    ("555", [0.2, 0.2], {0: (0.0, 0.3), 2: (0.0, 0.3)}, 170, 12),
    ("512", [0.2, 0.2], {0: (0.0, 0.3)}, 200, 20),
    ("45", [0.15], {0: (0.25, 0.9), 1: (0.0, 0.3)}, 180, 12),
    ("747", [0.2, 0.2], {0: (0.0, 0.95), 1: (0.25, 0.9), 2: (0.0, 0.95)}, 170, 12),
    ("2045", [0.1, 0.1, 0.1], {2: (0.25, 0.9), 3: (0.0, 0.3)}, 160, 10),
    ("1975", [0.06, 0.06, 0.06], {2: (0.0, 0.95), 3: (0.0, 0.3)}, 170, 11),
    ("06", [None], {}, 170, 14),
    ("20", [None], {}, 170, 18),
    ("90", [None], {}, 170, 14),
    ("83", [None], {}, 170, 14),
]


@pytest.mark.parametrize(
    ("number", "gaps", "lifts", "height", "brush"), CURATED, ids=[c[0] for c in CURATED]
)
def test_curated_numbers_are_read(classifier, clear_digits, number, gaps, lifts, height, brush):
    digits = []
    for position, label in enumerate(number):
        segments = clear_digits[int(label)].segments
        if position in lifts:
            segments = lift_pen(segments, lifts[position], (brush / 2 + 4) / (height / 20))
        digits.append(segments)
    written = write_number(
        digits, gaps, height, brush, "black on transparent", np.random.default_rng(len(number))
    )
    for position in lifts:
        assert pieces_of_ink(written.alone[position]) >= 2, "the pen lift left one stroke"
    if None in gaps:
        apart = sum(pieces_of_ink(rgba) for rgba in written.alone)
        assert pieces_of_ink(written.rgba) < apart, "the digits do not touch"
    assert read_alone(classifier, written) == number
    assert read_written(classifier, written) == number


def test_random_numbers_are_read_as_their_digits_alone(classifier):
    """Close gaps, thin to thick pens, all colour set-ups, a quarter of digits in two strokes."""
    cases = list(
        random_numbers(*mnist("test"), seed=2026, count=RANDOM_CASES, touch=0.0, lift=0.25)
    )
    two_strokes = sum(pieces_of_ink(rgba) >= 2 for number, _ in cases for rgba in number.alone)
    assert two_strokes >= 40
    right = [
        read_written(classifier, number) == read_alone(classifier, number) for number, _ in cases
    ]
    assert np.mean(right) >= 0.95


@pytest.mark.parametrize(("number", "smaller"), [("173", 2), ("315", 1)])
def test_a_digit_written_smaller_than_its_neighbours_is_a_digit_of_its_own(
    classifier, clear_digits, number, smaller
):
    """One digit written at 0.6 of its neighbours' height, its foot on their line, as a hand
    running out of room writes it: read as a digit, not taken into the one beside it."""
    height, step = 110, 260 / len(number)
    sizes = [0.6 * height if index == smaller else height for index in range(len(number))]
    drawn = [
        clear_digits[int(digit)].image(size, 60 + height - size, 10 + index * step)
        for index, (digit, size) in enumerate(zip(number, sizes, strict=True))
    ]
    assert pieces_of_ink(np.minimum.reduce(drawn)) == sum(map(pieces_of_ink, drawn))  # apart
    alone = read_digits(classifier, [canvas_to_ink(rgba) for rgba in drawn])
    assert [reading.digit for reading in alone] == [int(digit) for digit in number]
    reading = read_number(classifier, canvas_to_ink(np.minimum.reduce(drawn)))
    assert "".join(str(digit.digit) for digit in reading.digits) == number


@pytest.mark.parametrize("number", ["3.5", "12,50", "0.25", "1.000", "9,99", "3.14,15"])
def test_a_point_or_comma_between_digits_is_read_where_it_is_written(
    classifier, clear_digits, number
):
    reading = read_number(classifier, canvas_to_ink(written(clear_digits, number)))
    assert reading.number == number
    for mark in reading.marks:
        before, after = reading.digits[mark.after - 1].box, reading.digits[mark.after].box
        assert before.right < mark.box.left < mark.box.right < after.left
        assert mark.box.top > (after.top + after.bottom) / 2


@pytest.mark.parametrize("number", ["-42", "-7", "-3.5", "12-05", "-1,5"])
def test_a_minus_sign_or_a_dash_is_read_where_it_is_written(classifier, clear_digits, number):
    reading = read_number(classifier, canvas_to_ink(written(clear_digits, number)))
    assert reading.number == number
    for dash in (mark for mark in reading.marks if mark.symbol == "-"):
        after = reading.digits[dash.after].box
        assert dash.box.right < after.left
        assert dash.after == 0 or reading.digits[dash.after - 1].box.right < dash.box.left
        half_way, height = (after.top + after.bottom) / 2, after.bottom - after.top
        assert abs((dash.box.top + dash.box.bottom) / 2 - half_way) < 0.2 * height


@pytest.mark.parametrize("space", [0.15, 0.5])  # 0.15: 15 px apart, and 100 px high
def test_two_lines_of_digits_one_above_the_other_are_said_to_be_two_lines(
    classifier, clear_digits, space
):
    """12 written above 34: their columns overlap, so that each digit of one line was joined
    with the digit under it, and the two lines read as one number of two digits, 53."""
    number = read_number(classifier, canvas_to_ink(two_lines(clear_digits, "12", "34", space)))

    assert number.lines == 2
    assert number.several_lines
    assert read_number(classifier, canvas_to_ink(written(clear_digits, "12"))).lines == 1


def test_numbers_and_single_digits_are_one_line(classifier, clear_digits):
    """A number of one line is one line, the bar of a 5 floating high above its body included;
    a single piece is one line however its strokes lie."""
    cases = random_numbers(*mnist("test"), seed=2026, count=RANDOM_CASES, touch=0.0, lift=0.25)
    assert all(layout.lines_of_writing(canvas_to_ink(number.rgba)) == 1 for number, _ in cases)
    five = canvas_to_ink(written(clear_digits, "5"))
    rows = np.flatnonzero(five.max(axis=1) > 0.5)
    gap = np.zeros((80, five.shape[1]), np.float32)

    def pulled_apart(share: float) -> np.ndarray:
        """The 5 cut across this share of the way down, its two parts moved apart."""
        cut = rows[0] + round(share * (rows[-1] - rows[0]))
        return np.concatenate([five[:cut], gap, five[cut:]])

    assert layout.lines_of_writing(pulled_apart(0.2)) == 1  # its bar is no line
    eights = canvas_to_ink(written(clear_digits, "88"))
    inked = np.flatnonzero(eights.max(axis=1) > 0.5)
    lift = inked[0] + round(0.35 * (inked[-1] - inked[0]))  # both pens lifted at one height
    lifted = np.concatenate([eights[:lift], np.zeros((8, eights.shape[1])), eights[lift:]])
    assert layout.lines_of_writing(lifted) == 1  # a pen lift's few pixels: no gap
    scratched = canvas_to_ink(written(clear_digits, "2026"))
    scratched[140:, 300] = np.maximum(scratched[140:, 300], 0.1)  # a faint hair down to the edge
    assert layout.lines_of_writing(scratched) == 1
    halves = pulled_apart(0.5)
    assert layout.lines_of_writing(halves) == 2  # as tall as each other, and far apart...
    assert read_number(classifier, halves).lines == 1  # ...but one piece is one line


def test_the_lower_part_of_a_slanted_1_cut_by_a_pen_lift_is_no_comma():
    """581602 written with most digits in two strokes: the lower part of its slanted 1, cut
    off by a pen lift, hangs below the line as a long comma does. Before a long comma had to
    have no ink above it, the number read 58,1602."""
    cases = random_numbers(*mnist("test"), seed=102, count=97, touch=0.1, lift=0.75)
    ((number, text),) = itertools.islice(cases, 96, None)
    assert text == "581602"
    assert split_digits(canvas_to_ink(number.rgba)).marks == []


@pytest.mark.parametrize("brush", [8, 20])
def test_a_minus_sign_close_to_the_first_digit_is_read(classifier, clear_digits, brush):
    """A minus sign written close before the number, as many write it, 8 % of the line
    height from the first digit's ink: it was left out, and -60 read 60."""
    digits = [clear_digits[6].segments, clear_digits[0].segments]
    number = write_number(
        digits, [0.3], 170, brush, "black on transparent", np.random.default_rng(2)
    )
    ink = np.pad(canvas_to_ink(number.rgba), ((0, 0), (150, 0)))
    six = read_number(classifier, ink).digits[0]
    height = six.box.bottom - six.box.top
    half_way = (six.box.top + six.box.bottom) / 2
    six_ink = int(np.flatnonzero(ink[round(half_way)] > 0.5)[0])  # its left edge, half way up
    end = six_ink - 0.08 * height - brush / 2  # the minus's centre line ends here
    minus = with_a_stroke(ink, (half_way, end - 0.3 * height), (half_way, end), brush / 2)
    assert read_number(classifier, minus).number == "-60"


def test_a_point_before_a_4_of_two_strokes_is_read(classifier, clear_digits):
    """The 4's first stroke (down and across) ends half way up; its second reaches the line."""
    four = [(4, 8, 15, 7), (15, 7, 15, 15), (4, 19, 24, 19), (15, 17, 15, 23)]
    number = write_number(
        [clear_digits[3].segments, four],
        [MARK_GAP],
        170,
        14,
        "black on transparent",
        np.random.default_rng(0),
        marks={1: "."},
    )
    assert pieces_of_ink(number.alone[1]) == 2
    assert read_number(classifier, canvas_to_ink(number.rgba)).number == "3.4"


def test_random_numbers_with_a_point_or_comma_are_read_with_it(classifier):
    """Thin to thick pens, all colour set-ups, a quarter of digits in two strokes, and a point
    or comma between two of the digits, a little further apart. Each mark read is placed by
    the digits as written (their columns), so that a digit split wrongly does not move it."""
    cases = list(
        random_numbers(*mnist("test"), seed=31, count=60, touch=0.0, lift=0.25, mark_share=1.0)
    )
    assert (
        sum("," in text for _, text in cases) >= 20 and sum("." in text for _, text in cases) >= 20
    )
    found = []
    for number, text in cases:
        reading = read_number(classifier, canvas_to_ink(number.rgba))
        found.append(number.placed(reading.marks) == marks_in(text))
    assert np.mean(found) >= 0.9


@pytest.mark.parametrize("number", ["30.75", "1.00", "7.25"])
def test_a_point_written_under_the_edge_of_a_digit_is_read(classifier, clear_digits, number):
    """A point written close after a round or slanted digit, clear of its ink but within the
    columns its box spans, is the number's point and not part of that digit."""
    ink = canvas_to_ink(written(clear_digits, number))
    reading = read_number(classifier, ink)
    (point,) = reading.marks
    before = reading.digits[point.after - 1].box
    ink[point.box.top : point.box.bottom, point.box.left : point.box.right] = 0.0
    radius = (point.box.right - point.box.left) / 2
    row = (point.box.top + point.box.bottom) / 2
    tucked = with_a_dot(ink, row, before.right - radius, radius)
    assert before.left < before.right - 2 * radius  # the whole point under the digit's box
    assert read_number(classifier, tucked).number == number


@pytest.mark.parametrize(
    ("first", "height", "brush"),
    [(0, 200, 16), (0, 120, 6), (6, 150, 10), (6, 200, 16), (7, 180, 12)],
)
def test_a_comma_written_close_after_a_digits_foot_is_read(
    classifier, clear_digits, first, height, brush
):
    """A comma written a tenth of the height after the foot of a 0, 6 or 7, low and to the
    right of it: the rim of the foot beside it reaches a pixel or two into its columns, yet
    the comma lies after the digit, not within it."""
    number = write_number(
        [clear_digits[first].segments, clear_digits[5].segments],
        [0.5],
        height,
        brush,
        "black on transparent",
        np.random.default_rng(0),
        marks={1: ","},
        after_foot=0.1,
    )
    assert read_number(classifier, canvas_to_ink(number.rgba)).number == f"{first},5"


def test_random_numbers_with_a_point_or_comma_written_close_are_read_with_it(classifier):
    """As the points and commas in the middle of a gap above, but written a tenth of the
    height after the foot of the digit before them, often under the edge of its box. A comma
    there is harder: the lower part of a slanted 1 cut off by a pen lift hangs there too."""
    found: dict[str, list[bool]] = {".": [], ",": []}
    for number, text in random_numbers(
        *mnist("test"), seed=31, count=60, touch=0.0, lift=0.25, mark_share=1.0, after_foot=0.1
    ):
        reading = read_number(classifier, canvas_to_ink(number.rgba))
        found["." if "." in text else ","].append(number.placed(reading.marks) == marks_in(text))
    assert min(len(cases) for cases in found.values()) >= 20
    assert np.mean(found["."]) >= 0.9 and np.mean(found[","]) >= 0.75


def test_random_numbers_with_a_minus_sign_are_read_with_it(classifier):
    """Thin to thick pens, all colour set-ups, a quarter of digits in two strokes."""
    cases = list(
        random_numbers(*mnist("test"), seed=32, count=40, touch=0.0, lift=0.25, sign_share=1.0)
    )
    found = []
    for number, text in cases:
        reading = read_number(classifier, canvas_to_ink(number.rgba))
        found.append(number.placed(reading.marks) == marks_in(text) == [(0, "-")])
    assert np.mean(found) >= 0.9


def with_a_dot(ink: np.ndarray, row: float, column: float, radius: float) -> np.ndarray:
    """The ink with a round dab of the pen added."""
    rows, columns = np.ogrid[: ink.shape[0], : ink.shape[1]]
    dab = np.clip(radius + 0.5 - np.hypot(rows - row, columns - column), 0.0, 1.0)
    return np.maximum(ink, dab.astype(np.float32))


def with_a_stroke(
    ink: np.ndarray, start: tuple[float, float], end: tuple[float, float], radius: float
) -> np.ndarray:
    """The ink with a straight stroke of the pen added, from start to end (row, column)."""
    length = float(np.hypot(*np.subtract(end, start)))
    for step in np.linspace(0.0, 1.0, 2 + int(2 * length / radius)):
        row, column = np.add(start, step * np.subtract(end, start))
        ink = with_a_dot(ink, row, column, radius)
    return ink


def test_a_dab_is_read_as_a_point_only_on_the_line_between_two_digits(classifier, clear_digits):
    """And a short level stroke is a dash only half way up the line."""
    ink = canvas_to_ink(written(clear_digits, "1.00"))
    reading = read_number(classifier, ink)
    assert reading.number == "1.00"
    (point,), (one, zero, last) = reading.marks, reading.digits
    height, foot = zero.box.bottom - zero.box.top, max(one.box.bottom, zero.box.bottom)
    ink[point.box.top : point.box.bottom, point.box.left : point.box.right] = 0.0
    radius = (point.box.right - point.box.left) / 2
    row, column = (point.box.top + point.box.bottom) / 2, (point.box.left + point.box.right) / 2
    half_way = (zero.box.top + zero.box.bottom) / 2

    def dash(middle: float, length: float = 4 * radius, rise: float = 0.0) -> np.ndarray:
        """A short stroke half way up, its middle at this column, rising to the right."""
        start = (half_way + rise * length / 2, middle - length / 2)
        return with_a_stroke(
            ink, start, (half_way - rise * length / 2, middle + length / 2), radius
        )

    cases = {
        "1.00": with_a_dot(ink, row, column, radius),
        "1..00": with_a_dot(
            with_a_dot(ink, row, column - 1.2 * radius, radius), row, column + 1.2 * radius, radius
        ),
        "100": ink,
        "an apostrophe, as in 1'000": with_a_dot(ink, zero.box.top + radius, column, radius),
        "a full stop": with_a_dot(ink, row, last.box.right + 40, radius),
        "below the line": with_a_dot(ink, foot + 3 * radius, column, radius),
        "a speck thinner than the pen": with_a_dot(ink, row, column, 0.5 * radius),
        "close to a digit": with_a_dot(ink, row, zero.box.left - radius - 3, radius),
        "a stroke too tall for a comma": with_a_stroke(
            ink, (row, column), (row - 0.4 * height, column), radius
        ),
        "1-00": dash(column),
        "-100": dash(one.box.left - 6 * radius),
        "a dash on the line": with_a_stroke(
            ink, (row, column - 2 * radius), (row, column + 2 * radius), radius
        ),
        "a dash after the number": dash(last.box.right + 6 * radius),
        "a dash close to a digit": dash(zero.box.left - 0.075 * height - 3 * radius),
        "a stroke leaning 35 degrees": dash(one.box.left - 6 * radius, rise=0.7),
    }
    read = {case: read_number(classifier, marked).number for case, marked in cases.items()}
    assert read == {case: "100" if case[0].isalpha() else case for case in cases}
    # A level bar longer than a dash, before the number, is not a minus sign (it is read with
    # the 1, as a 4).
    bar = with_a_stroke(
        np.pad(ink, ((0, 0), (200, 0))),
        (half_way, one.box.left + 200 - 1.05 * height),
        (half_way, one.box.left + 200 - 0.2 * height),
        radius,
    )
    assert not read_number(classifier, bar).number.startswith("-")


class OneFive(NamedTuple):
    """15 written with a wide gap for a comma, and where a comma goes in it."""

    ink: np.ndarray
    one: PlacedDigit
    five: PlacedDigit
    height: float  # the digits' height, less the pen
    foot: float  # the lower foot of the two, on the pen's centre line
    column: float  # the middle of the gap


def one_five(classifier, clear_digits, brush: float) -> OneFive:
    digits = [clear_digits[1].segments, clear_digits[5].segments]
    number = write_number(
        digits, [0.6], 170, brush, "black on transparent", np.random.default_rng(0)
    )
    ink = canvas_to_ink(number.rgba)
    one, five = read_number(classifier, ink).digits
    return OneFive(
        ink,
        one,
        five,
        height=five.box.bottom - five.box.top - brush,
        foot=max(one.box.bottom, five.box.bottom) - brush / 2,
        column=(one.box.right + five.box.left) / 2,
    )


@pytest.mark.parametrize("brush", [8, 20, 32])
def test_a_comma_as_long_is_read_with_a_thin_pen_or_a_thick_one(classifier, clear_digits, brush):
    """A comma's stroke a fifth of the digits' height long: the pen's width, which makes its
    ink taller, does not make it too tall to be a comma."""
    ink, _, _, height, foot, column = one_five(classifier, clear_digits, brush)
    comma = with_a_stroke(
        ink, (foot - 0.1 * height, column), (foot + 0.1 * height, column - 0.05 * height), brush / 2
    )
    assert read_number(classifier, comma).number == "1,5"


@pytest.mark.parametrize("brush", [8, 20, 32])
@pytest.mark.parametrize("length", [0.3, 0.4])
def test_a_long_comma_hanging_below_the_line_is_read(classifier, clear_digits, brush, length):
    """As many write it: from just above the line to well below it, leaning a little. It was
    taken into the 5, so that 1,5 read 15: a sum a hundred times too large, read surely."""
    ink, one, five, height, foot, column = one_five(classifier, clear_digits, brush)
    top, bottom = foot - 0.3 * length * height, foot + 0.7 * length * height
    lean = 0.3 * length * height
    comma = with_a_stroke(ink, (top, column + lean / 2), (bottom, column - lean / 2), brush / 2)
    assert read_number(classifier, comma).number == "1,5"
    # As long as the longest comma, but standing on the line (the higher foot of the two)
    # rather than hanging below it: no comma.
    line = min(one.box.bottom, five.box.bottom) - brush / 2
    stroke = with_a_stroke(ink, (line - 0.4 * height, column), (line, column), brush / 2)
    assert read_number(classifier, stroke).number != "1,5"


def test_a_speck_is_no_digit_for_a_point_to_follow(classifier, clear_digits):
    """A hairline too light to be a digit, left of the number, with a dab on the line between
    it and the first digit: no point before the first digit."""
    ink = canvas_to_ink(written(clear_digits, "12"))
    one = read_number(classifier, ink).digits[0].box
    ink[one.top : one.bottom, one.left - 60] = 1.0
    dabbed = with_a_dot(ink, one.bottom - 8, one.left - 30, 8)
    assert read_number(classifier, ink).number == read_number(classifier, dabbed).number == "12"


def touches(number: WrittenNumber) -> bool:
    """Whether some digits of the number run into each other."""
    return pieces_of_ink(number.rgba) < sum(pieces_of_ink(rgba) for rgba in number.alone)


def test_a_wide_slanted_eight_scanned_is_one_digit(classifier):
    """MNIST's 8 at index 61 is wide and slanted: cut in two, its halves read 8 and 7, each
    doubtfully a digit. Scanned in a row of digits, as a script sends one, it is one 8."""
    images, labels = mnist("test")
    chosen = [next(i for i in range(51, len(labels)) if labels[i] == d) for d in (3, 8, 1, 5)]
    assert chosen[1] == 61
    row = np.zeros((68, 16 + 44 * len(chosen)), np.uint8)
    for place, index in enumerate(chosen):
        row[20:48, 16 + 44 * place :][:, :28] = images[index]
    scan = Image.fromarray(255 - row).resize((row.shape[1] * 6, row.shape[0] * 6), Image.BICUBIC)
    assert read_image_bytes(classifier, png(np.asarray(scan)), "number").number == "3815"


def test_touching_digits_are_often_split(classifier):
    """Half of neighbouring digits are pushed together until their strokes meet (if they can)."""
    cases = [
        number
        for number, _ in random_numbers(*mnist("test"), seed=7, count=80, touch=0.5, lift=0.0)
    ]
    touching = [number for number in cases if touches(number)]
    apart = [number for number in cases if not touches(number)]
    assert len(touching) >= 30
    right = [
        read_written(classifier, number) == read_alone(classifier, number) for number in touching
    ]
    assert np.mean(right) >= 0.4
    right = [read_written(classifier, number) == read_alone(classifier, number) for number in apart]
    assert np.mean(right) >= 0.95


def test_digits_are_found_in_order_without_a_model(clear_digits):
    rng = np.random.default_rng(3)
    for count in (2, 3, 4, 5, 6):
        labels = rng.choice(10, size=count)
        digits = [clear_digits[int(label)].segments for label in labels]
        gaps = list(rng.uniform(0.1, 0.3, size=count - 1))
        number = write_number(digits, gaps, 160, 12, "navy on cream", rng)
        pieces, marks = split_digits(canvas_to_ink(number.rgba))
        assert marks == []
        assert len(pieces) == count
        for piece, (left, right) in zip(pieces, number.spans):
            assert left - 15 <= (piece.left + piece.right) / 2 <= right + 15
        for piece in pieces:
            assert piece.image.shape == (28, 28) and piece.image.dtype == np.float32
            assert piece.image.min() >= 0.0 and piece.image.max() == pytest.approx(1.0)


def test_a_number_is_read_in_two_batched_calls(classifier, clear_digits):
    digits = [clear_digits[d].segments for d in (2, 0, 2, 6)]
    written = write_number(
        digits, [0.1, None, 0.1], 170, 12, "red on white", np.random.default_rng(0)
    )
    counting = CountingClassifier(classifier)
    reading = read_number(counting, canvas_to_ink(written.rgba))
    # Every grouping at the first look, then the digits chosen at the second.
    assert counting.looks == [False, True]
    assert reading.number == "2026"
    assert len(reading.digits) == 4
    assert all(0.5 < digit.confidence <= 1.0 for digit in reading.digits)
    assert all(digit.probabilities.shape == (10,) for digit in reading.digits)
    lefts = [digit.box.left for digit in reading.digits]
    assert lefts == sorted(lefts)


def test_specks_and_stray_taps_are_not_digits(classifier, clear_digits):
    digits = [clear_digits[d].segments for d in (4, 7)]
    written = write_number(digits, [0.3], 180, 14, "black on transparent", np.random.default_rng(1))
    rgba = written.rgba.copy()
    for row, col in ((20, 30), (250, 660), (30, 400), (260, 350)):
        rgba[row : row + 3, col : col + 3] = (0, 0, 0, 255)
    assert read_number(classifier, canvas_to_ink(rgba)).number == "47"


@pytest.mark.parametrize(("first", "second"), [(0, 7), (2, 0)])
def test_a_blot_between_two_digits_stands_as_no_digit_and_changes_neither(
    classifier, clear_digits, first, second
):
    """A round blot of ink, under half the line's height, in the space between two digits: it
    is read as no digit ("?") of its own, not joined to a digit (a 7 with the blot before it
    reads as a 2)."""
    digits = [clear_digits[first].segments, clear_digits[second].segments]
    number = write_number(digits, [0.7], 180, 14, "black on transparent", np.random.default_rng(1))
    ink = canvas_to_ink(number.rgba)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    space = [column for column in range(columns[0], columns[-1]) if not ink[:, column].any()]
    middle, height = (space[0] + space[-1]) / 2, rows[-1] - rows[0]
    blotted = with_a_dot(ink, (rows[0] + rows[-1]) / 2, middle, 0.225 * height)
    assert read_number(classifier, blotted).number == f"{first}?{second}"


def test_blank_ink_has_no_digits(classifier):
    blank = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    assert split_digits(blank) == ([], [])
    assert read_number(classifier, blank) is None
    faint = np.full((HEIGHT, WIDTH), 0.1, dtype=np.float32)
    assert read_number(classifier, faint) is None
