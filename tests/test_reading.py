"""The one reading pipeline: ink, canvas images and picture bytes to typed readings."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import digit_model
import reading
from devtools.drawing import PLACEMENTS
from devtools.pictures import png
from preprocess import canvas_to_ink
from reading.photo import PhotoError
from tests.support.pictures import CELL, side_by_side, written, written_number, written_strokes
from training.canvas_drawings import COLOUR_SETUPS, draw

NUMBER = "2026"


@pytest.mark.parametrize("setup", list(COLOUR_SETUPS))
def test_a_drawn_digit_is_read_in_any_colours(classifier, clear_digits, setup):
    for label, digit in clear_digits.items():
        result = reading.read_digit(
            classifier, canvas_to_ink(draw(digit.segments, 200, 40, 60, 18, setup))
        )
        assert result.digit == label
        assert result.image.shape == (28, 28) and result.probabilities.shape == (10,)
        assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert result.confidence == result.probabilities[label]
        assert result.top_two[0] == label and result.top_two[1] != label
        assert result.is_digit and not result.too_small


def test_a_number_is_read_with_the_persons_examples(classifier, doubtful_number):
    number = reading.read_number(classifier, canvas_to_ink(doubtful_number))
    memory = reading.HandwritingMemory()
    assert reading.recall_number(number, memory) is number  # no examples: as read
    first, letter = number.digits
    assert letter.doubtful and not first.doubtful
    memory.add(letter, letter.digit)  # the person says it is the digit it was read as

    recalled = reading.recall_number(number, memory)

    assert recalled.number == number.number
    assert recalled.digits[1].is_digit and not recalled.digits[1].doubtful
    assert recalled.digits[1].examples == 1
    assert recalled.digits[0].examples == 0
    assert (recalled.digits[0].probabilities == first.probabilities).all()
    assert [digit.box for digit in recalled.digits] == [digit.box for digit in number.digits]
    assert recalled.marks == number.marks


def test_blank_ink_is_no_reading(classifier):
    assert reading.read_digit(classifier, np.zeros((280, 280), np.float32)) is None
    assert reading.read_drawing(classifier, None) is None
    assert reading.read_drawing(classifier, np.zeros((280, 280, 4), np.uint8)) is None
    assert reading.read_number(classifier, np.zeros((280, 700), np.float32)) is None


def test_a_dot_is_too_small(classifier):
    ink = np.zeros((280, 280), np.float32)
    ink[130:138, 130:138] = 1.0
    assert reading.read_digit(classifier, ink).too_small


def test_batched_reading_matches_one_at_a_time(classifier, clear_digits):
    inks = [
        canvas_to_ink(draw(clear_digits[d].segments, 150, 60, 60, 14, "red on white"))
        for d in (3, 8)
    ]
    inks.insert(1, np.zeros((280, 280), np.float32))
    batched = reading.read_digits(classifier, inks)
    assert batched[1] is None
    for ink, together in zip(inks[::2], batched[::2]):
        alone = reading.read_digit(classifier, ink)
        assert together.digit == alone.digit
        np.testing.assert_allclose(together.probabilities, alone.probabilities, atol=1e-5)


def test_a_drawing_key_names_the_canvas(classifier, clear_digits):
    segments = clear_digits[4].segments
    here = draw(segments, 200, 40, 60, 18, "black on transparent")
    elsewhere = draw(segments, 200, 60, 20, 18, "black on transparent")
    first, again, moved = (
        reading.read_drawing(classifier, rgba) for rgba in (here, here, elsewhere)
    )
    assert first.digit == moved.digit == 4
    assert first.drawing_key == again.drawing_key != moved.drawing_key


def test_a_drawing_key_tells_every_other_ink_apart(clear_digits):
    ink = canvas_to_ink(draw(clear_digits[4].segments, 200, 40, 60, 18, "black on transparent"))
    touched = ink.copy()
    touched[np.unravel_index(ink.argmax(), ink.shape)] = 0.5  # one pixel of the stroke
    wide, tall = np.zeros_like(ink), np.zeros_like(ink)
    wide[:2, :6] = tall[:3, :4] = 1.0  # the same twelve values in the top corner, boxed alike
    keys = [
        reading.drawing_key(each)
        for each in (ink, touched, np.roll(ink, 1, axis=1), wide, tall, ink[:-1])
    ]
    assert reading.drawing_key(ink.copy()) == keys[0]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("number", ["37", "01", "12", "45", "280"])
def test_digits_side_by_side_on_the_one_digit_canvas_are_read_as_the_number_too(
    classifier, clear_digits, number
):
    assert (
        reading.read_drawing(classifier, side_by_side(clear_digits, number)).several_digits
        == number
    )


@pytest.mark.parametrize("brush", [8, 18, 30])
def test_a_zero_drawn_as_two_arcs_is_one_digit_not_eleven(classifier, brush):
    """Its two strokes stand apart, each a fair 1, but the pair reads less surely as 11 than
    the drawing reads as a 0."""
    turns = np.linspace(0.3, np.pi - 0.3, 12)
    segments = []
    for side in (1, -1):
        rows, columns = 14 - 10 * np.cos(turns), 14 + side * 7 * np.sin(turns)
        segments += [
            (rows[k], columns[k], rows[k + 1], columns[k + 1]) for k in range(len(turns) - 1)
        ]
    zero = reading.read_drawing(
        classifier, draw(segments, 200, 40, 60, brush, "black on transparent")
    )
    assert zero.digit == 0 and zero.several_digits is None


def test_one_digit_or_a_digit_beside_a_speck_is_no_number(classifier, clear_digits):
    for digit in clear_digits.values():
        for placement in PLACEMENTS:
            assert reading.read_drawing(classifier, digit.image(*placement)).several_digits is None
    speck = np.full((280, 280, 4), 255, np.uint8)
    speck[200:206, 240:246, :3] = 0
    beside = np.minimum(clear_digits[7].image(*PLACEMENTS[0]), speck)
    assert reading.read_drawing(classifier, beside).several_digits is None


def test_a_number_is_read_digit_by_digit_left_to_right(classifier, clear_digits):
    rgba = written_number(clear_digits, NUMBER, "black on transparent")
    result = reading.read_number(classifier, canvas_to_ink(rgba))
    assert result.number == NUMBER
    assert result.confidence == pytest.approx(np.prod([d.confidence for d in result.digits]))
    for cell, digit in enumerate(result.digits):
        assert cell * CELL <= digit.box.left < digit.box.right <= (cell + 1) * CELL
        assert 30 <= digit.box.top < digit.box.bottom <= 250
        assert digit.is_digit and not digit.too_small


@pytest.mark.parametrize("setup", ["black on transparent", "white on black", "navy on cream"])
def test_picture_bytes_are_read_as_a_digit_or_a_number(classifier, clear_digits, setup):
    rgba = draw(clear_digits[5].segments, 200, 40, 60, 18, setup)
    assert reading.read_image_bytes(classifier, png(rgba)).digit == 5
    number = reading.read_image_bytes(
        classifier, png(written_number(clear_digits, NUMBER, setup)), "number"
    )
    assert number.number == NUMBER


@pytest.mark.parametrize("brush", [8, 18, 30])
def test_taps_on_the_number_canvas_are_too_small_not_digits(classifier, brush):
    """A dot is one piece, too small to read, as on the one-digit canvas: not cut in two and
    read as 00 or 1?."""
    rows, columns = np.ogrid[:280, :700]
    ink = np.zeros((280, 700), np.float32)
    for taps in (1, 2):
        centre = 150 * taps + 150
        ink[(rows - 140) ** 2 + (columns - centre) ** 2 <= (brush / 2) ** 2] = 1.0
        result = reading.read_number(classifier, ink)
        assert result.number == "?" * taps
        assert all(dot.withheld == "too small" for dot in result.digits)
        box = result.digits[-1].box
        assert box.left <= centre < box.right <= centre + brush
        assert box.top <= 140 < box.bottom <= 140 + brush


@pytest.mark.parametrize("number", ["7", "12"])
def test_a_number_written_small_in_a_large_photo_is_read(classifier, clear_digits, number):
    """Only a dot is too small in a number: a stroke 24 px tall on an 800 px picture is read."""
    ink = canvas_to_ink(written(clear_digits, number))
    width = ink.shape[1] * 24 // ink.shape[0]
    small = Image.fromarray(ink).resize((width, 24), Image.Resampling.BOX)
    photo = np.zeros((600, 800), np.float32)
    photo[300:324, 300 : 300 + width] = np.asarray(small)
    assert reading.read_number(classifier, photo).number == number


def test_boxes_are_in_the_pixels_of_the_picture_sent(classifier, clear_digits):
    """A picture larger than the working size is read scaled down; its boxes are scaled back."""
    rgba = written_number(clear_digits, NUMBER, "black on transparent")
    large = np.asarray(Image.fromarray(rgba).resize((rgba.shape[1] * 2, rgba.shape[0] * 2)))
    small_boxes = [d.box for d in reading.read_image_bytes(classifier, png(rgba), "number").digits]
    result = reading.read_image_bytes(classifier, png(large), "number")
    assert result.number == NUMBER
    for small, big in zip(small_boxes, (d.box for d in result.digits)):
        for near, far in zip(vars(small).values(), vars(big).values()):
            assert abs(far - 2 * near) <= 6


def test_a_comma_is_read_into_the_number_and_its_box_scaled_back_with_the_digits(
    classifier, clear_digits
):
    rgba = written(clear_digits, "12,5")
    large = np.asarray(Image.fromarray(rgba).resize((rgba.shape[1] * 2, rgba.shape[0] * 2)))
    small, big = (reading.read_image_bytes(classifier, png(p), "number") for p in (rgba, large))
    assert small.number == big.number == "12,5"
    (comma,), (big_comma,) = small.marks, big.marks
    assert (comma.symbol, comma.after) == (",", 2)
    for near, far in zip(vars(comma.box).values(), vars(big_comma.box).values()):
        assert abs(far - 2 * near) <= 6
    answer = small.to_dict()
    assert answer["number"] == "12,5" and len(answer["digits"]) == 3
    _, top, right, bottom = answer["digits"][1]["box"]
    assert answer["marks"] == [{"mark": ",", "after": 2, "box": list(vars(comma.box).values())}]
    assert right < comma.box.left and comma.box.top > (top + bottom) / 2


def test_bad_bytes_and_modes_are_refused(classifier, clear_digits):
    with pytest.raises(PhotoError, match="not a PNG, JPEG or WebP"):
        reading.read_image_bytes(classifier, b"not a picture at all" * 10)
    good = png(draw(clear_digits[1].segments, 200, 40, 60, 18, "black on transparent"))
    with pytest.raises(ValueError, match="mode must be one of digit, number"):
        reading.read_image_bytes(classifier, good, "letters")
    blank = png(np.full((100, 100, 4), 255, np.uint8))
    assert reading.read_image_bytes(classifier, blank) is None


class VerdictsOf:
    """A stand-in model that gives fixed chances of "no digit at all", one per drawing."""

    def __init__(self, not_digit: list[float]) -> None:
        self.not_digit = np.array(not_digit, np.float32)

    def read_all(self, images: np.ndarray) -> digit_model.ModelOutputs:
        probabilities = np.full((len(images), 10), 0.02, np.float32)
        probabilities[:, 1] = 0.82
        features = np.zeros((len(images), 4), np.float32)
        return digit_model.ModelOutputs(probabilities, self.not_digit[: len(images)], features)


def test_a_verdict_that_hesitates_still_offers_the_digit(clear_digits):
    ink = canvas_to_ink(draw(clear_digits[1].segments, 200, 40, 60, 18, "black on transparent"))
    chances = [0.2, (0.5 + digit_model.DOUBT_BELOW) / 2, (1 + digit_model.DOUBT_BELOW) / 2]
    readings = reading.read_digits(VerdictsOf(chances), [ink] * 3)
    assert [(r.is_digit, r.doubtful) for r in readings] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert all(r.digit == 1 for r in readings)
    assert readings[1].to_dict()["doubtful"] is True


def test_a_piece_of_a_number_the_model_hesitates_over_is_doubtful(classifier, doubtful_number):
    number = reading.read_number(classifier, canvas_to_ink(doubtful_number))
    assert [(d.is_digit, d.doubtful) for d in number.digits] == [(True, False), (False, True)]
    sent = reading.read_image_bytes(classifier, png(doubtful_number), "number")
    assert [d["doubtful"] for d in sent.to_dict()["digits"]] == [False, True]


def test_a_piece_of_a_number_that_is_no_digit_stands_as_a_question_mark(
    classifier, clear_digits, not_a_digit
):
    rgba = written_strokes([clear_digits[2].segments, not_a_digit.segments])
    number = reading.read_number(classifier, canvas_to_ink(rgba))
    assert [digit.withheld for digit in number.digits] == [None, "not a digit"]
    assert number.number == "2?" and number.confidence is None
    sent = reading.read_image_bytes(classifier, png(rgba), "number").to_dict()
    assert (sent["number"], sent["confidence"]) == ("2?", None)
