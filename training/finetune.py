"""Fine-tuning the current model on the app's labelled drawings mixed with MNIST digits, written
only if MNIST holds."""

from __future__ import annotations

import argparse
import sys
import tomllib
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

import digit_model
from feedback import export as feedback_export
from feedback import store as feedback_store
from feedback.database import StorageUnavailable
from training.datasets import load_mnist
from training.fitting import compiled_for_training, deterministic, make_dataset
from training.records import save_and_record
from training.sources import held_out_sets

FINETUNE_EPOCHS = 3
FINETUNE_LEARNING_RATE = 1e-4
FINETUNE_MNIST = 20000  # MNIST training digits mixed in with the feedback
FEEDBACK_SHARE = 0.25  # feedback's share of a fine-tuning epoch (repeated when scarce)
FEEDBACK_HOLDOUT = 0.2  # share of the feedback kept out of fine-tuning, to measure it
MAX_MNIST_DROP = 0.001  # 0.1 points: a fine-tuned model losing more is not written
SECRETS_FILE = digit_model.REPO_ROOT / ".streamlit" / "secrets.toml"  # the app's database settings


def feedback_from_database() -> tuple[np.ndarray, np.ndarray]:
    """Every label in the database the app is configured with, found and opened as the app
    does (DIGIT_FEEDBACK_DB_URL, DATABASE_URL, .streamlit/secrets.toml, else feedback.db;
    with secrets.toml's engine settings)."""
    secrets = tomllib.loads(SECRETS_FILE.read_text()) if SECRETS_FILE.is_file() else None
    store = None
    try:
        store = feedback_store.configured_store(secrets)
        return feedback_export.training_arrays(store.rows())
    except StorageUnavailable as error:
        where = f" ({store.engine.url.render_as_string(hide_password=True)})" if store else ""
        raise ValueError(f"{error} The feedback database{where}: {error.reason}") from error
    finally:
        if store is not None:  # no connection stays open through the training that follows
            store.engine.dispose()


def load_feedback(path: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Labelled drawings: x (N, 28, 28) uint8 and y (N,) true digits, from the History tab's
    .npz, or without a path straight from the app's feedback database."""
    if path is None:
        source = "The feedback database"
        x, y = feedback_from_database()
    else:
        source = str(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                x, y = data["x"], data["y"]
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as error:
            raise ValueError(
                f"{path} is not a feedback data set ({error}); download one from the History tab."
            ) from error
    if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise ValueError(
            f"{source} holds x {x.shape} {x.dtype} and y {y.shape}; expected x (N, 28, 28) "
            "uint8 and y (N,), as the History tab exports them."
        )
    if not np.isin(y, np.arange(10)).all():
        raise ValueError(f"{source} has true digits outside 0-9.")
    if len(x) < feedback_export.MIN_FEEDBACK:
        raise ValueError(
            f"{source} holds {len(x)} labelled drawings; "
            f"fine-tuning needs at least {feedback_export.MIN_FEEDBACK}."
        )
    return x, y


def accuracy_of(classifier: digit_model.Classifier, x: np.ndarray, y: np.ndarray) -> float:
    """Share of uint8 images the classifier reads as their label."""
    return float((classifier.predict_proba(x / np.float32(255)).argmax(axis=1) == y).mean())


def finetune(args: argparse.Namespace) -> None:
    """Fine-tune the current model on feedback mixed with MNIST; write it only if MNIST holds."""
    deterministic(args.seed)
    try:
        x_feedback, y_feedback = load_feedback(args.feedback)
        classifier = digit_model.load(args.model, threads=None)
        trained = digit_model.load_metrics(args.model)  # kept: how the model was trained
    except (ValueError, digit_model.ModelUnavailable) as error:
        sys.exit(str(error))
    if trained is None:
        sys.exit(
            f"No metrics beside {args.model}: fine-tuning keeps the record of how the model was "
            f"trained. Retrain with `{digit_model.train_command(args.model)}`, or restore "
            "model.metrics.json with git."
        )
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)

    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x_feedback))
    held_out = order[: max(1, round(FEEDBACK_HOLDOUT * len(order)))]
    tuning = order[len(held_out) :]
    mnist = rng.permutation(len(x_train))[: args.limit or FINETUNE_MNIST]
    repeats = max(1, round(FEEDBACK_SHARE / (1 - FEEDBACK_SHARE) * len(mnist) / len(tuning)))
    x_mix = np.concatenate([x_train[mnist], np.tile(x_feedback[tuning], (repeats, 1, 1))])
    y_mix = np.concatenate([y_train[mnist], np.tile(y_feedback[tuning], repeats)])

    def measure() -> dict:
        return {
            "feedback": accuracy_of(classifier, x_feedback[held_out], y_feedback[held_out]),
            "mnist": accuracy_of(classifier, x_test, y_test),
        }

    before = measure()
    model = classifier.model
    for layer in model.layers:  # keep the normalisation statistics learnt on all of MNIST
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    trainable = compiled_for_training(model, keras.optimizers.Adam(args.learning_rate))
    print(
        f"Fine-tuning on {len(tuning)} feedback drawings (x{repeats}) "
        f"and {len(mnist)} MNIST digits ..."
    )
    trainable.fit(
        make_dataset(x_mix / np.float32(255), y_mix, training=True),
        epochs=args.epochs,
        shuffle=False,
    )
    after = measure()  # the classifier reads the same, now fine-tuned, weights

    print(
        f"held-out feedback  {before['feedback']:.2%} -> {after['feedback']:.2%} "
        f"on {len(held_out)} drawings"
    )
    print(
        f"MNIST test         {before['mnist']:.2%} -> {after['mnist']:.2%} on {len(y_test)} digits"
    )
    if before["mnist"] - after["mnist"] > MAX_MNIST_DROP:
        sys.exit(
            f"MNIST test accuracy fell by {before['mnist'] - after['mnist']:.2%}, more than "
            f"{MAX_MNIST_DROP:.1%}; {args.out} was not written. "
            "Try fewer --epochs or a lower --learning-rate."
        )

    # The fine-tuned model keeps its temperature and not-a-digit threshold.
    save_and_record(
        model,
        args,
        x_test,
        y_test,
        held_out_sets(args.pen, args.cvl),
        # The sites left out measured the recipe the base model was trained by, not this one.
        base={**trained.to_dict(), "leave_one_site_out": None},
        finetune={
            "feedback_samples": len(x_feedback),
            "held_out": len(held_out),
            "mnist_digits": len(mnist),
            "epochs": args.epochs,
            "learning_rate": args.learning_rate,
            "feedback_accuracy_before": before["feedback"],
            "feedback_accuracy_after": after["feedback"],
            "mnist_test_accuracy_before": before["mnist"],
            "mnist_test_accuracy_after": after["mnist"],
            "finetuned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    print(f"Wrote {args.out}")
