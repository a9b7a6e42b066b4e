"""Train the digit convnet on MNIST the way people draw, or evaluate a trained one.

    python train_model.py --data ../shared/mnist.npz --pen ../shared/unipen_dev.npz \
        --cvl ../shared/cvl_dev.npz                      # train, write model.keras + metrics
    python train_model.py evaluate --data ... --pen ... --cvl ...   # figures of model.keras
    python train_model.py sites --data ... --pen ... --cvl ...      # leave each site out in turn
    python train_model.py finetune                       # learn from the app's feedback database
    python train_model.py finetune --feedback feedback.npz   # ...or from a downloaded .npz

Validation predicts what users meet: handwriting from places the model never saw. Besides
writers held out of the UNIPEN sites trained on, whole sources are held out: the UNIPEN
sites in UNSEEN_SITES and CVL's validation writers. The temperature and the not-a-digit
threshold are fitted on those unseen sources, and every figure is reported per source.
`sites` goes further: for each UNIPEN site in turn, a quick model trained on the same
recipe without that site reads it, and the figures are added to the model's metrics.

Training holds out a validation split of the training digits and augments every batch
with what the canvas brings that normalisation cannot undo: rotation and shear, an
elastic wobble, strokes from a thin pen to a fat finger, and digits a little off-centre
or oddly sized. The test split is read only at the end. Besides MNIST's own test
accuracy it reports accuracy on canvas-style drawings made from the test digits and
read through the app's full pipeline (`reading.read_digit`).

Fine-tuning starts from the current model and trains a few epochs at a low learning
rate on the app's labelled drawings (read straight from its feedback database, or from a
.npz downloaded from the History tab), mixed with MNIST training
digits so the model keeps what it knew. A fixed part of the feedback is held out to
measure it before and after. The new model is written only if MNIST test accuracy drops
by no more than 0.1 points.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time
import tomllib
import zipfile
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # the command only: a program importing this keeps its own setting
    # TensorFlow turns oneDNN's kernels on by itself only on CPUs with AVX-512 and the like;
    # on others (the 2-core AMD EPYC machines here) training steps take 2.5 times as long.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

import digit_model
from digit_model import NOT_A_DIGIT
from digit_model.metrics import (
    SourceFigures,
    commonest_letters_read,
    commonest_misreads,
    pooled,
)
from digit_model.network import build_model, training_model
from feedback import export as feedback_export
from feedback import store as feedback_store
from preprocess import canvas_to_ink
from reading import read_digits
from training import cvl, unipen
from training.canvas_drawings import canvas_style_inputs, centre_line, drawn_input, random_drawings
from training.not_digits import GENERATORS, UNFINISHED_DIGITS, unfinished
from training.styles import STYLES

SEED = 1337
SPLIT_SEED = 2026  # which pen writers are held out: fixed, so every run validates on the same
UNSEEN_SITES = ("apa", "tos")  # UNIPEN sites never trained on: they stand for unseen places
CVL_VALID = "CVL valid"  # the unseen source of CVL's validation writers
EPOCHS = 12
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
VALIDATION_SIZE = 5000
CANVAS_TRAIN = 10000  # training digits also redrawn as canvas strokes and added to the training set
CVL_REPEATS = 4  # CVL's training digits are few beside MNIST's: each is shown this often per epoch
CVL_CANVAS = 7000  # CVL training digits also redrawn as canvas strokes (all of them)
CANVAS_SAMPLES = 10000  # canvas-style drawings made from test digits for the final report
CANVAS_CHUNK = 500  # of them redrawn and read at a time, so that memory stays bounded
PATIENCE = 4
FOLD_LIMIT = 10000  # MNIST digits per leave-one-site-out model; generated sets cut in proportion
FOLD_EPOCHS = 3
PEN_RENDERS = 2  # each training writer's character is drawn this often, at random sizes and brushes
STYLE_SAMPLES = 700  # digits redrawn in each synthesized style, half from MNIST and half from pen
OTHER_SAMPLES = 40000  # letters and symbols of training writers (all, when fewer), as "not a digit"
GENERATED_SAMPLES = 1600  # of each generated kind of not-a-digit drawing
VALIDATION_OTHERS = 3000  # letters and symbols of validation writers in the validation set
STYLE_TEST_SAMPLES = 200  # MNIST test digits redrawn in each style for the report
SCANNED_SIDES = (28, 16, 12)  # CVL's validation digits read again as scans this many pixels across
MAX_DIGITS_FLAGGED = 0.0075  # at most this share of unseen sources' digits is flagged, on average
CALIBRATION_BINS = 15
LABEL_SMOOTHING = 0.1
AUGMENTED_SHARE = 0.8  # the rest of each batch stays as drawn, as the test digits are

FINETUNE_EPOCHS = 3
FINETUNE_LEARNING_RATE = 1e-4
FINETUNE_MNIST = 20000  # MNIST training digits mixed in with the feedback
FEEDBACK_SHARE = 0.25  # feedback's share of a fine-tuning epoch (repeated when scarce)
FEEDBACK_HOLDOUT = 0.2  # share of the feedback kept out of fine-tuning, to measure it
MAX_MNIST_DROP = 0.001  # 0.1 points: a fine-tuned model losing more is not written
SECRETS_FILE = digit_model.REPO_ROOT / ".streamlit" / "secrets.toml"  # the app's database settings

ROTATION = math.radians(15)  # each augmentation's range, uniform either way
SHEAR = 0.3
SCALE = (0.8, 1.15)
ASPECT = (0.85, 1.15)
SHIFT = 2.5  # pixels of the 28x28 field
WOBBLE = 0.8  # elastic displacement, pixels
THICKNESS = {"thinner": 0.15, "same": 0.40, "thicker": 0.30, "much thicker": 0.15}


def load_mnist(path: str | None) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """MNIST as ((x_train, y_train), (x_test, y_test)) uint8: from `path` or Keras's download."""
    if path is None:
        return keras.datasets.mnist.load_data()
    with np.load(path) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _bilinear(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Sample (B, 28, 28) images at fractional (B, 28, 28) coordinates; outside is blank."""
    batch = tf.shape(images)[0]
    flat = tf.reshape(tf.pad(images, [[0, 0], [1, 1], [1, 1]]), [batch, 30 * 30])
    rows = tf.clip_by_value(tf.reshape(rows, [batch, -1]) + 1.0, 0.0, 29.0)
    cols = tf.clip_by_value(tf.reshape(cols, [batch, -1]) + 1.0, 0.0, 29.0)
    r0, c0 = tf.floor(rows), tf.floor(cols)
    r1, c1 = tf.minimum(r0 + 1.0, 29.0), tf.minimum(c0 + 1.0, 29.0)
    wr, wc = rows - r0, cols - c0

    def at(r, c):
        return tf.gather(flat, tf.cast(r * 30.0 + c, tf.int32), batch_dims=1)

    top = at(r0, c0) * (1 - wc) + at(r0, c1) * wc
    bottom = at(r1, c0) * (1 - wc) + at(r1, c1) * wc
    return tf.reshape(top * (1 - wr) + bottom * wr, [batch, 28, 28])


def augment(images: tf.Tensor) -> tf.Tensor:
    """Randomly rotate, shear, scale, shift, wobble and thicken or thin each (B, 28, 28) image."""
    batch = tf.shape(images)[0]

    def uniform(low, high):
        return tf.random.uniform([batch, 1, 1], low, high)

    angle, shear = uniform(-ROTATION, ROTATION), uniform(-SHEAR, SHEAR)
    scale, aspect = uniform(*SCALE), tf.sqrt(uniform(*ASPECT))
    row_scale, col_scale = scale * aspect, scale / aspect
    cos, sin = tf.cos(angle), tf.sin(angle)

    grid_rows, grid_cols = tf.meshgrid(tf.range(28.0), tf.range(28.0), indexing="ij")
    dr, dc = grid_rows - 14.0, grid_cols - 14.0
    wobble = tf.image.resize(tf.random.normal([batch, 4, 4, 2], stddev=WOBBLE), (28, 28), "bicubic")
    rows = (cos * dr - sin * (dc + shear * dr)) / row_scale + 14.0 + uniform(-SHIFT, SHIFT)
    cols = (sin * dr + cos * (dc + shear * dr)) / col_scale + 14.0 + uniform(-SHIFT, SHIFT)
    warped = _bilinear(images, rows + wobble[..., 0], cols + wobble[..., 1])[..., None]

    thinner = -tf.nn.max_pool2d(-warped, 2, 1, "SAME")
    thicker = tf.nn.max_pool2d(warped, 2, 1, "SAME")
    much_thicker = tf.nn.max_pool2d(warped, 3, 1, "SAME")
    mass = tf.reduce_sum(warped, axis=[1, 2, 3], keepdims=True)
    thinner = tf.where(
        tf.reduce_sum(thinner, axis=[1, 2, 3], keepdims=True) > 0.5 * mass, thinner, warped
    )
    bounds = np.cumsum(list(THICKNESS.values()))
    pick = tf.random.uniform([batch, 1, 1, 1])
    result = tf.where(
        pick < bounds[0],
        thinner,
        tf.where(pick < bounds[1], warped, tf.where(pick < bounds[2], thicker, much_thicker)),
    )
    result = tf.clip_by_value(result[..., 0], 0.0, 1.0)
    return tf.where(tf.random.uniform([batch, 1, 1]) < AUGMENTED_SHARE, result, images)


def make_dataset(x: np.ndarray, y: np.ndarray, training: bool) -> tf.data.Dataset:
    """Batches of (image in [0, 1], label), augmented and shuffled when training."""
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        data = data.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)
    data = data.batch(BATCH_SIZE)
    if training:
        data = data.map(lambda images, labels: (augment(images), labels), tf.data.AUTOTUNE)
    data = data.map(lambda images, labels: (images, tf.one_hot(labels, NOT_A_DIGIT + 1)))
    return data.prefetch(tf.data.AUTOTUNE)


def drawn(segment_list: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Each drawing's segments drawn with a random brush and normalised: (N, 28, 28) float32."""
    images = [drawn_input(segments, rng) for segments in segment_list]
    blank = np.zeros((28, 28), np.float32)
    return np.array([blank if image is None else image for image in images], np.float32).reshape(
        -1, 28, 28
    )


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


class PenSplit(NamedTuple):
    """UNIPEN characters: to train on, of held-out writers at trained-on sites, of unseen sites."""

    train: unipen.PenCharacters
    seen_sites: unipen.PenCharacters
    unseen_sites: unipen.PenCharacters


def pen_split(path: str | Path) -> PenSplit:
    """Every UNIPEN character of one file, split by site and then by writer."""
    pen = unipen.load(path)
    unseen = np.isin(pen.site, UNSEEN_SITES)
    held_out = unipen.validation_writers(pen.writer, SPLIT_SEED) & ~unseen
    return PenSplit(pen.subset(~unseen & ~held_out), pen.subset(held_out), pen.subset(unseen))


@dataclass(frozen=True)
class Source:
    """Handwriting of one source training never saw, drawn and normalised for the network."""

    digits: np.ndarray  # (N, 28, 28) float32
    labels: np.ndarray  # (N,) the digit meant
    writers: int
    letters: np.ndarray  # (M, 28, 28) float32: letters no one would mean as a digit
    letter_labels: np.ndarray  # (M,) str: the letter each one is


def unseen_sources(
    pen_sites: unipen.PenCharacters | None,
    cvl_valid: cvl.CvlDigits | None,
    seed: int,
    sites: tuple[str, ...] = UNSEEN_SITES,
) -> dict[str, Source]:
    """Each of `sites` in `pen_sites`, drawn on the canvas as a person would, and CVL's
    validation writers, by name. One seed draws them all, in order."""
    rng = np.random.default_rng(seed)
    sources = {}
    for site in sites if pen_sites is not None else ():
        pen = pen_sites.subset(pen_sites.site == site)
        digits = pen.subset(pen.is_digit)
        letters = pen.subset(pen.is_other & np.char.isalpha(pen.label.astype(str)))
        sources[f"UNIPEN {site}"] = Source(
            drawn(digits.segments, rng),
            digits.digits,
            len(set(digits.writer)),
            drawn(letters.segments, rng),
            letters.label.astype(str),
        )
    if cvl_valid is not None:
        sources[CVL_VALID] = Source(
            cvl_valid.images / np.float32(255),
            cvl_valid.digits,
            len(set(cvl_valid.writer)),
            np.zeros((0, 28, 28), np.float32),
            np.zeros(0, str),
        )
    return sources


def calibration(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS
) -> dict:
    """Expected calibration error and the reliability diagram's bins (confidence vs accuracy)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    table, error = [], 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            gap = abs(confidence[members].mean() - correct[members].mean())
            error += members.mean() * gap
            table.append(
                {
                    "low": index / bins,
                    "high": (index + 1) / bins,
                    "confidence": round(float(confidence[members].mean()), 4),
                    "accuracy": round(float(correct[members].mean()), 4),
                    "samples": int(members.sum()),
                }
            )
    return {"ece": float(error), "samples": len(labels), "bins": table}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the digits' logits."""
    best, best_loss = 1.0, math.inf
    for temperature in np.arange(0.5, 4.0, 0.01):
        scaled = logits / temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_p = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(labels)), labels].mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return round(best, 2)


def not_digit_margin(logits: np.ndarray) -> np.ndarray:
    """How far the not-a-digit logit stands above all the digits' together (log-sum-exp)."""
    digits = logits[:, :NOT_A_DIGIT]
    top = digits.max(axis=1)
    return logits[:, NOT_A_DIGIT] - (top + np.log(np.exp(digits - top[:, None]).sum(axis=1)))


def not_digit_offset(margins: list[np.ndarray], share: float = MAX_DIGITS_FLAGGED) -> float:
    """A threshold on the not-a-digit margin that flags as many of the sources' digits as it
    may: at most `share` of them on average, each source counting equally.

    A limit per source would rest on a handful of digits in a small one and move the
    threshold from one training to the next. The threshold lies halfway between the highest
    digit kept and the lowest one flagged (a step above them all when none may be), so that
    no digit sits on it."""
    if not 0 <= share < 1:
        raise ValueError(f"share of digits flagged must be in [0, 1), not {share}")
    ordered = [np.sort(margin) for margin in margins]
    candidates = np.unique(np.concatenate(ordered))  # sorted, each value once
    flagged = np.mean(
        [
            (len(margin) - np.searchsorted(margin, candidates, side="right")) / len(margin)
            for margin in ordered
        ],
        axis=0,
    )
    kept = int(np.argmax(flagged <= share))  # `flagged` falls as the candidates rise
    if kept == len(candidates) - 1:
        return float(candidates[kept] + 1.0)
    return float((candidates[kept] + candidates[kept + 1]) / 2)


def scanned_at(image: np.ndarray, side: int) -> np.ndarray:
    """(28, 28) ink in [0, 1] as a scan `side` pixels across shows it, scaled back to 28x28."""
    small = Image.fromarray(np.uint8(np.round(image * 255))).resize((side, side), Image.BOX)
    return np.asarray(small.resize(image.shape[::-1], Image.BILINEAR), np.float32) / 255


def scanned_figures(classifier: digit_model.Classifier, source: Source) -> dict[str, dict]:
    """A scanned source's digits scanned again at fewer pixels across, read through the app's
    pipeline: what a coarse, blurred scan costs. At 28 px they are read as they were."""
    figures = {}
    for side in SCANNED_SIDES:
        readings = read_digits(classifier, [scanned_at(image, side) for image in source.digits])
        probabilities = np.stack([reading.probabilities for reading in readings])
        is_digit = np.array([reading.is_digit and not reading.too_small for reading in readings])
        figures[f"{side} px"] = source_figures(classifier, source, probabilities, is_digit)
    return figures


def canvas_accuracy(
    classifier: digit_model.Classifier, x_test: np.ndarray, y_test: np.ndarray, samples: int
) -> dict:
    """Test digits redrawn on a 280x280 canvas, read through the app's pipeline: the digit
    read right (the page offers it even when it says "not a digit"), and how often it says so."""
    predicted, flagged, labels, setups = [], [], [], []
    drawings = random_drawings(x_test[:samples], y_test[:samples], seed=SEED)
    while chunk := list(itertools.islice(drawings, CANVAS_CHUNK)):  # 313 kB a canvas
        readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba, _, _ in chunk])
        predicted += [-1 if reading is None else reading.digit for reading in readings]
        flagged += [reading is not None and not reading.is_digit for reading in readings]
        labels += [label for _, label, _ in chunk]
        setups += [setup for _, _, setup in chunk]
    correct = np.array(predicted) == np.array(labels)
    by_setup = {
        setup: float(correct[[s == setup for s in setups]].mean()) for setup in sorted(set(setups))
    }
    return {
        "accuracy": float(correct.mean()),
        "samples": len(labels),
        "by_colour_setup": by_setup,
        "digits_flagged": float(np.mean(flagged)),
    }


def pen_figures(classifier: digit_model.Classifier, validation: unipen.PenCharacters) -> dict:
    """Validation writers' pen digits: read per site, flagged, calibrated; their letters flagged."""
    rng = np.random.default_rng(SEED)
    digits = validation.subset(validation.is_digit)
    probabilities, is_digit = classifier.read(drawn(digits.segments, rng))
    correct = probabilities.argmax(axis=1) == digits.digits
    others = validation.subset(validation.is_other)
    _, other_is_digit = classifier.read(drawn(others.segments, rng))
    letters = np.char.isalpha(others.label.astype(str))
    letters_flagged = ~other_is_digit[letters]
    letter_sites = others.site[letters]
    generated = generated_not_digits(digits, rng, 200)
    kinds = [*GENERATORS, "unfinished stroke"]
    generated_flagged = ~classifier.is_digit(generated)
    return {
        "accuracy": float(correct.mean()),
        "samples": len(correct),
        "writers": len(set(digits.writer)),
        "by_site": {
            site: float(correct[digits.site == site].mean()) for site in sorted(set(digits.site))
        },
        "digits_flagged": float((~is_digit).mean()),
        "letters_flagged": float(letters_flagged.mean()),
        "letters": int(letters.sum()),
        "letters_by_site": {
            site: float(letters_flagged[letter_sites == site].mean())
            for site in sorted(set(letter_sites))
        },
        "symbols_flagged": float((~other_is_digit[~letters]).mean()),
        "symbols": int((~letters).sum()),
        "generated_flagged": {
            kind: float(flags.mean()) for kind, flags in zip(kinds, np.split(generated_flagged, 5))
        },
        "calibration": calibration(probabilities, digits.digits),
    }


def style_figures(
    classifier: digit_model.Classifier, x_test: np.ndarray, y_test: np.ndarray
) -> dict:
    """Accuracy on MNIST test digits redrawn in each synthesized style."""
    rng = np.random.default_rng(SEED)
    sources = mnist_segments(x_test, y_test, STYLE_TEST_SAMPLES)
    images, digits, names = styled(sources, rng, STYLE_TEST_SAMPLES)
    correct = classifier.predict_proba(images).argmax(axis=1) == digits
    return {name: float(correct[names == name].mean()) for name in STYLES}


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(10, 10): how often each digit written (row) was read as each digit (column)."""
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    return confusion


def source_figures(
    classifier: digit_model.Classifier,
    source: Source,
    probabilities: np.ndarray,
    is_digit: np.ndarray,
) -> dict:
    """One unseen source, its digits already read: digits read right, digits taken for no
    digit (per digit), letters flagged, and which digit each letter let through was read as."""
    letters = classifier.read_all(source.letters, second_look=False)
    flagged_letters = ~letters.is_digit
    let_through = letters.probabilities[letters.is_digit].argmax(axis=1)
    through_labels = source.letter_labels[letters.is_digit]
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": float((predicted == source.labels).mean()),
        "samples": len(source.labels),
        "writers": source.writers,
        "digits_flagged": float((~is_digit).mean()),
        "flagged_by_digit": np.bincount(source.labels[~is_digit], minlength=10).tolist(),
        "confusion_matrix": confusion_matrix(source.labels, predicted).tolist(),
        "letters_flagged": float(flagged_letters.mean()) if len(source.letters) else None,
        "letters": len(source.letters),
        "letters_read_as": {
            str(letter): np.bincount(let_through[through_labels == letter], minlength=10).tolist()
            for letter in sorted(set(through_labels))
        }
        if len(source.letters)
        else None,
    }


def unseen_figures(classifier: digit_model.Classifier, sources: dict[str, Source]) -> dict:
    """Each unseen source's figures, and the calibration over all their digits together;
    every source's digits are read once."""
    if not sources:
        return {"unseen_sources": None, "unseen_calibration": None}
    readings = {name: classifier.read(source.digits) for name, source in sources.items()}
    probabilities = np.concatenate([read[0] for read in readings.values()])
    labels = np.concatenate([source.labels for source in sources.values()])
    return {
        "unseen_sources": {
            name: source_figures(classifier, source, *readings[name])
            for name, source in sources.items()
        },
        "unseen_calibration": calibration(probabilities, labels),
    }


def evaluate(
    model_path: Path,
    x_test: np.ndarray,
    y_test: np.ndarray,
    canvas_samples: int,
    pen: unipen.PenCharacters | None,
    unseen: dict[str, Source],
) -> dict:
    """MNIST test, canvas-style, pen validation writers, unseen sources, styles, not-a-digit
    and calibration."""
    classifier = digit_model.load(model_path)
    probabilities, is_digit = classifier.read(x_test.astype(np.float32) / 255.0)
    predicted = probabilities.argmax(axis=1)
    confusion = confusion_matrix(y_test, predicted)
    return {
        "test_accuracy": float((predicted == y_test).mean()),
        "test_samples": len(y_test),
        "test_flagged": float((~is_digit).mean()),
        "test_calibration": calibration(probabilities, y_test),
        "per_digit_accuracy": (confusion.diagonal() / confusion.sum(axis=1)).round(4).tolist(),
        "confusion_matrix": confusion.tolist(),
        "parameters": int(classifier.model.count_params()),
        "file_size_bytes": model_path.stat().st_size,
        "temperature": round(
            1 / float(classifier.model.get_layer(digit_model.CALIBRATED_LAYER).scale), 4
        ),
        "canvas": canvas_accuracy(classifier, x_test, y_test, canvas_samples)
        if canvas_samples
        else None,
        "styles": style_figures(classifier, x_test, y_test),
        "pen": pen_figures(classifier, pen) if pen is not None else None,
        **unseen_figures(classifier, unseen),
        "scanned": scanned_figures(classifier, unseen[CVL_VALID]) if CVL_VALID in unseen else None,
    }


def source_summary(source: dict) -> str:
    """One source's figures in a line: digits read right, commonest misreads, digits flagged,
    letters flagged and those commonest let through."""
    letters = source["letters_flagged"]
    let_through = commonest_letters_read(source["letters_read_as"])
    return (
        f"{source['accuracy']:.2%} of {source['samples']} digits by {source['writers']} "
        f"writers (misread: {commonest_misreads(source['confusion_matrix'])}); "
        f"{source['digits_flagged']:.2%} flagged"
        + (
            f"; letters flagged {letters:.2%}, let through {let_through}"
            if letters is not None
            else ""
        )
    )


def report(metrics: dict) -> None:
    """Print the figures a person checks after training or evaluation."""
    lines = [
        (
            "test accuracy",
            f"{metrics['test_accuracy']:.2%} on {metrics['test_samples']} MNIST digits",
        ),
        (
            "per digit",
            "  ".join(f"{d}:{a:.2%}" for d, a in enumerate(metrics["per_digit_accuracy"])),
        ),
        ("  flagged not a digit", f"{metrics['test_flagged']:.2%}"),
        ("  calibration error", f"{metrics['test_calibration']['ece']:.2%}"),
    ]
    if metrics.get("canvas"):
        canvas = metrics["canvas"]
        lines.append(("canvas-style", f"{canvas['accuracy']:.2%} on {canvas['samples']} drawings"))
        lines += [
            (f"  {setup}", f"{share:.2%}") for setup, share in canvas["by_colour_setup"].items()
        ]
        lines.append(("  flagged not a digit", f"{canvas['digits_flagged']:.2%}"))
    if metrics.get("pen"):
        pen = metrics["pen"]
        lines.append(
            (
                "pen digits",
                f"{pen['accuracy']:.2%} on {pen['samples']} digits of {pen['writers']} "
                "held-out writers",
            )
        )
        lines += [(f"  {site}", f"{share:.2%}") for site, share in pen["by_site"].items()]
        lines.append(("  flagged not a digit", f"{pen['digits_flagged']:.2%}"))
        lines.append(("  calibration error", f"{pen['calibration']['ece']:.2%}"))
        lines.append(
            ("letters flagged", f"{pen['letters_flagged']:.2%} of {pen['letters']} letters")
        )
        lines += [(f"  {site}", f"{share:.2%}") for site, share in pen["letters_by_site"].items()]
        lines.append(
            ("symbols flagged", f"{pen['symbols_flagged']:.2%} of {pen['symbols']} symbols")
        )
        lines += [(f"  {kind}", f"{share:.2%}") for kind, share in pen["generated_flagged"].items()]
    if metrics.get("unseen_sources"):
        lines.append(("unseen sources", "no writer and no site of them in training"))
        lines += [
            (f"  {name}", source_summary(source))
            for name, source in metrics["unseen_sources"].items()
        ]
        ece = metrics["unseen_calibration"]["ece"]
        lines.append(("  calibration error", f"{ece:.2%}"))
    if metrics.get("scanned"):
        lines.append(("scanned again", f"{CVL_VALID} at fewer pixels across, as the page reads"))
        scans = metrics["scanned"].items()
        lines += [(f"  {side}", source_summary(source)) for side, source in scans]
    lines.append(("styles", f"on {STYLE_TEST_SAMPLES} MNIST test digits each"))
    lines += [(f"  {name}", f"{share:.2%}") for name, share in metrics["styles"].items()]
    lines.append(("temperature", f"{metrics['temperature']:.2f}"))
    lines.append(("parameters", f"{metrics['parameters']:,}"))
    lines.append(("file size", f"{metrics['file_size_bytes'] / 1e6:.2f} MB"))
    if "training_seconds" in metrics:
        minutes = metrics["training_seconds"] / 60
        lines.append(("training", f"{metrics['epochs']} epochs in {minutes:.1f} min"))
    for name, value in lines:
        print(f"{name:<24}{value}")


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


def calibrate(trained: keras.Model, unseen: dict[str, Source]) -> keras.Model:
    """The inference model with a temperature and a not-a-digit threshold fitted on the unseen
    sources (see `not_digit_offset`)."""
    logits = training_model(trained)
    per_source = [
        (logits.predict(source.digits, batch_size=1024, verbose=0), source.labels)
        for source in unseen.values()
    ]
    temperature = fit_temperature(
        np.concatenate([scores[:, :NOT_A_DIGIT] for scores, _ in per_source]),
        np.concatenate([labels for _, labels in per_source]),
    )
    offset = not_digit_offset([not_digit_margin(scores) for scores, _ in per_source])
    print(f"temperature {temperature:.2f}, not-a-digit offset {offset:.2f}")
    model = build_model(temperature, offset)
    model.set_weights(trained.get_weights())
    return model


def compiled_for_training(model: keras.Model, optimizer: keras.Optimizer) -> keras.Model:
    """The model's eleven-logit view, compiled with the loss and metric training and
    fine-tuning share."""
    trainable = training_model(model)
    trainable.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=LABEL_SMOOTHING
        ),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return trainable


def save_and_record(
    model: keras.Model,
    args: argparse.Namespace,
    x_test: np.ndarray,
    y_test: np.ndarray,
    held_out: tuple[unipen.PenCharacters | None, dict[str, Source]],
    base: dict,
    **recorded: object,
) -> None:
    """Measure the model, then put it and its figures in place together, and print the figures.

    The minutes of measuring happen on a side file, so a crash or Ctrl-C meanwhile leaves the
    model before and its own figures in place (and the new network in the side file).
    """
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.stem + ".partial.keras")
    model.save(partial)
    metrics = {
        **base,
        **evaluate(partial, x_test, y_test, args.canvas_samples, *held_out),
        **recorded,
    }
    checked = digit_model.ModelMetrics.from_dict(metrics)
    os.replace(partial, args.out)
    checked.write(digit_model.metrics_path(args.out))
    report(metrics)


def held_out_sets(
    pen_path: str | None, cvl_path: str | None
) -> tuple[unipen.PenCharacters | None, dict[str, Source]]:
    """What training keeps out of the given files: writers of trained-on UNIPEN sites, and the
    unseen sources (UNSEEN_SITES and CVL's validation writers)."""
    pen = pen_split(pen_path) if pen_path else None
    cvl_valid = cvl.load(cvl_path, "valid") if cvl_path else None
    unseen = unseen_sources(pen.unseen_sites if pen else None, cvl_valid, SPLIT_SEED)
    return (pen.seen_sites if pen else None), unseen


def deterministic(seed: int) -> None:
    """Seed every generator and make TensorFlow's ops repeat exactly: one seed, one model."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def fit_new_model(
    x: np.ndarray, y: np.ndarray, epochs: int, validation: tuple[np.ndarray, np.ndarray] | None
) -> tuple[keras.Model, keras.callbacks.History]:
    """A new network trained on (x, y): warm-up, cosine decay, and early stopping on the
    validation drawings when there are any."""
    steps = math.ceil(len(x) / BATCH_SIZE) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        PEAK_LEARNING_RATE / 20,
        decay_steps=max(1, steps - steps // epochs),
        warmup_target=PEAK_LEARNING_RATE,
        warmup_steps=steps // epochs,
    )
    model = build_model()
    trainable = compiled_for_training(
        model, keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY)
    )
    trainable.summary()
    history = trainable.fit(
        make_dataset(x, y, training=True),
        validation_data=make_dataset(*validation, training=False) if validation else None,
        epochs=epochs,
        shuffle=False,  # the dataset shuffles itself, seeded
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy", patience=PATIENCE, restore_best_weights=True
            )
        ]
        if validation
        else [],
    )
    return model, history


def train(args: argparse.Namespace) -> None:
    """Train from scratch, calibrate, save the model without optimizer state, write its metrics."""
    deterministic(args.seed)
    started = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    pen = pen_split(args.pen)
    cvl_train, cvl_valid = cvl.load(args.cvl, "train"), cvl.load(args.cvl, "valid")
    share = 1.0
    if args.limit:  # a quick run: every data set cut in proportion
        share = min(1.0, args.limit / len(x_train))
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
        rng = np.random.default_rng(args.seed)
        pen = PenSplit(*(part.subset(rng.random(len(part.label)) < share) for part in pen))
        cvl_train, cvl_valid = (
            part.subset(rng.random(len(part.digits)) < share) for part in (cvl_train, cvl_valid)
        )
    unseen = unseen_sources(pen.unseen_sites, cvl_valid, SPLIT_SEED)
    validation_size = min(VALIDATION_SIZE, len(x_train) // 10)
    order = np.random.default_rng(args.seed).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    x_val, y_val = validation_set(
        x_train[:validation_size], y_train[:validation_size], pen.seen_sites, unseen
    )
    x_train, y_train = training_set(
        x_train[validation_size:],
        y_train[validation_size:],
        pen.train,
        cvl_train,
        share,
        args.canvas_train,
        args.seed,
    )
    print(f"{len(x_train)} training and {len(x_val)} validation drawings")
    model, history = fit_new_model(x_train, y_train, args.epochs, (x_val, y_val))
    inference = calibrate(model, unseen)
    save_and_record(
        inference,
        args,
        x_test,
        y_test,
        (pen.seen_sites, unseen),
        base={},
        epochs=len(history.history["loss"]),
        training_seconds=round(time.perf_counter() - started, 1),
        training_samples=len(x_train),
        validation_samples=len(x_val),
        history={
            name: [round(float(v), 5) for v in values] for name, values in history.history.items()
        },
        architecture=[
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output": str(layer.output.shape),
                "parameters": layer.count_params(),
            }
            for layer in inference.layers
        ],
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=args.seed,
    )


def leave_one_site_out(args: argparse.Namespace) -> None:
    """Per UNIPEN site, a quick model trained with that site left out whole reads the site:
    what the recipe gets at a place it never saw. Recorded in the metrics beside --model."""
    pen = unipen.load(args.pen)
    there = sorted(set(pen.site))
    sites = args.site or there
    if unknown := set(sites) - set(there):
        sys.exit(f"{args.pen} has no site {', '.join(sorted(unknown))}; it has {', '.join(there)}.")
    metrics = metrics_to_add_to(args.model)
    (x_train, y_train), _ = load_mnist(args.data)
    cvl_train = cvl.load(args.cvl, "train")
    calibration_source = unseen_sources(None, cvl.load(args.cvl, "valid"), SPLIT_SEED)
    limit = min(args.limit or FOLD_LIMIT, len(x_train))
    share = limit / len(x_train)
    mnist = np.random.default_rng(args.seed).permutation(len(x_train))[:limit]
    folds = {}
    for site in sites:
        print(f"Leaving out {site}: training on the other sites ...")
        deterministic(args.seed)
        left_out = pen.site == site
        # A site training holds out anyway is drawn exactly as `evaluate` draws it.
        drawn_with = UNSEEN_SITES if site in UNSEEN_SITES else (site,)
        source = unseen_sources(pen, None, SPLIT_SEED, drawn_with)[f"UNIPEN {site}"]
        x, y = training_set(
            x_train[mnist],
            y_train[mnist],
            pen.subset(~left_out),
            cvl_train,
            share,
            round(args.canvas_train * share),
            args.seed,
        )
        model, _ = fit_new_model(x, y, args.epochs, validation=None)
        # Fitted on CVL's validation writers alone: the site left out is only read.
        classifier = digit_model.Classifier(calibrate(model, calibration_source))
        folds[site] = source_figures(classifier, source, *classifier.read(source.digits))
        print(f"{site} left out: {source_summary(folds[site])}")
    record_folds(args.model, metrics.trained_at, args.epochs, limit, folds)


def record_folds(
    model_path: Path, trained_at: str, epochs: int, mnist_digits: int, folds: dict
) -> None:
    """Print the sites' figures and add them to the model's metrics, beside earlier sites
    measured with models of the same size, and beside those of other sizes; not if the model
    was retrained meanwhile."""
    print(f"each site left out in turn ({epochs} epochs, {mnist_digits} MNIST digits)")
    for site, fold in folds.items():
        print(f"  {site:<6}{source_summary(fold)}")
    accuracy = np.mean([fold["accuracy"] for fold in folds.values()])
    flagged = np.mean([fold["digits_flagged"] for fold in folds.values()])
    print(f"  mean  {accuracy:.2%} read right, {flagged:.2%} flagged")
    together = pooled([SourceFigures(**fold) for fold in folds.values()])
    print(f"  all   {source_summary(asdict(together))}")
    data = unchanged_metrics(model_path, trained_at).to_dict()
    by_size = {(r["mnist_digits"], r["epochs"]): r for r in data["leave_one_site_out"] or []}
    if earlier := by_size.get((mnist_digits, epochs)):
        folds = {**earlier["sites"], **folds}
    by_size[mnist_digits, epochs] = {
        "epochs": epochs,
        "mnist_digits": mnist_digits,
        "sites": dict(sorted(folds.items())),
    }
    records = [by_size[size] for size in sorted(by_size)]
    path = digit_model.metrics_path(model_path)
    digit_model.ModelMetrics.from_dict({**data, "leave_one_site_out": records}).write(path)
    print(f"Recorded in {path}")


def metrics_to_add_to(model_path: Path) -> digit_model.ModelMetrics:
    """The metrics beside a model, for figures measured later; exits saying why without."""
    try:
        metrics = digit_model.load_metrics(model_path)
    except ValueError as error:
        sys.exit(str(error))
    if metrics is None:
        sys.exit(f"No metrics beside {model_path} to add the figures to; train a model first.")
    return metrics


def unchanged_metrics(model_path: Path, trained_at: str) -> digit_model.ModelMetrics:
    """The metrics beside a model, unless it was retrained since `trained_at`: then exits."""
    metrics = digit_model.load_metrics(model_path)
    if metrics is None or metrics.trained_at != trained_at:
        sys.exit(f"{model_path} was retrained meanwhile: the figures above are not recorded.")
    return metrics


def record_figures(model_path: Path, trained_at: str, figures: dict) -> None:
    """Write a model's figures, measured again, into its metrics, keeping how it was trained:
    after a change to how drawings are read, without training the same network again."""
    metrics = unchanged_metrics(model_path, trained_at)
    path = digit_model.metrics_path(model_path)
    digit_model.ModelMetrics.from_dict({**metrics.to_dict(), **figures}).write(path)
    print(f"Recorded in {path}")


def feedback_from_database() -> tuple[np.ndarray, np.ndarray]:
    """Every label in the database the app is configured with, found and opened as the app
    does (DIGIT_FEEDBACK_DB_URL, DATABASE_URL, .streamlit/secrets.toml, else feedback.db;
    with secrets.toml's engine settings)."""
    secrets = tomllib.loads(SECRETS_FILE.read_text()) if SECRETS_FILE.is_file() else None
    store = None
    try:
        store = feedback_store.configured_store(secrets)
        return feedback_export.training_arrays(store.rows())
    except feedback_store.StorageUnavailable as error:
        where = f" ({store.engine.url.render_as_string(hide_password=True)})" if store else ""
        raise ValueError(f"{error} The feedback database{where}: {error.reason}") from error
    finally:
        if store is not None:  # no connection stays open through the training that follows
            store.engine.dispose()


def load_feedback(path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Labelled drawings: x (N, 28, 28) uint8 and y (N,) true digits, from the History tab's
    .npz, or without a path straight from the app's feedback database."""
    if path is None:
        source = "The feedback database"
        x, y = feedback_from_database()
    else:
        source = str(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                x, y = data["x"], data["y"]
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as error:
            raise ValueError(
                f"{path} is not a feedback data set ({error}); download one from the History tab."
            ) from error
    if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise ValueError(
            f"{source} holds x {x.shape} {x.dtype} and y {y.shape}; expected x (N, 28, 28) "
            "uint8 and y (N,), as the History tab exports them."
        )
    if not np.isin(y, np.arange(10)).all():
        raise ValueError(f"{source} has true digits outside 0-9.")
    if len(x) < feedback_export.MIN_FEEDBACK:
        raise ValueError(
            f"{source} holds {len(x)} labelled drawings; "
            f"fine-tuning needs at least {feedback_export.MIN_FEEDBACK}."
        )
    return x, y


def accuracy_of(classifier: digit_model.Classifier, x: np.ndarray, y: np.ndarray) -> float:
    """Share of uint8 images the classifier reads as their label."""
    return float((classifier.predict_proba(x / np.float32(255)).argmax(axis=1) == y).mean())


def finetune(args: argparse.Namespace) -> None:
    """Fine-tune the current model on feedback mixed with MNIST; write it only if MNIST holds."""
    deterministic(args.seed)
    try:
        x_feedback, y_feedback = load_feedback(args.feedback)
        classifier = digit_model.load(args.model, threads=None)
        trained = digit_model.load_metrics(args.model)  # kept: how the model was trained
    except (ValueError, digit_model.ModelUnavailable) as error:
        sys.exit(str(error))
    if trained is None:
        sys.exit(
            f"No metrics beside {args.model}: fine-tuning keeps the record of how the model was "
            f"trained. Retrain with `{digit_model.train_command(args.model)}`, or restore "
            "model.metrics.json with git."
        )
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)

    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x_feedback))
    held_out = order[: max(1, round(FEEDBACK_HOLDOUT * len(order)))]
    tuning = order[len(held_out) :]
    mnist = rng.permutation(len(x_train))[: args.limit or FINETUNE_MNIST]
    repeats = max(1, round(FEEDBACK_SHARE / (1 - FEEDBACK_SHARE) * len(mnist) / len(tuning)))
    x_mix = np.concatenate([x_train[mnist], np.tile(x_feedback[tuning], (repeats, 1, 1))])
    y_mix = np.concatenate([y_train[mnist], np.tile(y_feedback[tuning], repeats)])

    def measure() -> dict:
        return {
            "feedback": accuracy_of(classifier, x_feedback[held_out], y_feedback[held_out]),
            "mnist": accuracy_of(classifier, x_test, y_test),
        }

    before = measure()
    model = classifier.model
    for layer in model.layers:  # keep the normalisation statistics learnt on all of MNIST
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    trainable = compiled_for_training(model, keras.optimizers.Adam(args.learning_rate))
    print(
        f"Fine-tuning on {len(tuning)} feedback drawings (x{repeats}) "
        f"and {len(mnist)} MNIST digits ..."
    )
    trainable.fit(
        make_dataset(x_mix / np.float32(255), y_mix, training=True),
        epochs=args.epochs,
        shuffle=False,
    )
    after = measure()  # the classifier reads the same, now fine-tuned, weights

    print(
        f"held-out feedback  {before['feedback']:.2%} -> {after['feedback']:.2%} "
        f"on {len(held_out)} drawings"
    )
    print(
        f"MNIST test         {before['mnist']:.2%} -> {after['mnist']:.2%} on {len(y_test)} digits"
    )
    if before["mnist"] - after["mnist"] > MAX_MNIST_DROP:
        sys.exit(
            f"MNIST test accuracy fell by {before['mnist'] - after['mnist']:.2%}, more than "
            f"{MAX_MNIST_DROP:.1%}; {args.out} was not written. "
            "Try fewer --epochs or a lower --learning-rate."
        )

    # The fine-tuned model keeps its temperature and not-a-digit threshold.
    save_and_record(
        model,
        args,
        x_test,
        y_test,
        held_out_sets(args.pen, args.cvl),
        # The sites left out measured the recipe the base model was trained by, not this one.
        base={**trained.to_dict(), "leave_one_site_out": None},
        finetune={
            "feedback_samples": len(x_feedback),
            "held_out": len(held_out),
            "mnist_digits": len(mnist),
            "epochs": args.epochs,
            "learning_rate": args.learning_rate,
            "feedback_accuracy_before": before["feedback"],
            "feedback_accuracy_after": after["feedback"],
            "mnist_test_accuracy_before": before["mnist"],
            "mnist_test_accuracy_after": after["mnist"],
            "finetuned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    print(f"Wrote {args.out}")


def main(argv: list[str] | None = None) -> None:
    """Train, evaluate, fine-tune or leave sites out, as the command line says."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode", nargs="?", choices=["train", "evaluate", "finetune", "sites"], default="train"
    )
    parser.add_argument(
        "--data", help="MNIST .npz in Keras's layout (default: download with Keras)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=digit_model.DEFAULT_PATH,
        help="model file to write (train, finetune) or evaluate",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="model file to evaluate, fine-tune or add the sites' figures to (default: --out)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help=f"default: {EPOCHS}, {FINETUNE_EPOCHS} for finetune, {FOLD_EPOCHS} for sites",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=0,
        help="train on only the first N training digits (quick runs); finetune mixes in "
        f"N random ones ({FINETUNE_MNIST} by default), sites trains each model on N "
        f"({FOLD_LIMIT} by default)",
    )
    parser.add_argument(
        "--site",
        action="append",
        help="sites: leave out only this UNIPEN site (repeat for more; default: every site)",
    )
    parser.add_argument(
        "--pen",
        help="UNIPEN pen handwriting .npz (unipen_dev.npz): needed to train, reported on if given",
    )
    parser.add_argument(
        "--cvl",
        help="CVL single digits .npz (cvl_dev.npz): needed to train, reported on if given",
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        help="finetune: the History tab's .npz (default: read the app's feedback database)",
    )
    parser.add_argument(
        "--learning-rate", type=float, default=FINETUNE_LEARNING_RATE, help="finetune only"
    )
    parser.add_argument(
        "--canvas-train",
        type=int,
        default=CANVAS_TRAIN,
        help="training digits also redrawn as canvas strokes and added (0: none)",
    )
    parser.add_argument(
        "--canvas-samples",
        type=int,
        default=CANVAS_SAMPLES,
        help="canvas-style drawings to evaluate on (0: skip)",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="evaluate: write the figures into the model's metrics, keeping its training "
        "record (needs --pen, --cvl and canvas samples, so that every figure is measured)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    args.model = args.model or args.out
    if args.epochs is None:
        args.epochs = {"finetune": FINETUNE_EPOCHS, "sites": FOLD_EPOCHS}.get(args.mode, EPOCHS)

    if args.mode == "evaluate":
        if args.record and not (args.pen and args.cvl and args.canvas_samples):
            parser.error("--record needs --pen, --cvl and canvas samples: every figure measured")
        trained_at = metrics_to_add_to(args.model).trained_at if args.record else None
        _, (x_test, y_test) = load_mnist(args.data)
        held_out = held_out_sets(args.pen, args.cvl)
        try:
            metrics = evaluate(args.model, x_test, y_test, args.canvas_samples, *held_out)
        except digit_model.ModelUnavailable as error:
            sys.exit(str(error))
        report(metrics)
        if trained_at is not None:
            record_figures(args.model, trained_at, metrics)
    elif args.mode == "finetune":
        finetune(args)
    else:
        if args.pen is None or args.cvl is None:
            parser.error(
                f"{args.mode} needs --pen unipen_dev.npz and --cvl cvl_dev.npz: real "
                "handwriting to learn from and to validate on"
            )
        if args.mode == "sites":
            leave_one_site_out(args)
        else:
            train(args)


if __name__ == "__main__":
    main()
