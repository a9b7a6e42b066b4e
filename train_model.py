"""Train the digit convnet on MNIST the way people draw, or evaluate a trained one.

    python train_model.py --data ../shared/mnist.npz --pen ../shared/unipen_dev.npz \
        --cvl ../shared/cvl_dev.npz                      # train, write model.keras + metrics
    python train_model.py evaluate --data ... --pen ... --cvl ...   # figures of model.keras
    python train_model.py sites --data ... --pen ... --cvl ...      # leave each site out in turn
    python train_model.py finetune                       # learn from the app's feedback database
    python train_model.py finetune --feedback feedback.npz   # ...or from a downloaded .npz

Validation predicts what users meet: handwriting from places the model never saw. Besides
writers held out of the UNIPEN sites trained on, whole sources are held out: the UNIPEN
sites in UNSEEN_SITES and CVL's validation writers. The temperature and the not-a-digit
threshold are fitted on those unseen sources, and every figure is reported per source.
`sites` goes further: for each UNIPEN site in turn, a quick model trained on the same
recipe without that site reads it, and the figures are added to the model's metrics.

Training holds out a validation split of the training digits and augments every batch
with what the canvas brings that normalisation cannot undo: rotation and shear, an
elastic wobble, strokes from a thin pen to a fat finger, and digits a little off-centre
or oddly sized. The test split is read only at the end. Besides MNIST's own test
accuracy it reports accuracy on canvas-style drawings made from the test digits and
read through the app's full pipeline (`reading.read_digit`).

Fine-tuning starts from the current model and trains a few epochs at a low learning
rate on the app's labelled drawings (read straight from its feedback database, or from a
.npz downloaded from the History tab), mixed with MNIST training
digits so the model keeps what it knew. A fixed part of the feedback is held out to
measure it before and after. The new model is written only if MNIST test accuracy drops
by no more than 0.1 points.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # the command only: a program importing this keeps its own setting
    # TensorFlow turns oneDNN's kernels on by itself only on CPUs with AVX-512 and the like;
    # on others (the 2-core AMD EPYC machines here) training steps take 2.5 times as long.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras
import numpy as np

import digit_model
from digit_model.network import build_model
from training import cvl
from training.calibration import calibrate
from training.datasets import load_mnist, training_set, validation_set
from training.finetune import FINETUNE_EPOCHS, FINETUNE_LEARNING_RATE, FINETUNE_MNIST, finetune
from training.fitting import BATCH_SIZE, SEED, compiled_for_training, deterministic, make_dataset
from training.records import layers_of, measure_model, save_and_record
from training.sites import FOLD_EPOCHS, FOLD_LIMIT, leave_one_site_out
from training.sources import SPLIT_SEED, PenSplit, pen_split, unseen_sources

EPOCHS = 12
PEAK_LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
PATIENCE = 4  # epochs without a better validation accuracy before training stops
VALIDATION_SIZE = 5000  # MNIST training digits held out to validate on
CANVAS_TRAIN = 10000  # training digits also redrawn as canvas strokes and added to the training set
CANVAS_SAMPLES = 10000  # canvas-style drawings made from test digits for the final report


def train(args: argparse.Namespace) -> None:
    """Train from scratch, calibrate, save the model without optimizer state, write its metrics."""
    deterministic(args.seed)
    started = time.perf_counter()

    # The data: MNIST, pen handwriting and CVL digits, with the sources training never sees.
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    pen = pen_split(args.pen)
    cvl_train, cvl_valid = cvl.load(args.cvl, "train"), cvl.load(args.cvl, "valid")
    share = 1.0
    if args.limit:  # a quick run: every data set cut in proportion
        share = min(1.0, args.limit / len(x_train))
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
        rng = np.random.default_rng(args.seed)
        pen = PenSplit(*(part.subset(rng.random(len(part.label)) < share) for part in pen))
        cvl_train, cvl_valid = (
            part.subset(rng.random(len(part.digits)) < share) for part in (cvl_train, cvl_valid)
        )
    unseen = unseen_sources(pen.unseen_sites, cvl_valid, SPLIT_SEED)
    validation_size = min(VALIDATION_SIZE, len(x_train) // 10)
    order = np.random.default_rng(args.seed).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    x_val, y_val = validation_set(
        x_train[:validation_size], y_train[:validation_size], pen.seen_sites, unseen
    )
    x_train, y_train = training_set(
        x_train[validation_size:],
        y_train[validation_size:],
        pen.train,
        cvl_train,
        share,
        args.canvas_train,
        args.seed,
    )
    print(f"{len(x_train)} training and {len(x_val)} validation drawings")

    # The network, trained, then calibrated on the sources it never saw.
    model, history = fit_new_model(x_train, y_train, args.epochs, (x_val, y_val))
    inference = calibrate(model, unseen)

    # Evaluated, and written with its figures and how it was trained.
    save_and_record(
        inference,
        args,
        x_test,
        y_test,
        (pen.seen_sites, unseen),
        base={},
        epochs=len(history.history["loss"]),
        training_seconds=round(time.perf_counter() - started, 1),
        training_samples=len(x_train),
        validation_samples=len(x_val),
        history={
            name: [round(float(v), 5) for v in values] for name, values in history.history.items()
        },
        architecture=layers_of(inference),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=args.seed,
    )


def fit_new_model(
    x: np.ndarray, y: np.ndarray, epochs: int, validation: tuple[np.ndarray, np.ndarray] | None
) -> tuple[keras.Model, keras.callbacks.History]:
    """A new network trained on (x, y): warm-up, cosine decay, and early stopping on the
    validation drawings when there are any."""
    steps = math.ceil(len(x) / BATCH_SIZE) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        PEAK_LEARNING_RATE / 20,
        decay_steps=max(1, steps - steps // epochs),
        warmup_target=PEAK_LEARNING_RATE,
        warmup_steps=steps // epochs,
    )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=PATIENCE, restore_best_weights=True
    )
    model = build_model()
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY)
    trainable = compiled_for_training(model, optimizer)
    trainable.summary()
    history = trainable.fit(
        make_dataset(x, y, training=True),
        validation_data=make_dataset(*validation, training=False) if validation else None,
        epochs=epochs,
        shuffle=False,  # the dataset shuffles itself, seeded
        callbacks=[early_stopping] if validation else [],
    )
    return model, history


def main(argv: list[str] | None = None) -> None:
    """Train, evaluate, fine-tune or leave sites out, as the command line says."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode", nargs="?", choices=["train", "evaluate", "finetune", "sites"], default="train"
    )
    parser.add_argument(
        "--data", help="MNIST .npz in Keras's layout (default: download with Keras)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=digit_model.DEFAULT_PATH,
        help="model file to write (train, finetune) or evaluate",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="model file to evaluate, fine-tune or add the sites' figures to (default: --out)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help=f"default: {EPOCHS}, {FINETUNE_EPOCHS} for finetune, {FOLD_EPOCHS} for sites",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=0,
        help="train on only the first N training digits (quick runs); finetune mixes in "
        f"N random ones ({FINETUNE_MNIST} by default), sites trains each model on N "
        f"({FOLD_LIMIT} by default)",
    )
    parser.add_argument(
        "--site",
        action="append",
        help="sites: leave out only this UNIPEN site (repeat for more; default: every site)",
    )
    parser.add_argument(
        "--pen",
        help="UNIPEN pen handwriting .npz (unipen_dev.npz): needed to train, reported on if given",
    )
    parser.add_argument(
        "--cvl",
        help="CVL single digits .npz (cvl_dev.npz): needed to train, reported on if given",
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        help="finetune: the History tab's .npz (default: read the app's feedback database)",
    )
    parser.add_argument(
        "--learning-rate", type=float, default=FINETUNE_LEARNING_RATE, help="finetune only"
    )
    parser.add_argument(
        "--canvas-train",
        type=int,
        default=CANVAS_TRAIN,
        help="training digits also redrawn as canvas strokes and added (0: none)",
    )
    parser.add_argument(
        "--canvas-samples",
        type=int,
        default=CANVAS_SAMPLES,
        help="canvas-style drawings to evaluate on (0: skip)",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="evaluate: write the figures into the model's metrics, keeping its training "
        "record (needs --pen, --cvl and canvas samples, so that every figure is measured)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    args.model = args.model or args.out
    if args.epochs is None:
        args.epochs = {"finetune": FINETUNE_EPOCHS, "sites": FOLD_EPOCHS}.get(args.mode, EPOCHS)

    if args.mode == "evaluate":
        if args.record and not (args.pen and args.cvl and args.canvas_samples):
            parser.error("--record needs --pen, --cvl and canvas samples: every figure measured")
        measure_model(args)
    elif args.mode == "finetune":
        finetune(args)
    else:
        if args.pen is None or args.cvl is None:
            parser.error(
                f"{args.mode} needs --pen unipen_dev.npz and --cvl cvl_dev.npz: real "
                "handwriting to learn from and to validate on"
            )
        if args.mode == "sites":
            leave_one_site_out(args, fit_new_model)
        else:
            train(args)


if __name__ == "__main__":
    main()
