"""Coarse black-and-white scans sent to the HTTP API: the held-out sources' digits and letters
scanned into a 16x16 or 32x32 grid (`training.scans`), each as a PNG of black writing on
white, sent as the grid itself and scaled up blocky, and read as the API reads an upload
(`reading.read_image_bytes`, one digit).

    python benchmarks/bench_coarse_scans.py [--model model.keras] [--every 1]

Prints, per source, grid and size sent: digits read right, digits refused (no digit given:
"not a digit", too small, or no handwriting found), and letters flagged (no digit given).
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
from devtools.datasets import CVL_PATH, UNIPEN_PATH
from devtools.pictures import png
from reading import read_image_bytes
from training.scans import BLOCK, SCAN_SIDES, binary_scan
from training.sources import held_out_sets


def as_sent(image: np.ndarray, side: int, blocky: bool) -> bytes:
    """A 28x28 character scanned into the grid, as a PNG of black on white: blocky or not."""
    ink = binary_scan(image, side)
    if not blocky:
        ink = ink[::BLOCK, ::BLOCK]
    return png(np.uint8(255 - 255 * ink))


def given(classifier: digit_model.Classifier, data: bytes) -> int | None:
    """The digit the API gives for a picture, None when it gives none."""
    reading = read_image_bytes(classifier, data)
    if reading is None or reading.withheld is not None:
        return None
    return reading.digit


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=digit_model.DEFAULT_PATH)
    parser.add_argument("--every", type=int, default=1, help="read every Nth character only")
    args = parser.parse_args()

    classifier = digit_model.load(args.model)
    _, sources = held_out_sets(str(UNIPEN_PATH), str(CVL_PATH))
    print(f"{args.model}; every {args.every} character")
    for name, source in sources.items():
        digits, labels = source.digits[:: args.every], source.labels[:: args.every]
        letters = source.letters[:: args.every]
        for side in SCAN_SIDES:
            for blocky in (True, False):
                read = [given(classifier, as_sent(image, side, blocky)) for image in digits]
                right = np.mean([digit == label for digit, label in zip(read, labels)])
                refused = np.mean([digit is None for digit in read])
                flagged = [given(classifier, as_sent(image, side, blocky)) for image in letters]
                caught = f"{np.mean([d is None for d in flagged]):.2%}" if letters.size else "-"
                sent = f"{side * BLOCK if blocky else side} px"
                print(
                    f"{name:>12} {side}x{side} sent at {sent:>6}: {right:.2%} of {len(read)} "
                    f"digits read right, {refused:.2%} refused; letters flagged {caught}"
                )


if __name__ == "__main__":
    main()
