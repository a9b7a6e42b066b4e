"""Any array at all into the pipeline: the documented ValueError or an answer in range and shape.

Hypothesis feeds canvas_to_ink, normalize, split_digits (with and without a classifier),
photo_to_ink and read_upload arrays and bytes of any shape, dtype and content: NaN,
infinities, all zeros, all ones, noise, empty and one-pixel images.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from scipy.special import expit

from digit_model import ModelOutputs
from preprocess import canvas_to_ink, normalize, only_a_dot
from reading.layout import side_by_side
from reading.limits import TooMuchWriting
from reading.marks import Mark
from reading.paper import photo_to_ink
from reading.photo import PhotoError, read_upload
from reading.segment import Piece, split_digits

# The same examples on every run (derandomize): a test here never passes or fails by chance.
EXAMPLES = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

DTYPES = st.sampled_from(
    [np.uint8, np.uint16, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_]
)


def any_array(min_dims: int = 0, max_dims: int = 4, max_side: int = 40):
    """Arrays of any listed dtype and shape, filled with anything the dtype can hold."""
    return DTYPES.flatmap(
        lambda dtype: hnp.arrays(
            dtype,
            hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side),
            elements=hnp.from_dtype(np.dtype(dtype), allow_nan=True, allow_infinity=True),
        )
    )


def ink_like(max_side: int = 60):
    """2-D float arrays shaped like ink: blank, full, strokes of random boxes, noise, specials."""
    shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side)
    floats = st.floats(0.0, 1.0, width=32) | st.sampled_from([0.0, 1.0])
    return st.one_of(
        hnp.arrays(np.float32, shapes, elements=floats),
        shapes.flatmap(
            lambda shape: st.builds(_strokes, st.just(shape), st.integers(0, 2**32 - 1))
        ),
        hnp.arrays(np.float64, shapes, elements=st.floats(allow_nan=True, allow_infinity=True)),
        hnp.arrays(np.uint8, shapes),
    )


def _strokes(shape: tuple[int, int], seed: int) -> np.ndarray:
    """A few filled boxes and lines of ink at random places: blobs that look like writing."""
    rng = np.random.default_rng(seed)
    ink = np.zeros(shape, dtype=np.float32)
    for _ in range(rng.integers(1, 8)):
        top, left = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        bottom = min(shape[0], top + rng.integers(1, max(2, shape[0])))
        right = min(shape[1], left + rng.integers(1, max(2, shape[1] // 3)))
        ink[top:bottom, left:right] = rng.uniform(0.3, 1.0)
    return ink


class ShakyClassifier:
    """A stand-in model whose answers depend on its inputs, so every grouping gets a score."""

    def read_all(self, images: np.ndarray, second_look: bool = True) -> ModelOutputs:
        """Probabilities from the input's pixels, at any look; a drawing with little ink is
        no digit."""
        logits = np.stack(
            [images.reshape(len(images), -1)[:, k::10].sum(axis=1) for k in range(10)]
        )
        exp = np.exp(logits.T - logits.T.max(axis=1, keepdims=True))
        not_digit = expit(10 - images.sum(axis=(1, 2)))  # above one half up to 10 pixels of ink
        features = np.zeros((len(images), 4), np.float32)
        return ModelOutputs(exp / exp.sum(axis=1, keepdims=True), not_digit, features)


def is_valid_ink(array: np.ndarray) -> bool:
    """What normalize and split_digits document they accept."""
    if array.ndim != 2 or array.size == 0:
        return False
    if array.dtype == np.uint8:
        return True
    return np.issubdtype(array.dtype, np.floating) and bool(np.isfinite(array).all())


def assert_mnist_form(image: np.ndarray) -> None:
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert np.isfinite(image).all() and image.min() >= 0.0 and image.max() <= 1.0


@EXAMPLES
@given(any_array())
def test_canvas_to_ink_takes_anything(array):
    try:
        ink = canvas_to_ink(array)
    except ValueError:
        valid = array.ndim == 3 and array.shape[2] == 4 and array.dtype == np.uint8
        assert not valid or 0 in array.shape
        return
    assert ink.shape == array.shape[:2] and ink.dtype == np.float32
    assert np.isfinite(ink).all() and ink.min() >= 0.0 and ink.max() <= 1.0


@EXAMPLES
@given(hnp.arrays(np.uint8, st.tuples(st.integers(1, 50), st.integers(1, 50), st.just(4))))
def test_canvas_to_ink_reads_any_canvas(rgba):
    ink = canvas_to_ink(rgba)
    assert ink.shape == rgba.shape[:2] and ink.dtype == np.float32
    assert ink.min() >= 0.0 and ink.max() <= 1.0


@EXAMPLES
@given(any_array() | ink_like())
def test_normalize_takes_anything(array):
    try:
        image = normalize(array)
    except ValueError:
        assert not is_valid_ink(array)
        return
    assert is_valid_ink(array)
    if image is not None:
        assert_mnist_form(image)


def assert_marks_between(pieces: list[Piece], marks: list[Mark]) -> None:
    """Each mark lies in the gap between the two digits it is said to be between, or before
    the first digit when it is a minus sign."""
    for mark in marks:
        assert mark.symbol in ".,-" and 0 <= mark.after < len(pieces)
        assert mark.after > 0 or mark.symbol == "-"
        assert mark.after == 0 or pieces[mark.after - 1].right <= mark.left
        assert mark.left < mark.right <= pieces[mark.after].left


@EXAMPLES
@given(any_array() | ink_like())
def test_split_digits_takes_anything(array):
    try:
        pieces, marks = split_digits(array)
    except TooMuchWriting:  # valid ink of more digits than one reading takes
        return
    except ValueError:
        assert not is_valid_ink(array)
        return
    assert is_valid_ink(array)
    centres = [(piece.left + piece.right) / 2 for piece in pieces]
    assert centres == sorted(centres)
    for piece in pieces:
        assert_mnist_form(piece.image)
        assert 0 <= piece.top < piece.bottom <= array.shape[0]
        assert 0 <= piece.left < piece.right <= array.shape[1]
    assert_marks_between(pieces, marks)


@pytest.mark.parametrize("shape_test", [side_by_side, only_a_dot])
@EXAMPLES
@given(array=any_array() | ink_like())
def test_shape_tests_take_anything(shape_test, array):
    try:
        found = shape_test(array)
    except ValueError:
        assert not is_valid_ink(array)
        return
    assert is_valid_ink(array) and isinstance(found, bool)


@EXAMPLES
@given(ink_like(max_side=120))
def test_split_digits_with_a_model_takes_any_ink(ink):
    try:
        pieces, marks = split_digits(ink, ShakyClassifier())
    except TooMuchWriting:  # valid ink of more digits than one reading takes
        return
    except ValueError:
        assert not is_valid_ink(ink)
        return
    for piece in pieces:
        assert_mnist_form(piece.image)
        assert 0 <= piece.left < piece.right <= ink.shape[1]
    assert_marks_between(pieces, marks)


@EXAMPLES
@given(ink_like(max_side=80))
def test_photo_to_ink_takes_any_picture(grey):
    try:
        ink = photo_to_ink(grey / np.float32(255) if grey.dtype == np.uint8 else grey)
    except ValueError:
        assert min(grey.shape) < 2
        return
    assert ink.shape == grey.shape and ink.dtype == np.float32
    assert ink.min() >= 0.0 and ink.max() <= 1.0


def _image_bytes(array: np.ndarray, format: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format)
    return buffer.getvalue()


@EXAMPLES
@given(
    st.binary(max_size=2000)
    | st.builds(
        _image_bytes,
        hnp.arrays(np.uint8, st.tuples(st.integers(1, 60), st.integers(1, 60), st.just(3))),
        st.sampled_from(["PNG", "JPEG", "WEBP"]),
    ).flatmap(lambda data: st.integers(0, len(data)).map(lambda cut: data[:cut]))
)
def test_any_upload_is_read_or_refused_with_a_message(data):
    try:
        upload = read_upload(data)
    except PhotoError as error:
        assert str(error)
        return
    assert upload.ink.shape == upload.picture.shape[:2]
    assert upload.ink.dtype == np.float32 and upload.ink.min() >= 0.0 and upload.ink.max() <= 1.0
