"""How often a whole number is read as written: on the canvas and photographed, without a
mark, with a decimal point or comma (in a gap, or close after a digit), with a minus sign,
and in digits of mixed sizes.

    python benchmarks/bench_numbers.py [--numbers 300] [--photos 60]

Numbers are 2 to 6 MNIST test digits written as canvas strokes on the 700x280 canvas
(`devtools.numbers.random_numbers`: thin to thick pens, every colour set-up, a quarter of
digits in two strokes); with a point or comma, one gap is wider and holds it, drawn with
the same pen, in the middle of the gap or written close (a tenth of the height, and the
pen's width, after the foot of the digit before it: often under the edge of that digit's
box); a minus sign is a short level stroke before the first digit. Digits of mixed sizes
are the numbers without a mark, each digit 0.6 to 1.4 times as tall as there and its foot
up to 0.4 of that height off the line, as a hurried hand writes. Photos are such numbers on
unevenly lit paper, saved as phone JPEGs. To judge the splitting and not the model, a
number counts as read as written when its digits are what the model reads from each digit
drawn alone, with its mark in its place. Also printed: the numbers that got a mark where
none was written (placed by the digits' columns as written). Digits never touch here.

"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image

import digit_model
from devtools.datasets import mnist
from devtools.numbers import WrittenNumber, digits_read, marks_in, random_numbers
from devtools.pictures import random_phone_jpeg
from preprocess import canvas_to_ink
from reading import read_digits, read_image_bytes, read_number

MIXED_SIZES = 0.4  # each digit's height and foot vary by up to this fraction of the height
CLOSE = 0.1  # a point or comma written close stands this much of the height after a digit's foot


def expected(classifier: digit_model.Classifier, number: WrittenNumber, text: str) -> str:
    """What the model reads from each digit drawn alone, with the text's marks."""
    alone = iter(read_digits(classifier, [canvas_to_ink(rgba) for rgba in number.alone]))
    return "".join(str(next(alone).digit) if label.isdigit() else label for label in text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--numbers", type=int, default=300, help="numbers on the canvas")
    parser.add_argument("--photos", type=int, default=60, help="photographed numbers")
    args = parser.parse_args()

    classifier = digit_model.load()
    images, labels = mnist("test")
    print(f"{'':38s} {'numbers':>8s} {'as written':>11s} {'a mark not written':>19s}")
    for marks, name in (
        ({}, "without a mark"),
        ({"mark_share": 1.0}, "with a point or comma"),
        ({"mark_share": 1.0, "after_foot": CLOSE}, "with a point or comma, close"),
        ({"sign_share": 1.0}, "with a minus sign"),
        ({"wobble": MIXED_SIZES}, "of mixed sizes"),
    ):
        for kind, count in (("canvas", args.numbers), ("photo", args.photos)):
            rng = np.random.default_rng(8)
            right = unwritten = 0
            for index, (number, text) in enumerate(
                random_numbers(images, labels, seed=40, count=count, touch=0.0, lift=0.25, **marks)
            ):
                scale = 1.0
                if kind == "canvas":
                    reading = read_number(classifier, canvas_to_ink(number.rgba))
                else:
                    data = random_phone_jpeg(canvas_to_ink(number.rgba), rng, seed=index)
                    reading = read_image_bytes(classifier, data, "number")
                    scale = Image.open(io.BytesIO(data)).width / number.rgba.shape[1]
                right += digits_read(reading) == expected(classifier, number, text)
                unwritten += any(
                    mark not in marks_in(text)
                    for mark in number.placed(reading.marks if reading else (), scale)
                )
            print(f"{kind + ', ' + name:34s} {count:8d} {right:11d} {unwritten:19d}")


if __name__ == "__main__":
    main()
