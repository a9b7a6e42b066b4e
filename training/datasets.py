"""The training and validation sets: MNIST and CVL digits, both also redrawn as canvas strokes,
pen digits, digits redrawn in synthesized styles, and not-digits (letters, symbols and
generated drawings)."""

from __future__ import annotations

import keras
import numpy as np

from digit_model import NOT_A_DIGIT
from training import cvl, unipen
from training.canvas_drawings import canvas_style_inputs, centre_line, drawn
from training.not_digits import GENERATORS, UNFINISHED_DIGITS, unfinished
from training.sources import SPLIT_SEED, Source
from training.styles import STYLES

CVL_REPEATS = 4  # CVL's training digits are few beside MNIST's: each is shown this often per epoch
CVL_CANVAS = 7000  # CVL training digits also redrawn as canvas strokes (all of them)
PEN_RENDERS = 2  # each training writer's character is drawn this often, at random sizes and brushes
STYLE_SAMPLES = 700  # digits redrawn in each synthesized style, half from MNIST and half from pen
OTHER_SAMPLES = 40000  # letters and symbols of training writers (all, when fewer), as "not a digit"
GENERATED_SAMPLES = 1600  # of each generated kind of not-a-digit drawing
VALIDATION_OTHERS = 3000  # letters and symbols of validation writers in the validation set


def load_mnist(path: str | None) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """MNIST as ((x_train, y_train), (x_test, y_test)) uint8: from `path` or Keras's download."""
    if path is None:
        return keras.datasets.mnist.load_data()
    with np.load(path) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def styled(
    sources: dict[int, list[np.ndarray]], rng: np.random.Generator, per_style: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Digits redrawn in every synthesized style: (images, digits, style names)."""
    images, digits, names = [], [], []
    for name, (digit, style) in STYLES.items():
        picks = rng.choice(len(sources[digit]), per_style)
        images.append(drawn([style(sources[digit][i], rng) for i in picks], rng))
        digits += [digit] * per_style
        names += [name] * per_style
    return np.concatenate(images), np.array(digits), np.array(names)


def generated_not_digits(
    pen_digits: unipen.PenCharacters, rng: np.random.Generator, count: int
) -> np.ndarray:
    """Scribbles, hatching, crossed circles, smileys and unfinished strokes: (N, 28, 28)."""
    drawings = [generate(rng) for generate in GENERATORS.values() for _ in range(count)]
    starts = np.flatnonzero(np.isin(pen_digits.digits, UNFINISHED_DIGITS))
    drawings += [unfinished(pen_digits.segments[i], rng) for i in rng.choice(starts, count)]
    return drawn(drawings, rng)


def mnist_segments(images: np.ndarray, labels: np.ndarray, per_digit: int) -> dict[int, list]:
    """Centre lines of the first `per_digit` MNIST images of each digit, to restyle."""
    return {
        digit: [
            np.array(centre_line(image / np.float32(255)), np.float32)
            for image in images[labels == digit][:per_digit]
        ]
        for digit in range(10)
    }


def training_set(
    x_train: np.ndarray,
    y_train: np.ndarray,
    pen_train: unipen.PenCharacters,
    cvl_train: cvl.CvlDigits,
    share: float,
    canvas_train: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST and CVL digits, both also redrawn, pen digits, styled digits and not-digits:
    (x float32, y 0-10).

    `share` cuts the styled, letter and generated drawings in proportion, for quick runs;
    `canvas_train` MNIST digits are redrawn.
    """
    rng = np.random.default_rng(seed)
    print(f"Redrawing {canvas_train} training digits as canvas strokes ...")
    x_canvas, y_canvas = canvas_style_inputs(x_train[:canvas_train], y_train[:canvas_train], seed)
    cvl_canvas = round(CVL_CANVAS * share)
    print(f"Redrawing {cvl_canvas} CVL training digits as canvas strokes ...")
    x_cvl_canvas, y_cvl_canvas = canvas_style_inputs(
        cvl_train.images[:cvl_canvas], cvl_train.digits[:cvl_canvas], seed
    )
    digits = pen_train.subset(pen_train.is_digit)
    print(f"Drawing {len(digits.label)} pen digits x{PEN_RENDERS} and the synthesized styles ...")
    x_pen = drawn(digits.segments * PEN_RENDERS, rng)
    y_pen = np.tile(digits.digits, PEN_RENDERS)
    per_style = max(1, round(STYLE_SAMPLES * share))
    sources = mnist_segments(x_train, y_train, per_style // 2 + 1)
    for digit in range(10):
        sources[digit] += [digits.segments[i] for i in np.flatnonzero(digits.digits == digit)]
    x_styled, y_styled, _ = styled(sources, rng, per_style)
    others = np.flatnonzero(pen_train.is_other)
    others = rng.choice(others, min(round(OTHER_SAMPLES * share), len(others)), replace=False)
    print(f"Drawing {len(others)} letters and symbols x{PEN_RENDERS} and generated not-digits ...")
    x_others = np.concatenate(
        [
            drawn([pen_train.segments[i] for i in others] * PEN_RENDERS, rng),
            generated_not_digits(digits, rng, max(1, round(GENERATED_SAMPLES * share))),
        ]
    )
    x_cvl = np.tile(cvl_train.images / np.float32(255), (CVL_REPEATS, 1, 1))
    y_cvl = np.tile(cvl_train.digits, CVL_REPEATS)
    x = np.concatenate(
        [x_train / np.float32(255), x_canvas, x_cvl, x_cvl_canvas, x_pen, x_styled, x_others]
    )
    y = np.concatenate(
        [
            y_train,
            y_canvas,
            y_cvl,
            y_cvl_canvas,
            y_pen,
            y_styled,
            np.full(len(x_others), NOT_A_DIGIT),
        ]
    ).astype(np.int64)
    return x, y


def validation_set(
    x_val: np.ndarray,
    y_val: np.ndarray,
    pen_validation: unipen.PenCharacters,
    unseen: dict[str, Source],
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST validation digits, held-out writers' pen digits and some of their not-digits, and
    every unseen source's digits and letters: what early stopping watches."""
    rng = np.random.default_rng(SPLIT_SEED)
    digits = pen_validation.subset(pen_validation.is_digit)
    others = np.flatnonzero(pen_validation.is_other)
    others = rng.choice(others, min(VALIDATION_OTHERS, len(others)), replace=False)
    x_others = drawn([pen_validation.segments[i] for i in others], rng)
    sources = list(unseen.values())
    x = np.concatenate(
        [x_val / np.float32(255), drawn(digits.segments, rng), x_others]
        + [source.digits for source in sources]
        + [source.letters for source in sources]
    )
    y = np.concatenate(
        [y_val, digits.digits, np.full(len(others), NOT_A_DIGIT)]
        + [source.labels for source in sources]
        + [np.full(len(source.letters), NOT_A_DIGIT) for source in sources]
    ).astype(np.int64)
    return x, y
