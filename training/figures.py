"""The figures a model is judged by, read through the app's pipeline: MNIST's test digits,
canvas-style drawings, held-out pen writers, unseen sources, styles, and the unseen sources
scanned again: blurred at fewer pixels across, and black-and-white into coarse grids."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
from PIL import Image

import digit_model
from preprocess import canvas_to_ink, prepare
from reading import read_digits
from training import unipen
from training.calibration import calibration
from training.canvas_drawings import as_inputs, drawn, random_drawings
from training.datasets import generated_not_digits, mnist_segments, styled
from training.fitting import SEED
from training.not_digits import GENERATORS
from training.scans import SCAN_SIDES, binary_scan
from training.sources import CVL_VALID, Source
from training.styles import STYLES

CANVAS_CHUNK = 500  # of them redrawn and read at a time, so that memory stays bounded
STYLE_TEST_SAMPLES = 200  # MNIST test digits redrawn in each style for the report
SCANNED_SIDES = (28, 16, 12)  # CVL's validation digits read again as scans this many pixels across


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


def coarse_scan_figures(
    classifier: digit_model.Classifier, sources: dict[str, Source]
) -> dict[str, dict]:
    """Each held-out source's digits and letters scanned black-and-white into each coarse grid
    (`scans`) and sent scaled up, blocky, read as an upload is: by "source, 16x16"."""
    figures = {}
    for name, source in sources.items():
        for side in SCAN_SIDES:
            readings = read_digits(
                classifier, [binary_scan(image, side) for image in source.digits]
            )
            blank = np.full(10, 0.1, np.float32)
            probabilities = np.stack([blank if r is None else r.probabilities for r in readings])
            is_digit = np.array(
                [r is not None and r.is_digit and not r.too_small for r in readings]
            )
            letters = [prepare(binary_scan(letter, side))[0] for letter in source.letters]
            scanned = dataclasses.replace(source, letters=as_inputs(letters))
            figures[f"{name}, {side}x{side}"] = source_figures(
                classifier, scanned, probabilities, is_digit
            )
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
    classifier: digit_model.Classifier,
    model_path: Path,
    x_test: np.ndarray,
    y_test: np.ndarray,
    canvas_samples: int,
    pen: unipen.PenCharacters | None,
    unseen: dict[str, Source],
) -> dict:
    """MNIST test, canvas-style, pen validation writers, unseen sources, styles, not-a-digit
    and calibration of the classifier loaded from `model_path`."""
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
        "coarse_scans": coarse_scan_figures(classifier, unseen) if unseen else None,
    }
