"""CVL's validation digits as scanned, and in the cells of a form: with the cell's border round
them, on lined paper with a line through or under them, and on squared paper. Each is read
through the app's pipeline (`reading.read_digits`), beside the same digits without lines in
the same run. Then digits photographed on plain, lined and squared paper, level and turned
3 degrees, read as the page reads a photo (`reading.read_image_bytes`, as a number).

    python benchmarks/bench_forms.py [--digits 2000] [--photos 300] [--cvl ../shared/cvl_dev.npz]

Prints the share read right (the digit the page shows, not withheld), the share withheld
("not a digit", or too small: the page shows no digit for it), and for scans the median
(p50) and p90 milliseconds to prepare one drawing's 28x28 input.
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
from devtools.datasets import CVL_PATH
from devtools.pictures import FORM_LINES, on_a_form, scan_photographed
from devtools.timing import p50_p90, timed
from preprocess import prepare
from reading import read_digits, read_image_bytes
from training import cvl

PAPERS = ("plain", "lined", "squared")
SLANTS = (0.0, 3.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--digits", type=int, default=2000)
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--cvl", default=str(CVL_PATH))
    args = parser.parse_args()

    digits = cvl.load(args.cvl, "valid")
    chosen = np.random.default_rng(0).permutation(len(digits.digits))[: args.digits]
    images, labels = digits.images[chosen], digits.digits[chosen]
    classifier = digit_model.load()
    kinds = {"as scanned": [image / np.float32(255) for image in images]}
    for lines in FORM_LINES:
        rng = np.random.default_rng(1)
        kinds[f"form, {lines}"] = [on_a_form(image, rng, lines) for image in images]

    print(f"{'CVL valid, ' + str(len(labels)) + ' digits':24s} read   withheld prepare p50  p90 ms")
    for name, inks in kinds.items():
        readings = read_digits(classifier, inks)
        right = np.mean([not r.withheld and r.digit == d for r, d in zip(readings, labels)])
        withheld = np.mean([bool(r.withheld) for r in readings])
        p50, p90 = p50_p90(timed(prepare, inks, warm_up=0))
        print(f"{name:24s} {right:6.2%} {withheld:7.2%}  {p50:10.3f} {p90:6.3f}")

    photos, photo_labels = images[: args.photos], labels[: args.photos]
    print(f"\n{'photographed, ' + str(len(photo_labels)) + ' digits':30s} read   withheld not one")
    for paper in PAPERS:
        for slant in SLANTS if paper != "plain" else (0.0,):
            rng = np.random.default_rng(5)
            readings = [
                read_image_bytes(classifier, scan_photographed(image, rng, paper, slant), "number")
                for image in photos
            ]
            ones = [r.digits[0] if r is not None and len(r.digits) == 1 else None for r in readings]
            right = np.mean(
                [
                    d is not None and not d.withheld and d.digit == y
                    for d, y in zip(ones, photo_labels)
                ]
            )
            withheld = np.mean([d is not None and bool(d.withheld) for d in ones])
            not_one = np.mean([d is None for d in ones])
            name = f"{paper}, turned {slant:g} degrees"
            print(f"{name:30s} {right:6.2%} {withheld:7.2%} {not_one:7.2%}")


if __name__ == "__main__":
    main()
