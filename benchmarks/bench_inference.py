"""Time one drawing, canvas RGBA 280x280 -> probabilities, beside plain `model.predict`; the
page's call on a stroke (`read_drawing`: the pipeline, the check for a number written where
one digit is asked for, and the drawing's key); and the whole pipeline again with a
handwriting memory of MEMORY_EXAMPLES examples.

    python benchmarks/bench_inference.py [--runs 500] [--data ../shared/mnist.npz]

Without --data, MNIST is read from ../shared or Keras's cache (`devtools.datasets`).

Prints median (p50) and p90 in milliseconds for each stage and for the whole pipeline,
timed in turn with the `model.predict` baseline in the same run, over canvas-style drawings
of MNIST test digits, and the network's time for a drawing it is unsure of and reads twice.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import digit_model
from devtools.datasets import mnist_path
from devtools.timing import p50_p90, timed_in_turn
from preprocess import canvas_to_ink, normalize, prepare
from reading import HandwritingMemory, read_digit, read_digits, read_drawing
from training.canvas_drawings import random_drawings
from training.datasets import load_mnist

MEMORY_EXAMPLES = 100


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--data", help="MNIST as an .npz (default: ../shared or Keras's cache)")
    args = parser.parse_args()

    _, (x_test, y_test) = load_mnist(args.data or str(mnist_path()))
    canvases = [rgba for rgba, _, _ in random_drawings(x_test[:50], y_test[:50], seed=3)]
    inks = [canvas_to_ink(rgba) for rgba in canvases]
    inputs = [normalize(ink)[None] for ink in inks]
    classifier = digit_model.load()
    # Test digits the network alone is unsure of: these are read a second time, from views.
    pool = x_test[:2000] / np.float32(255)
    first_look = classifier.read_all(pool, second_look=False).probabilities.max(axis=1)
    unsure = [image[None] for image in pool[first_look < digit_model.SURE_ABOVE]]
    memory = HandwritingMemory()
    examples = list(random_drawings(x_test[50 : 50 + MEMORY_EXAMPLES], y_test[50:], seed=4))
    for example, (_, label, _) in zip(
        read_digits(classifier, [canvas_to_ink(rgba) for rgba, _, _ in examples]), examples
    ):
        memory.add(example, label)

    readings = read_digits(classifier, inks)
    calls = {
        "canvas_to_ink": (canvas_to_ink, canvases, args.runs),
        "prepare: input + dot check": (prepare, inks, args.runs),
        "network: read_all": (classifier.read_all, inputs, args.runs),
        "  an unsure drawing": (classifier.read_all, unsure, args.runs if unsure else 0),
        "whole pipeline": (
            lambda rgba: read_digit(classifier, canvas_to_ink(rgba)),
            canvases,
            args.runs,
        ),
        "the page's call": (lambda rgba: read_drawing(classifier, rgba), canvases, args.runs),
        f"pipeline, {len(memory)} examples": (
            lambda rgba: read_digit(classifier, canvas_to_ink(rgba), memory),
            canvases,
            args.runs,
        ),
        "of which the memory": (memory.recall, readings, args.runs),
        "baseline: model.predict": (
            lambda image: classifier.model.predict(image, verbose=0),
            inputs,
            min(args.runs, 200),
        ),
    }
    rows = timed_in_turn(calls)
    print(f"{len(unsure)} of {len(pool)} test digits are read a second time, from views")
    print(f"{'stage':<26}{'p50 ms':>8}{'p90 ms':>8}   ({os.cpu_count()} CPUs, {args.runs} runs)")
    for name, times in rows.items():
        if not times:  # no drawing took that path
            continue
        p50, p90 = p50_p90(times)
        print(f"{name:<26}{p50:>8.2f}{p90:>8.2f}")


if __name__ == "__main__":
    main()
