"""Issue 71's costliest pictures for the reading pipeline, as an attacker would send them to
`POST /api/predict` (the tests and benchmarks/bench_attack_cpu.py send them): many groups of
touching digits, each a little different so that nothing read before is reused; hundreds of
small digits apart; and a long number whose digits touch, as costly as a real number gets."""

from __future__ import annotations

import numpy as np

from devtools.numbers import write_number
from devtools.pictures import png
from training.canvas_drawings import centre_line

MNIST_SIDE = 28
TOUCHING_STEP = 15  # px between touching digits' cells: their 20 px strokes overlap
MAX_ASPECT = 40  # a picture at most this many times as wide as it is high (the API takes 50)
GROUP_SCALE = 1  # each group's digits are drawn this many times MNIST's size


def _room(height: int, width: int) -> tuple[int, int]:
    """A picture's shape for writing this high and wide: made taller where it would be too
    long and narrow for the API to take."""
    return max(height, -(-width // MAX_ASPECT)), width


def _paper(ink: np.ndarray) -> bytes:
    """Ink in [0, 1] as a flat grey PNG: black writing on white."""
    return png(np.rint(255 * (1 - np.clip(ink, 0, 1))).astype(np.uint8))


def touching_groups(
    images: np.ndarray, rng: np.random.Generator, groups: int = 60, digits: int = 4
) -> bytes:
    """A PNG of `groups` groups of `digits` touching MNIST digits (uint8 images), each of other
    digits, in two rows, the lower one shifted by a group's width so that no group shares
    columns with one above it (such groups would be taken for one digit): 10 s of CPU and
    2,500 candidate crops to read as a number before the reading was bounded."""
    width = (TOUCHING_STEP * (digits - 1) + MNIST_SIDE) * GROUP_SCALE
    height = MNIST_SIDE * GROUP_SCALE
    columns = -(-groups // 2)
    ink = np.zeros(_room(height * 3, (2 * columns + 1) * width), np.float32)
    for group in range(groups):
        row, column = divmod(group, columns)
        top = height // 4 + row * height * 3 // 2
        left = width // 4 + (2 * column + row) * width
        for place, index in enumerate(rng.choice(len(images), size=digits, replace=False)):
            digit = np.kron(images[index] / np.float32(255), np.ones((GROUP_SCALE, GROUP_SCALE)))
            start = left + place * TOUCHING_STEP * GROUP_SCALE
            cell = ink[top : top + height, start : start + height]
            np.maximum(cell, digit, out=cell)
    return _paper(ink)


def many_digits(images: np.ndarray, rng: np.random.Generator, count: int = 300) -> bytes:
    """A small flat PNG of `count` MNIST digits (uint8 images) apart, in two rows, the lower
    one shifted by half a digit so that no digit shares most of its columns with one above
    it: a few kB that hold hundreds of pieces of writing."""
    columns = -(-count // 2)
    ink = np.zeros(_room(MNIST_SIDE * 3, (columns + 1) * MNIST_SIDE), np.float32)
    for place, index in enumerate(rng.choice(len(images), size=count, replace=False)):
        row, column = divmod(place, columns)
        top = MNIST_SIDE // 2 + row * MNIST_SIDE * 5 // 4
        left = column * MNIST_SIDE + row * MNIST_SIDE // 2
        ink[top : top + MNIST_SIDE, left : left + MNIST_SIDE] = images[index] / np.float32(255)
    return _paper((ink > 0.5).astype(np.float32))  # flat: two colours compress to a few kB


def long_touching_number(
    images: np.ndarray, rng: np.random.Generator, digits: int = 24, touch: float = 0.5
) -> bytes:
    """A PNG of the number canvas with a number of `digits` MNIST digits (uint8 images), a
    share `touch` of them touching the one before: as costly as a real number gets."""
    chosen = rng.choice(len(images), size=digits, replace=False)
    strokes = [centre_line(images[index] / np.float32(255)) for index in chosen]
    gaps = [None if rng.random() < touch else rng.uniform(0.04, 0.2) for _ in chosen[1:]]
    number = write_number(strokes, gaps, 160, 10, "red on white", rng)
    return png(number.rgba)
