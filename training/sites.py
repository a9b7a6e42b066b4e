"""Each UNIPEN site left out in turn: a quick model trained by the same recipe without the
site reads it, and the figures join the model's metrics."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

import digit_model
from digit_model.metrics import SourceFigures, pooled
from training import cvl, unipen
from training.calibration import calibrate
from training.datasets import load_mnist, training_set
from training.figures import source_figures
from training.fitting import deterministic
from training.records import metrics_to_add_to, unchanged_metrics
from training.report import source_summary
from training.sources import SPLIT_SEED, UNSEEN_SITES, unseen_sources

FOLD_LIMIT = 10000  # MNIST digits per leave-one-site-out model; generated sets cut in proportion
FOLD_EPOCHS = 3

# The recipe train_model.py trains a network by: (x, y, epochs, validation) -> (model, history).
FitNewModel = Callable[..., tuple[keras.Model, keras.callbacks.History]]


def leave_one_site_out(args: argparse.Namespace, fit_new_model: FitNewModel) -> None:
    """Per UNIPEN site, a quick model trained by `fit_new_model` with that site left out whole
    reads the site: what the recipe gets at a place it never saw. Recorded in the metrics beside
    --model."""
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
