"""The canvas -> ink -> 28x28 pipeline: invariance to place, size, brush and colours."""

import numpy as np
import pytest
from scipy import ndimage

from devtools.pictures import on_ruled_paper, with_printed_lines
from preprocess import (
    HAZE,
    block_maximum,
    canvas_to_ink,
    normalize,
    prepare,
    too_small,
    without_printed_lines,
)
from tests.support.data import mnist
from training.canvas_drawings import COLOUR_SETUPS, centre_line, draw, stroke_coverage

# (height, top, left) of the same digit elsewhere on the 280x280 canvas, brush scaled alike.
PLACES = [(180, 12, 12), (90, 170, 170), (200, 20, 30), (70, 12, 195)]
# Straight strokes of digits and letters, as centre-line segments (row0, col0, row1, col1) in
# units of the 28 px field: a printed line would look like them but for where they end.
STRAIGHT_STROKES = {
    "7's bar over the rest": [(4, 4, 4, 24), (4, 24, 24, 10)],
    "L's base": [(4, 6, 24, 6), (24, 6, 24, 22)],
    "2's flat base": [(6, 8, 4, 14), (4, 14, 8, 20), (8, 20, 24, 6), (24, 6, 24, 22)],
    "4's bar": [(4, 14, 16, 4), (16, 4, 16, 22), (4, 18, 24, 18)],
    "t's cross": [(2, 14, 24, 14), (9, 6, 9, 22)],
    "T's bar with the stem poking over it": [(5, 3, 5, 25), (3, 14, 24, 14)],
    "E's three bars": [(4, 6, 4, 22), (14, 6, 14, 20), (24, 6, 24, 22), (4, 6, 24, 6)],
}


@pytest.fixture(scope="module")
def strokes():
    """Centre lines of a few MNIST test digits, to redraw anywhere on the canvas."""
    images, labels = mnist("test")
    return [(centre_line(images[i] / 255.0), int(labels[i])) for i in range(8)]


def drawn(segments, height=180.0, top=50.0, left=60.0, brush=16.0, setup="black on transparent"):
    return draw(segments, height, top, left, brush, setup)


def test_moved_and_scaled_drawings_give_nearly_the_same_input(strokes):
    for segments, _ in strokes:
        reference = normalize(canvas_to_ink(drawn(segments)))
        for height, top, left in PLACES:
            brush = 16.0 * height / 180
            moved = normalize(canvas_to_ink(drawn(segments, height, top, left, brush)))
            assert np.abs(moved - reference).mean() < 0.07
            assert np.allclose(ndimage.center_of_mass(moved), (14, 14), atol=0.75)


def test_output_has_mnist_form(strokes):
    image = normalize(canvas_to_ink(drawn(strokes[0][0])))
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.max() == pytest.approx(1.0) and image.min() >= 0.0
    rows, cols = np.nonzero(image > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in (20, 21)


def test_same_drawing_in_every_colour_setup_gives_the_same_ink(strokes):
    segments = strokes[1][0]
    reference = canvas_to_ink(drawn(segments, setup="black on transparent"))
    for setup in COLOUR_SETUPS:
        ink = canvas_to_ink(drawn(segments, setup=setup))
        assert np.abs(ink - reference).max() < 0.02, setup


def test_a_stroke_off_the_canvas_edge_leaves_the_background_as_it_is(strokes):
    segments = strokes[1][0]
    for setup in COLOUR_SETUPS:
        canvas = drawn(segments, setup=setup)
        reference = canvas_to_ink(canvas)
        stroke_colour = COLOUR_SETUPS[setup][0]
        canvas[0, :60] = canvas[:40, -1] = stroke_colour  # strokes across the border
        ink = canvas_to_ink(canvas)
        assert ink[0, :60].min() == ink[:40, -1].min() == 1.0, setup  # read as ink...
        np.testing.assert_array_equal(ink[1:, :-1], reference[1:, :-1])  # ...the rest as it was


def test_blank_canvases_have_no_digit():
    transparent = np.zeros((280, 280, 4), np.uint8)
    white = np.full((280, 280, 4), 255, np.uint8)
    assert normalize(canvas_to_ink(transparent)) is None
    assert normalize(canvas_to_ink(white)) is None
    assert normalize(np.zeros((28, 28), np.uint8)) is None


def test_faint_noise_is_no_digit():
    noise = np.random.default_rng(0).uniform(0, 0.04, (280, 280)).astype(np.float32)
    assert normalize(noise) is None


@pytest.mark.parametrize(
    "ink",
    [
        pytest.param(np.pad(np.ones((1, 1), np.float32), 100), id="single dot"),
        pytest.param(np.pad(np.ones((1, 150), np.float32), 60), id="one-pixel line"),
        pytest.param(np.pad(np.ones((150, 1), np.float32), 60), id="one-pixel column"),
        pytest.param(np.ones((280, 280), np.float32), id="canvas-filling scribble"),
        pytest.param(np.eye(280, dtype=np.float32), id="diagonal"),
    ],
)
def test_degenerate_drawings_still_give_a_valid_input(ink):
    image = normalize(ink)
    assert image.shape == (28, 28)
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert image.max() > 0


def test_specks_and_stray_taps_are_ignored(strokes):
    segments = strokes[2][0]
    clean = drawn(segments, height=120, top=80, left=80)
    tapped = clean.copy()
    tapped[250:262, 250:262, 3] = 255  # a brush tap far from the digit
    tapped[10:12, 10:12, 3] = 255  # a speck
    assert np.abs(normalize(canvas_to_ink(tapped)) - normalize(canvas_to_ink(clean))).max() < 0.02


def test_pieces_of_one_digit_are_kept_together():
    ink = np.zeros((280, 280), np.float32)
    ink[60:200, 130:145] = 1.0  # the stem of a 5 ...
    ink[60:72, 150:200] = 1.0  # ... and its separate bar
    image = normalize(ink)
    _, cols = np.nonzero(image > 0.05)
    assert np.ptp(cols) + 1 >= 9  # the bar widened the box, it was not dropped


def test_uint8_ink_reads_like_float_ink(strokes):
    ink = canvas_to_ink(drawn(strokes[3][0]))
    as_bytes = (ink * 255).round().astype(np.uint8)
    assert np.abs(normalize(as_bytes) - normalize(ink)).max() < 0.02


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((280, 280, 3), np.uint8),
        np.zeros((280, 280), np.uint8),
        np.zeros((280, 280, 4), np.float32),
        np.zeros((0, 280, 4), np.uint8),
        [[0, 0, 0, 0]],
    ],
)
def test_canvas_to_ink_rejects_what_is_not_an_rgba_image(bad):
    with pytest.raises(ValueError, match="canvas_to_ink expects"):
        canvas_to_ink(bad)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((28, 28, 1), np.float32),
        np.zeros((28,), np.float32),
        np.zeros((28, 28), np.int64),
        np.zeros((0, 28), np.float32),
        np.full((28, 28), np.nan, np.float32),
        "not an array",
    ],
)
def test_the_ink_functions_reject_bad_shapes_and_dtypes_by_name(bad):
    for function in (normalize, prepare, too_small):
        with pytest.raises(ValueError, match=f"^{function.__name__} expects"):
            function(bad)


def test_prepare_gives_what_normalize_and_too_small_give_for_sharp_strokes(strokes):
    tap = np.zeros((280, 280), np.float32)
    tap[100:110, 100:110] = 1.0
    inks = [canvas_to_ink(drawn(segments)) for segments, _ in strokes] + [tap]
    for ink in inks:
        image, is_dot = prepare(ink)
        np.testing.assert_array_equal(image, normalize(ink))
        assert is_dot == too_small(ink)
    assert prepare(tap)[1] and prepare(np.zeros((280, 280), np.float32)) == (None, False)


def test_the_coarse_copy_keeps_every_blocks_strongest_pixel_ragged_edges_too():
    ink = np.random.default_rng(0).random((101, 67), dtype=np.float32)
    coarse, step = block_maximum(ink, 20)
    assert step == 6
    blocks = [
        [ink[top : top + step, left : left + step].max() for left in range(0, 67, step)]
        for top in range(0, 101, step)
    ]
    np.testing.assert_array_equal(coarse, np.array(blocks))


def test_a_large_filled_scribble_is_not_called_too_small():
    rng = np.random.default_rng(0)
    scribble = np.zeros((280, 280), np.float32)
    rows, cols = np.ogrid[:280, :280]
    for _ in range(60):  # thick zig-zags filling most of the canvas's left half
        row, col = rng.integers(20, 260), rng.integers(10, 140)
        scribble[(rows - row) ** 2 + (cols - col) ** 2 <= 22**2] = 1.0
    assert not too_small(scribble)


def test_a_blurred_scans_halo_does_not_shrink_the_digit(strokes):
    """Out of focus, a scan spreads faint ink around its strokes: the digit is still fitted
    to MNIST's 20 px box by its strokes, at the size the model knows, not by the halo."""

    def height_and_width(image):
        strong = image >= 0.5
        return np.ptp(np.flatnonzero(strong.any(axis=1))), np.ptp(
            np.flatnonzero(strong.any(axis=0))
        )

    for segments, _ in strokes:
        ink = stroke_coverage(segments, 150.0, 65.0, 65.0, 14.0)
        blurred = ndimage.gaussian_filter(ink, 5.0)
        sharp_size = height_and_width(prepare(ink)[0])
        blurred_size = height_and_width(prepare(blurred / blurred.max())[0])
        assert np.abs(np.subtract(blurred_size, sharp_size)).max() <= 1


def test_a_cell_border_around_a_digit_is_left_out(strokes):
    for segments, _ in strokes:
        ink = stroke_coverage(segments, 150.0, 65.0, 65.0, 14.0)
        in_a_cell = with_printed_lines(ink, box=(20, 20, 262, 262))
        np.testing.assert_array_equal(prepare(in_a_cell)[0], prepare(ink)[0])
        assert not too_small(in_a_cell)


def test_lines_of_lined_paper_over_through_and_under_a_digit_are_left_out(strokes):
    for segments, _ in strokes:
        ink = stroke_coverage(segments, 120.0, 65.0, 80.0, 12.0)
        on_lined_paper = with_printed_lines(ink, rows=(30, 120, 230))
        difference = np.abs(prepare(on_lined_paper)[0] - prepare(ink)[0])
        assert difference.mean() < 0.01  # strokes that cross a line are kept across it


@pytest.mark.parametrize("pitch", [60, 100])
def test_squared_paper_through_and_around_a_digit_is_left_out(strokes, pitch):
    for segments, _ in strokes:
        ink = stroke_coverage(segments, 120.0, 65.0, 80.0, 12.0)
        on_squared_paper = on_ruled_paper(ink, pitch, squared=True, offset=17.0)
        difference = np.abs(prepare(on_squared_paper)[0] - prepare(ink)[0])
        assert difference.mean() < 0.02  # strokes that cross a line are kept across it


@pytest.mark.parametrize("name", list(STRAIGHT_STROKES))
def test_a_straight_stroke_of_a_digit_or_a_letter_is_kept(name):
    image, _ = prepare(stroke_coverage(STRAIGHT_STROKES[name], 180.0, 50.0, 60.0, 14.0))
    widest = int((image > 0.5).sum(axis=1).max())
    assert widest >= 10, f"{name}: its straight stroke was taken for a printed line"


def inked_pieces(ink: np.ndarray) -> int:
    """How many strokes (8-connected pieces) the ink has once printed lines are left out."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return ndimage.label(without_printed_lines(crop) >= HAZE, structure=np.ones((3, 3)))[1]


def test_a_thin_stroke_crossing_a_line_at_a_slant_is_kept_across_it():
    seven = stroke_coverage([(4, 4, 4, 24), (4, 24, 24, 4)], 80.0, 20.0, 20.0, 3.0, size=120)
    assert inked_pieces(seven) == 1
    on_lined_paper = with_printed_lines(seven, rows=(70,), thickness=4, weight=0.6)
    assert inked_pieces(on_lined_paper) == 1  # the stem is not cut where it crosses the line


def test_where_a_thin_pen_crosses_a_heavy_line_it_keeps_its_own_weight():
    seven = stroke_coverage([(4, 4, 4, 24), (4, 24, 24, 10)], 80.0, 20.0, 20.0, 2.5, size=120)
    on_lined_paper = with_printed_lines(seven, rows=(70,), thickness=4, weight=1.0)
    top, left = np.argwhere(on_lined_paper).min(axis=0)
    cleaned = without_printed_lines(on_lined_paper[top:, left:])
    line = 70 - top
    stroke = cleaned[line - 3 : line].sum(axis=1).max()  # ink per row just above the line
    assert 0 < cleaned[line : line + 4].sum(axis=1).max() <= 1.25 * stroke


def test_a_stem_as_tall_as_the_writing_is_no_line_where_a_line_crosses_it():
    four = [(4, 14, 16, 4), (16, 4, 16, 22), (4, 18, 24, 18)]
    ink = stroke_coverage(four, 120.0, 80.0, 70.0, 10.0)
    on_lined_paper = with_printed_lines(ink, rows=(170,), thickness=4, weight=0.6)
    assert inked_pieces(on_lined_paper) == 1  # the stem goes on across the line


def test_a_stroke_written_along_a_line_of_squared_paper_is_kept():
    one = [(4, 18, 2, 14), (2, 14, 24, 14)]  # a flag, and the stem down a line of the paper
    ink = stroke_coverage(one, 150.0, 60.0, 100.0, 6.0)
    stem = int(np.flatnonzero(ink[150])[0])
    on_squared_paper = on_ruled_paper(ink, 50, squared=True, weight=0.4, offset=stem + 1)
    difference = np.abs(prepare(on_squared_paper)[0] - prepare(ink)[0])
    assert difference.mean() < 0.02
