"""Time reading a number, a photo and the "why" heat-map, each beside one digit's reading.

    python benchmarks/bench_beyond.py [--numbers 100] [--photos 30] [--runs 200]

Prints median (p50) and p90 in milliseconds. Numbers are 2 to 6 MNIST test digits written
as canvas strokes on the 700x280 canvas, each read once as a whole, the first time its ink
is seen, and read again after each of its digits is written, as the page reads a number
on every stroke (what was kept for its earlier strokes is used), and read a second time as
a rerun of the page reads it; photos are such numbers on unevenly lit paper,
saved as phone JPEGs of 1,400 to 2,800 px; the heat-map is made for the 28x28 inputs of
canvas drawings. The baseline, measured in the same run, is one digit drawn on the 280x280
canvas read the way the page reads it on every stroke. Last, inside a Streamlit script run,
the one thing one-digit mode now does on each stroke besides reading: the "Why this
answer?" toggle, left off.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from streamlit.testing.v1 import AppTest

import digit_model
from devtools.datasets import mnist
from devtools.numbers import random_numbers
from devtools.pictures import encoded, paper_photo
from devtools.timing import p50_p90, timed
from preprocess import canvas_to_ink
from reading import explain, read_drawing, read_image_bytes, read_number, segment
from reading.photo import read_upload
from training.canvas_drawings import random_drawings


def toggle_script(pixels: bytes, runs: int) -> None:
    """Runs inside AppTest: the toggle under the answer, and reading the drawing (280x280
    RGBA bytes), timed apart."""

    import time

    import numpy as np
    import streamlit as st

    import digit_model
    import tabs.draw.why
    import webapp
    from preprocess import CANVAS_SIZE
    from reading import read_drawing

    classifier = webapp.load_classifier(str(digit_model.model_path()))
    side = CANVAS_SIZE
    drawing = np.frombuffer(pixels, np.uint8).reshape(side, side, 4)
    toggle, reading = [], []
    for run in range(runs):
        started = time.perf_counter()
        read_drawing(classifier, drawing)
        read = time.perf_counter()
        st.toggle(tabs.draw.why.WHY_TEXT, key=f"why_{run}", help=tabs.draw.why.WHY_HELP)
        toggle.append((time.perf_counter() - read) * 1000)
        reading.append((read - started) * 1000)
    st.session_state["timings"] = {"toggle": toggle, "reading": reading}


Item = TypeVar("Item")


def afresh(read: Callable[[Item], object]) -> Callable[[Item], object]:
    """`read` as if its input was never seen: nothing kept from earlier reads of numbers."""

    def read_afresh(item: Item) -> object:
        segment.forget_recent()
        return read(item)

    return read_afresh


def time_read_again(classifier: digit_model.Classifier, numbers: list[np.ndarray]) -> list[float]:
    """Milliseconds to read each number a second time, as a rerun of the page does."""
    times = []
    for rgba in numbers:
        read_number(classifier, canvas_to_ink(rgba))
        started = time.perf_counter()
        read_number(classifier, canvas_to_ink(rgba))
        times.append((time.perf_counter() - started) * 1000)
    return times


def time_digit_by_digit(
    classifier: digit_model.Classifier, written: list[list[np.ndarray]]
) -> list[float]:
    """Milliseconds to read each number again after each of its digits but the first."""
    times = []
    for canvases in written:
        segment.forget_recent()
        read_number(classifier, canvas_to_ink(canvases[0]))
        for rgba in canvases[1:]:
            started = time.perf_counter()
            read_number(classifier, canvas_to_ink(rgba))
            times.append((time.perf_counter() - started) * 1000)
    return times


def report(rows: dict[str, list[float]]) -> None:
    """Print each timed row's p50 and p90 in milliseconds."""
    width = max(len(name) for name in rows)
    print(f"{'':{width}}  {'p50 ms':>8}  {'p90 ms':>8}")
    for name, times in rows.items():
        p50, p90 = p50_p90(times)
        print(f"{name:{width}}  {p50:8.2f}  {p90:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--numbers", type=int, default=100, help="numbers on the wide canvas")
    parser.add_argument("--photos", type=int, default=30, help="phone photos of numbers")
    parser.add_argument("--runs", type=int, default=200, help="runs of each timing")
    args = parser.parse_args()

    classifier = digit_model.load()
    classifier.warm_up()
    images, labels = mnist("test")
    digits = [rgba for rgba, _, _ in random_drawings(images[:50], labels[:50], seed=3)]
    written = [
        n for n, _ in random_numbers(images, labels, seed=11, count=args.numbers, touch=0, lift=0)
    ]
    numbers = [n.rgba for n in written]
    rng = np.random.default_rng(11)
    photos = [
        encoded(
            paper_photo(canvas_to_ink(number.rgba), scale=rng.uniform(2, 4), seed=index),
            "JPEG",
            quality=int(rng.integers(60, 90)),
        )
        for index, (number, _) in enumerate(
            random_numbers(images, labels, seed=12, count=args.photos, touch=0, lift=0)
        )
    ]
    readings = [read_drawing(classifier, rgba) for rgba in digits[:20]]
    inputs = [(reading.image, reading.digit) for reading in readings]

    rows = {
        "baseline: one digit, 280x280 canvas to answer": timed(
            lambda rgba: read_drawing(classifier, rgba), digits, args.runs
        ),
        "a number, 700x280 canvas to answer, read afresh": timed(
            afresh(lambda rgba: read_number(classifier, canvas_to_ink(rgba))), numbers, args.runs
        ),
        "a number, read again after each digit written": time_digit_by_digit(
            classifier, [number.as_written() for number in written]
        ),
        "a number, the same canvas read again": time_read_again(classifier, numbers),
        "a photo, JPEG bytes to answer": timed(
            afresh(lambda data: read_image_bytes(classifier, data, "number")),
            photos,
            args.photos * 3,
        ),
        "  of which JPEG bytes to ink": timed(read_upload, photos, args.photos * 3),
        "why: heat-map and overlay of one digit": timed(
            lambda item: explain.overlay(item[0], explain.saliency(classifier, *item)),
            inputs,
            args.runs,
        ),
    }
    page = AppTest.from_function(
        toggle_script, args=(digits[0].tobytes(), args.runs), default_timeout=600
    )
    timings = page.run().session_state["timings"]
    rows["in a script run: one-digit reading"] = timings["reading"]
    rows["in a script run: the toggle, off"] = timings["toggle"]
    report(rows)


if __name__ == "__main__":
    main()
