"""What a visitor's stored handwriting memory costs a visit: loading it, and each reading.

    python benchmarks/bench_visit_memory.py [--labels 100] [--runs 200] [--database URL]

A visitor with `--labels` saved labels (MNIST test digits redrawn as canvas strokes) in a
fresh SQLite file (or the database named). Timed, each against a visitor with none:
- the load a tab starts in the background when it opens (`Examples.sync`: the database's
  labels, their 28x28 inputs read by the model, the memory built), which the first answer
  waits for only when a stroke ends before it is done;
- the stamp asked before each reading when nothing changed (one indexed query);
- the first answer of a visit: the page's reading of one drawing with the memory just
  loaded (stamp included), against the same reading with no labels stored.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digit_model
from devtools.datasets import mnist_path
from devtools.timing import p50_p90, timed_in_turn
from feedback.database import create_engine
from feedback.labels import LabelledDrawing
from feedback.store import FeedbackStore
from preprocess import canvas_to_ink
from reading import read_digits, read_drawing
from tabs.draw.shared import Examples
from training.canvas_drawings import random_drawings
from training.datasets import load_mnist

WITH, WITHOUT = "with-labels", "no-labels"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    _, (x_test, y_test) = load_mnist(str(mnist_path()))
    classifier = digit_model.load()
    folder = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{Path(folder.name) / 'feedback.db'}"
    store = FeedbackStore(create_engine(url))
    drawn = list(random_drawings(x_test[: args.labels], y_test[: args.labels], seed=5))
    readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba, _, _ in drawn])
    for reading, (_, label, _) in zip(readings, drawn):
        store.save(
            LabelledDrawing(WITH, reading.digit, reading.confidence, int(label), reading.image)
        )
    canvases = [rgba for rgba, _, _ in random_drawings(x_test[-50:], y_test[-50:], seed=6)]

    def loaded(whose: str) -> Examples:
        examples = Examples()
        examples.sync(store, whose, classifier)
        return examples

    def first_answer(whose: str):
        examples = loaded(whose)
        return lambda rgba: (
            examples.sync(store, whose, classifier),
            read_drawing(classifier, rgba, examples.memory),
        )

    memories = {whose: loaded(whose) for whose in (WITH, WITHOUT)}
    print(f"{len(memories[WITH])} examples loaded from {args.labels} labels")
    calls = {
        f"load, {args.labels} labels": (lambda _: loaded(WITH), [None], args.runs // 4),
        "load, no labels": (lambda _: loaded(WITHOUT), [None], args.runs // 4),
        "stamp, unchanged": (lambda _: store.examples_stamp(WITH), [None], args.runs),
        f"first answer, {args.labels}": (first_answer(WITH), canvases, args.runs),
        "first answer, none": (first_answer(WITHOUT), canvases, args.runs),
        "reading alone, no memory": (
            lambda rgba: read_drawing(classifier, rgba),
            canvases,
            args.runs,
        ),
    }
    rows = timed_in_turn(calls)
    print(f"{'stage':<28}{'p50 ms':>8}{'p90 ms':>8}   ({os.cpu_count()} CPUs, {args.runs} runs)")
    for name, times in rows.items():
        p50, p90 = p50_p90(times)
        print(f"{name:<28}{p50:>8.2f}{p90:>8.2f}")


if __name__ == "__main__":
    main()
