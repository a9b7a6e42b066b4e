"""Does the handwriting memory cut a writer's errors, and can a few wrong labels hurt them?

    python benchmarks/bench_memory.py [--seeds 5] [--pen ../shared/unipen_dev.npz]
                                      [--cvl ../shared/cvl_dev.npz]

Writers the model never trained on: the UNIPEN writer sessions `train_model.py` holds out at
the sites it trains on, and every writer of the sites it never sees (their pen strokes drawn
on the canvas at a random size, place and brush), and the writers of CVL's validation split
(already 28x28 in MNIST form). Each writer with at least 10 digits
draws them one after another in random order; whenever the answer is wrong or "not a digit",
the writer gives the right digit, which goes into their memory. Printed per source, summed
over the seeds (each a new order and, for pen, a new rendering):

- errors over the sequences without and with the memory, and the cut; "reachable" errors are
  those that follow a corrected drawing of the same digit by the same writer (a memory of
  corrections cannot teach a digit before the writer first corrects it), "caught" the share
  of them the memory reads right, and "broken" the drawings the model read right and the
  memory wrong;
- why the reachable errors it misses are missed: the drawing looks unlike every corrected
  drawing of its digit (under LOOKS_ALIKE), the not-a-digit verdict stands over the right
  digit, or the examples alike are outweighed (the model too sure, or examples of other digits);
- pranks: the writer first labels 5 of their drawings with a random wrong digit, then goes on
  as before; the points of accuracy lost on their other drawings against the same sequence
  without the pranks, averaged over writers;
- calibration: the expected calibration error (15 bins) of the answers, without and with;
- pen only: the writers' letters and symbols read as a digit, without and with a memory that
  holds every digit of theirs, each labelled right.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digit_model
from devtools import datasets
from reading import DigitReading, HandwritingMemory, read_digits, read_inputs
from reading.memory import LOOKS_ALIKE
from training import cvl
from training.calibration import calibration
from training.canvas_drawings import random_ink
from training.sources import pen_split

MIN_DIGITS = 10  # writers with fewer are left out
PRANKS = 5
MISSES = ("unlike", "verdict", "outweighed")  # why a reachable error is missed (`why_missed`)


def is_right(reading: DigitReading, digit: int) -> bool:
    """The page shows `digit` as the answer, not "not a digit"."""
    return reading.is_digit and reading.digit == digit


def sequence(
    readings: list[DigitReading], digits: np.ndarray, order: np.ndarray, pranks: dict[int, int]
) -> list[DigitReading]:
    """One writer's drawings in `order`, read with a memory of their labels: the pranks
    (drawing -> wrong digit) first, then the right digit whenever an answer is wrong."""
    memory = HandwritingMemory()
    for index, wrong in pranks.items():
        memory.add(readings[index], wrong)
    answers = []
    for index in order:
        answer = memory.recall(readings[index])  # what read_digit(..., memory=memory) gives
        answers.append(answer)
        if not is_right(answer, digits[index]):
            memory.add(readings[index], int(digits[index]))
    return answers


def why_missed(answer: DigitReading, digit: int, features: np.ndarray, corrected: list) -> str:
    """Why a reachable error was not caught: one of MISSES; "unlike" when no drawing of the
    digit was corrected yet (a memory that generalises read the earlier ones right)."""
    if answer.digit == digit and not answer.is_digit:
        return "verdict"
    nearest = max((float(features @ example) for example in corrected), default=-1.0)
    return "unlike" if nearest < LOOKS_ALIKE else "outweighed"


def measure(
    readings: list[DigitReading], digits: np.ndarray, writers: np.ndarray, seeds: int
) -> dict:
    """The protocol's figures for one source, over `seeds` random orders."""
    figures = dict(
        without=0, with_memory=0, reachable=0, caught=0, broken=0, drawings=0, prank_loss=[]
    )
    figures.update(dict.fromkeys(MISSES, 0))
    confident, confident_memory, labels = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        for writer in np.unique(writers):
            mine = np.flatnonzero(writers == writer)
            if len(mine) < MIN_DIGITS:
                continue
            order = rng.permutation(mine)
            answers = sequence(readings, digits, order, {})
            misread: set[int] = set()  # digits the model misread earlier in the sequence
            corrected: dict[int, list[np.ndarray]] = {}  # digit -> features of its corrections
            for index, answer in zip(order, answers):
                digit = int(digits[index])
                plain_right = is_right(readings[index], digit)
                right = is_right(answer, digit)
                reachable = not plain_right and digit in misread
                figures["without"] += not plain_right
                figures["with_memory"] += not right
                figures["reachable"] += reachable
                figures["caught"] += reachable and right
                figures["broken"] += plain_right and not right
                if reachable and not right:
                    features = readings[index].features
                    figures[why_missed(answer, digit, features, corrected.get(digit, []))] += 1
                if not plain_right:
                    misread.add(digit)
                if not right:
                    corrected.setdefault(digit, []).append(readings[index].features)
                confident.append(readings[index].probabilities)
                confident_memory.append(answer.probabilities)
                labels.append(digits[index])
            figures["drawings"] += len(order)

            pranked, rest = order[:PRANKS], order[PRANKS:]
            wrong = {int(i): int(rng.choice(np.delete(np.arange(10), digits[i]))) for i in pranked}
            honest = sequence(readings, digits, rest, {})
            fooled = sequence(readings, digits, rest, wrong)
            right = [is_right(a, digits[i]) for a, i in zip(honest, rest)]
            still = [is_right(a, digits[i]) for a, i in zip(fooled, rest)]
            figures["prank_loss"].append(100 * (np.mean(right) - np.mean(still)))
    figures["ece"] = calibration(np.array(confident), np.array(labels))["ece"]
    figures["ece_memory"] = calibration(np.array(confident_memory), np.array(labels))["ece"]
    return figures


def letters_read_as_digits(
    digit_readings: list[DigitReading],
    digits: np.ndarray,
    writers: np.ndarray,
    others: list[DigitReading],
    other_writers: np.ndarray,
) -> tuple[float, float]:
    """Share of letters and symbols read as a digit, without and with a memory of every digit
    of the same writer labelled right."""
    plain = with_memory = 0
    for writer in np.unique(other_writers):
        memory = HandwritingMemory()
        for index in np.flatnonzero(writers == writer):
            memory.add(digit_readings[index], int(digits[index]))
        for index in np.flatnonzero(other_writers == writer):
            plain += others[index].is_digit
            with_memory += memory.recall(others[index]).is_digit
    return plain / len(others), with_memory / len(others)


def report(name: str, figures: dict) -> None:
    """Print one source's errors with and without memory, the reachable ones caught and why
    the others were missed, the pranks' cost and calibration."""
    without, with_memory, reachable = (
        figures["without"],
        figures["with_memory"],
        figures["reachable"],
    )
    print(
        f"{name}: {figures['drawings']} drawings; errors {without} without memory, "
        f"{with_memory} with: cut {1 - with_memory / without:.1%}; reachable {reachable}, "
        f"caught {figures['caught']} ({figures['caught'] / max(reachable, 1):.1%}); "
        f"broken {figures['broken']}; "
        f"{PRANKS} pranks cost {np.mean(figures['prank_loss']):.2f} points "
        f"(worst writer {max(figures['prank_loss']):.1f}); "
        f"ECE {figures['ece']:.2%} -> {figures['ece_memory']:.2%}"
    )
    print(
        f"  reachable errors missed: {figures['unlike']} look unlike every corrected drawing of "
        f"their digit, {figures['verdict']} kept the not-a-digit verdict over the right digit, "
        f"{figures['outweighed']} alike but outweighed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pen", default=str(datasets.UNIPEN_PATH))
    parser.add_argument("--cvl", default=str(datasets.CVL_PATH))
    parser.add_argument("--model", default=str(digit_model.model_path()))
    args = parser.parse_args()
    classifier = digit_model.load(args.model)

    split = pen_split(args.pen)
    rng = np.random.default_rng(0)
    for name, held_out in (
        ("UNIPEN unseen sites", split.unseen_sites),
        ("UNIPEN held-out writers", split.seen_sites),
    ):
        pen_digits = held_out.subset(held_out.is_digit)
        pen_readings = read_digits(classifier, [random_ink(s, rng) for s in pen_digits.segments])
        report(name, measure(pen_readings, pen_digits.digits, pen_digits.writer, args.seeds))
    others = split.seen_sites.subset(split.seen_sites.is_other)
    other_readings = read_digits(classifier, [random_ink(s, rng) for s in others.segments])
    plain, with_memory = letters_read_as_digits(
        pen_readings, pen_digits.digits, pen_digits.writer, other_readings, others.writer
    )
    print(
        f"  their letters and symbols read as a digit: {plain:.2%} without, {with_memory:.2%} "
        "with a memory of all their digits"
    )

    valid = cvl.load(args.cvl, "valid")
    readings = read_inputs(classifier, valid.images.astype(np.float32) / 255)
    report("CVL valid writers", measure(readings, valid.digits, valid.writer, args.seeds))


if __name__ == "__main__":
    main()
