"""A model file and the metrics beside it: written together once the model is measured,
measured again by `evaluate`, and added to by figures measured later."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import keras
import numpy as np

import digit_model
from training import unipen
from training.datasets import load_mnist
from training.figures import evaluate
from training.report import report
from training.sources import Source, held_out_sets


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
    saved = digit_model.load(partial)
    metrics = {
        **base,
        **evaluate(saved, partial, x_test, y_test, args.canvas_samples, *held_out),
        **recorded,
    }
    checked = digit_model.ModelMetrics.from_dict(metrics)
    os.replace(partial, args.out)
    checked.write(digit_model.metrics_path(args.out))
    report(metrics)


def layers_of(model: keras.Model) -> list[dict]:
    """Each layer's name, type, output shape and parameters: the architecture the metrics record."""
    return [
        {
            "layer": layer.name,
            "type": type(layer).__name__,
            "output": str(layer.output.shape),
            "parameters": layer.count_params(),
        }
        for layer in model.layers
    ]


def measure_model(args: argparse.Namespace) -> None:
    """Print the figures of the model at --model and, with --record, write them into its
    metrics. A missing or unreadable model stops it before any data is read."""
    trained_at = metrics_to_add_to(args.model).trained_at if args.record else None
    try:
        classifier = digit_model.load(args.model)
    except digit_model.ModelUnavailable as error:
        sys.exit(str(error))
    _, (x_test, y_test) = load_mnist(args.data)
    held_out = held_out_sets(args.pen, args.cvl)
    metrics = evaluate(classifier, args.model, x_test, y_test, args.canvas_samples, *held_out)
    report(metrics)
    if trained_at is not None:
        record_figures(args.model, trained_at, metrics)


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
