"""The synthesized handwriting styles and not-digit drawings: each draws what its name says."""

import numpy as np
import pytest
from scipy import ndimage

from preprocess import FIELD
from tests.support.data import mnist
from training import not_digits, styles
from training.canvas_drawings import UPSCALE, centre_line


def digit_segments(digit: int) -> np.ndarray:
    images, labels = mnist("test")
    return np.array(centre_line(images[labels == digit][0] / 255.0), np.float32)


def drawn_line(segments):
    """Centre-line segments as a (112, 112) bool image of the pixels they pass through."""
    line = np.zeros((FIELD * UPSCALE, FIELD * UPSCALE), bool)
    ends = np.array(segments).reshape(-1, 2)
    line[tuple(np.round(ends * UPSCALE).astype(int).T)] = True
    return line


def test_a_thick_ring_thins_to_one_closed_line_along_its_middle():
    """The centre line every style and redrawn digit starts from: a 0 keeps its hole."""
    rows, cols = np.mgrid[:FIELD, :FIELD]
    radius = np.hypot(rows - 13.5, cols - 13.5)
    ring = ((radius > 5) & (radius < 10)).astype(np.float32)
    segments = centre_line(ring)
    ends = np.array(segments).reshape(-1, 2)
    assert np.all(np.abs(np.hypot(*(ends - ends.mean(axis=0)).T) - 7.5) <= 1)
    line = drawn_line(segments)
    assert ndimage.label(line, structure=np.ones((3, 3)))[1] == 1  # one stroke
    assert ndimage.label(~line)[1] == 2  # the outside and the hole
    assert not (line[:-1, :-1] & line[1:, :-1] & line[:-1, 1:] & line[1:, 1:]).any()  # 1 px wide


def test_a_nine_whose_loop_is_filled_in_is_redrawn_with_its_loop():
    """A blob for a loop, as a pressed pen leaves it, is traced round: a 9, not a 7-like hook."""
    rows, cols = np.mgrid[:FIELD, :FIELD]
    nine = (np.hypot(rows - 9, cols - 13) < 5.5) | (
        (abs(cols - 17.5) < 1.2) & (rows > 9) & (rows < 25)
    )
    line = drawn_line(centre_line(nine.astype(np.float32)))
    assert ndimage.label(~line)[1] == 2  # the outside and the loop's hole
    stem = (abs(cols - 14) < 1.5) & (rows > 3) & (rows < 25)
    assert ndimage.label(~drawn_line(centre_line(stem.astype(np.float32))))[1] == 1  # no loop


def box(segments):
    points = segments.reshape(-1, 2)
    return points.min(axis=0), points.max(axis=0)


def added(original, styled):
    """The strokes a style drew on top of the digit, as (K, 4) segments."""
    assert np.array_equal(styled[: len(original)], original)
    return styled[len(original) :]


def slashed(zero, seed):
    """The zero slash_zero drew, and its slash."""
    styled = styles.slash_zero(zero, np.random.default_rng(seed))
    assert styled.shape == (len(zero) + 1, 4)
    return styled[: len(zero)], styled[-1]


@pytest.mark.parametrize("style", [styles.slash_zero, styles.bar_zero])
def test_zero_strokes_cross_the_middle_of_the_zero(style):
    zero = digit_segments(0)
    (top, left), (bottom, right) = box(zero)
    if style is styles.slash_zero:
        _, stroke = slashed(zero, 1)
    else:
        (stroke,) = added(zero, style(zero, np.random.default_rng(1)))
    middle = (stroke[:2] + stroke[2:]) / 2
    assert np.allclose(middle, [(top + bottom) / 2, (left + right) / 2])
    assert np.hypot(*(stroke[2:] - stroke[:2])) > 0.5 * (bottom - top)


def test_slash_runs_from_lower_left_to_upper_right():
    _, slash = slashed(digit_segments(0), 2)
    start, end = slash[:2], slash[2:]
    assert start[0] > end[0] and start[1] < end[1]


def test_slash_zero_keeps_the_zeros_height_and_at_most_narrows_it():
    zero = digit_segments(0)
    (top, left), (bottom, right) = box(zero)
    for seed in range(20):
        ring, _ = slashed(zero, seed)
        (ring_top, ring_left), (ring_bottom, ring_right) = box(ring)
        assert (ring_top, ring_bottom) == (top, bottom)
        assert 0.45 * (right - left) - 1e-4 <= ring_right - ring_left <= right - left + 1e-4
        assert ring_left + ring_right == pytest.approx(left + right, abs=1e-4)


def test_some_slashes_run_far_past_the_zero_at_both_ends_like_a_phi():
    zero = digit_segments(0)
    (top, _), (bottom, _) = box(zero)
    margin = 0.25 * (bottom - top)
    slashes = [slashed(zero, seed)[1] for seed in range(40)]
    phis = [s for s in slashes if s[0] > bottom + margin and s[2] < top - margin]
    assert 0 < len(phis) < len(slashes)
    ends = np.array(slashes)
    rise = np.abs(ends[:, 0] - ends[:, 2])
    lengths = np.hypot(rise, ends[:, 3] - ends[:, 1])
    assert lengths.max() <= 2.8 * (bottom - top) + 1e-4  # a small oval on a long stick, no longer
    leans = np.degrees(np.arccos(rise / lengths))
    assert leans.max() <= 45 + 1e-3 and leans.min() < 10  # some nearly upright


def test_dot_zero_adds_a_small_ring_at_the_centre():
    zero = digit_segments(0)
    (top, left), (bottom, right) = box(zero)
    dot = added(zero, styles.dot_zero(zero, np.random.default_rng(3))).reshape(-1, 2)
    assert np.ptp(dot[:, 0]) < 0.15 * (bottom - top)
    assert np.allclose(dot.mean(axis=0), [(top + bottom) / 2, (left + right) / 2], atol=1.0)


def test_flag_one_leaves_the_top_down_to_the_left():
    one = digit_segments(1)
    (top, _), _ = box(one)
    (flag,) = added(one, styles.flag_one(one, np.random.default_rng(4)))
    end, peak = flag[:2], flag[2:]
    assert peak[0] == pytest.approx(top)
    assert end[0] > peak[0] and end[1] < peak[1]


def test_foot_one_stands_on_a_horizontal_stroke_at_the_bottom():
    one = digit_segments(1)
    (_, _), (bottom, _) = box(one)
    foot = added(one, styles.foot_one(one, np.random.default_rng(5)))[-1]
    assert abs(foot[0] - foot[2]) < abs(foot[1] - foot[3])
    assert max(foot[0], foot[2]) >= bottom - 0.1 * np.ptp(one[:, ::2])


def test_caret_one_reaches_most_of_the_way_down():
    one = digit_segments(1)
    (top, _), (bottom, _) = box(one)
    (flag,) = added(one, styles.caret_one(one, np.random.default_rng(6)))
    assert flag[0] - top > 0.5 * (bottom - top)


def test_cross_seven_crosses_the_stem_half_way_down():
    seven = digit_segments(7)
    (top, _), (bottom, _) = box(seven)
    (bar,) = added(seven, styles.cross_seven(seven, np.random.default_rng(7)))
    assert top + 0.35 * (bottom - top) < bar[0] < top + 0.7 * (bottom - top)
    assert abs(bar[0] - bar[2]) < abs(bar[1] - bar[3])


@pytest.mark.parametrize("style", [styles.closed_four, styles.open_four, styles.straight_stem_nine])
def test_redrawn_digits_keep_the_box(style):
    digit = digit_segments(9 if style is styles.straight_stem_nine else 4)
    (top, left), (bottom, right) = box(digit)
    (new_top, new_left), (new_bottom, new_right) = box(style(digit, np.random.default_rng(8)))
    height = bottom - top
    assert abs(new_top - top) < 0.2 * height and abs(new_bottom - bottom) < 0.2 * height
    assert new_left > left - 0.4 * height and new_right < right + 0.4 * height


def test_closed_and_open_fours_differ_only_at_the_top():
    four = digit_segments(4)
    closed = styles.closed_four(four, np.random.default_rng(9))
    opened = styles.open_four(four, np.random.default_rng(9))
    # The closed top starts at the stem, the open one at the left arm.
    assert closed[0, 1] > opened[0, 1]


def test_styles_are_reproducible_and_name_their_digit():
    for digit, style in styles.STYLES.values():
        source = digit_segments(digit)
        first = style(source, np.random.default_rng(10))
        assert np.array_equal(first, style(source, np.random.default_rng(10)))
        assert first.dtype == np.float32 and first.shape[1] == 4


@pytest.mark.parametrize("generate", list(not_digits.GENERATORS.values()))
def test_generated_not_digits_are_segments(generate):
    drawing = generate(np.random.default_rng(11))
    assert drawing.ndim == 2 and drawing.shape[1] == 4 and len(drawing) >= 3
    assert np.isfinite(drawing).all()


def test_unfinished_stroke_is_the_start_of_the_path():
    two = digit_segments(2)
    part = not_digits.unfinished(two, np.random.default_rng(12))
    assert 1 <= len(part) < len(two) and np.array_equal(part, two[: len(part)])
