"""Train the digit convnet on MNIST the way people draw, or evaluate a trained one.

    python train_model.py                                # train, write model.keras + metrics
    python train_model.py --data ../shared/mnist.npz     # MNIST from a local file
    python train_model.py evaluate                       # print the figures of model.keras
    python train_model.py finetune --feedback feedback.npz   # learn from the app's feedback

Training holds out a validation split of the training digits and augments every batch
with what the canvas brings that normalisation cannot undo: rotation and shear, an
elastic wobble, strokes from a thin pen to a fat finger, and digits a little off-centre
or oddly sized. The test split is read only at the end. Besides MNIST's own test
accuracy it reports accuracy on canvas-style drawings made from the test digits and
read through the app's full pipeline (canvas_to_ink -> normalize -> predict_proba).

Fine-tuning starts from the current model and trains a few epochs at a low learning
rate on the feedback data set downloaded from the History tab, mixed with MNIST training
digits so the model keeps what it knew. A fixed part of the feedback is held out to
measure it before and after. The new model is written only if MNIST test accuracy drops
by no more than 0.1 points.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import digit_model
from canvas_drawings import canvas_style_inputs, random_drawings
from preprocess import canvas_to_ink, normalize

SEED = 1337
EPOCHS = 24
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
VALIDATION_SIZE = 5000
CANVAS_TRAIN = 10000  # training digits also redrawn as canvas strokes and added to the training set
CANVAS_SAMPLES = 1000  # canvas-style drawings made from test digits for the final report
PATIENCE = 5
LABEL_SMOOTHING = 0.1
AUGMENTED_SHARE = 0.8  # the rest of each batch stays as drawn, as the test digits are

FINETUNE_EPOCHS = 3
FINETUNE_LEARNING_RATE = 1e-4
FINETUNE_MNIST = 20000  # MNIST training digits mixed in with the feedback
FEEDBACK_SHARE = 0.25  # feedback's share of a fine-tuning epoch (repeated when scarce)
FEEDBACK_HOLDOUT = 0.2  # share of the feedback kept out of fine-tuning, to measure it
MIN_FEEDBACK = 10  # labelled drawings needed before fine-tuning means anything
MAX_MNIST_DROP = 0.001  # 0.1 points: a fine-tuned model losing more is not written

ROTATION = math.radians(15)  # each augmentation's range, uniform either way
SHEAR = 0.3
SCALE = (0.8, 1.15)
ASPECT = (0.85, 1.15)
SHIFT = 2.5  # pixels of the 28x28 field
WOBBLE = 0.8  # elastic displacement, pixels
THICKNESS = {"thinner": 0.15, "same": 0.40, "thicker": 0.30, "much thicker": 0.15}


def load_mnist(path: str | None):
    """MNIST as ((x_train, y_train), (x_test, y_test)) uint8: from `path` or Keras's download."""
    if path is None:
        return keras.datasets.mnist.load_data()
    with np.load(path) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _bilinear(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Sample (B, 28, 28) images at fractional (B, 28, 28) coordinates; outside is blank."""
    batch = tf.shape(images)[0]
    flat = tf.reshape(tf.pad(images, [[0, 0], [1, 1], [1, 1]]), [batch, 30 * 30])
    rows = tf.clip_by_value(tf.reshape(rows, [batch, -1]) + 1.0, 0.0, 29.0)
    cols = tf.clip_by_value(tf.reshape(cols, [batch, -1]) + 1.0, 0.0, 29.0)
    r0, c0 = tf.floor(rows), tf.floor(cols)
    r1, c1 = tf.minimum(r0 + 1.0, 29.0), tf.minimum(c0 + 1.0, 29.0)
    wr, wc = rows - r0, cols - c0

    def at(r, c):
        return tf.gather(flat, tf.cast(r * 30.0 + c, tf.int32), batch_dims=1)

    top = at(r0, c0) * (1 - wc) + at(r0, c1) * wc
    bottom = at(r1, c0) * (1 - wc) + at(r1, c1) * wc
    return tf.reshape(top * (1 - wr) + bottom * wr, [batch, 28, 28])


def augment(images: tf.Tensor) -> tf.Tensor:
    """Randomly rotate, shear, scale, shift, wobble and thicken or thin each (B, 28, 28) image."""
    batch = tf.shape(images)[0]

    def uniform(low, high):
        return tf.random.uniform([batch, 1, 1], low, high)

    angle, shear = uniform(-ROTATION, ROTATION), uniform(-SHEAR, SHEAR)
    scale, aspect = uniform(*SCALE), tf.sqrt(uniform(*ASPECT))
    row_scale, col_scale = scale * aspect, scale / aspect
    cos, sin = tf.cos(angle), tf.sin(angle)

    grid_rows, grid_cols = tf.meshgrid(tf.range(28.0), tf.range(28.0), indexing="ij")
    dr, dc = grid_rows - 14.0, grid_cols - 14.0
    wobble = tf.image.resize(tf.random.normal([batch, 4, 4, 2], stddev=WOBBLE), (28, 28), "bicubic")
    rows = (cos * dr - sin * (dc + shear * dr)) / row_scale + 14.0 + uniform(-SHIFT, SHIFT)
    cols = (sin * dr + cos * (dc + shear * dr)) / col_scale + 14.0 + uniform(-SHIFT, SHIFT)
    warped = _bilinear(images, rows + wobble[..., 0], cols + wobble[..., 1])[..., None]

    thinner = -tf.nn.max_pool2d(-warped, 2, 1, "SAME")
    thicker = tf.nn.max_pool2d(warped, 2, 1, "SAME")
    much_thicker = tf.nn.max_pool2d(warped, 3, 1, "SAME")
    mass = tf.reduce_sum(warped, axis=[1, 2, 3], keepdims=True)
    thinner = tf.where(
        tf.reduce_sum(thinner, axis=[1, 2, 3], keepdims=True) > 0.5 * mass, thinner, warped
    )
    bounds = np.cumsum(list(THICKNESS.values()))
    pick = tf.random.uniform([batch, 1, 1, 1])
    result = tf.where(
        pick < bounds[0],
        thinner,
        tf.where(pick < bounds[1], warped, tf.where(pick < bounds[2], thicker, much_thicker)),
    )
    result = tf.clip_by_value(result[..., 0], 0.0, 1.0)
    return tf.where(tf.random.uniform([batch, 1, 1]) < AUGMENTED_SHARE, result, images)


def make_dataset(x: np.ndarray, y: np.ndarray, training: bool) -> tf.data.Dataset:
    """Batches of (image in [0, 1], label), augmented and shuffled when training."""
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        data = data.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)
    data = data.batch(BATCH_SIZE)
    if training:
        data = data.map(lambda images, labels: (augment(images), labels), tf.data.AUTOTUNE)
    data = data.map(lambda images, labels: (images, tf.one_hot(labels, 10)))
    return data.prefetch(tf.data.AUTOTUNE)


def canvas_accuracy(classifier: digit_model.Classifier, x_test, y_test, samples: int) -> dict:
    """Accuracy on test digits redrawn on a 280x280 canvas, read through the app's pipeline."""
    inputs, labels, setups = [], [], []
    for rgba, label, setup in random_drawings(x_test[:samples], y_test[:samples], seed=SEED):
        image = normalize(canvas_to_ink(rgba))
        inputs.append(image if image is not None else np.zeros((28, 28), np.float32))
        labels.append(label)
        setups.append(setup)
    correct = classifier.predict_proba(np.stack(inputs)).argmax(axis=1) == np.array(labels)
    by_setup = {
        setup: float(correct[[s == setup for s in setups]].mean()) for setup in sorted(set(setups))
    }
    return {"accuracy": float(correct.mean()), "samples": len(labels), "by_colour_setup": by_setup}


def evaluate(model_path: Path, x_test, y_test, canvas_samples: int) -> dict:
    """Test accuracy, per-digit accuracy, confusion matrix, size and canvas-style accuracy."""
    classifier = digit_model.load(model_path)
    predicted = classifier.predict_proba(x_test.astype(np.float32) / 255.0).argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (y_test, predicted), 1)
    return {
        "test_accuracy": float((predicted == y_test).mean()),
        "test_samples": len(y_test),
        "per_digit_accuracy": (confusion.diagonal() / confusion.sum(axis=1)).round(4).tolist(),
        "confusion_matrix": confusion.tolist(),
        "parameters": int(classifier.model.count_params()),
        "file_size_bytes": model_path.stat().st_size,
        "canvas": canvas_accuracy(classifier, x_test, y_test, canvas_samples)
        if canvas_samples
        else None,
    }


def report(metrics: dict) -> None:
    """Print the figures a person checks after training or evaluation."""
    lines = [
        (
            "test accuracy",
            f"{metrics['test_accuracy']:.2%} on {metrics['test_samples']} MNIST digits",
        ),
        (
            "per digit",
            "  ".join(f"{d}:{a:.2%}" for d, a in enumerate(metrics["per_digit_accuracy"])),
        ),
    ]
    if metrics.get("canvas"):
        canvas = metrics["canvas"]
        lines.append(("canvas-style", f"{canvas['accuracy']:.2%} on {canvas['samples']} drawings"))
        lines += [
            (f"  {setup}", f"{share:.2%}") for setup, share in canvas["by_colour_setup"].items()
        ]
    lines.append(("parameters", f"{metrics['parameters']:,}"))
    lines.append(("file size", f"{metrics['file_size_bytes'] / 1e6:.2f} MB"))
    if "training_seconds" in metrics:
        minutes = metrics["training_seconds"] / 60
        lines.append(("training", f"{metrics['epochs']} epochs in {minutes:.1f} min"))
    for name, value in lines:
        print(f"{name:<24}{value}")


def train(args: argparse.Namespace) -> None:
    """Train from scratch, save the model without optimizer state, and write its metrics."""
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    validation_size = min(VALIDATION_SIZE, len(x_train) // 10)
    order = np.random.default_rng(args.seed).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    x_val, y_val = x_train[:validation_size] / np.float32(255), y_train[:validation_size]
    x_train, y_train = x_train[validation_size:], y_train[validation_size:]
    print(f"Redrawing {args.canvas_train} training digits as canvas strokes ...")
    x_canvas, y_canvas = canvas_style_inputs(
        x_train[: args.canvas_train], y_train[: args.canvas_train], args.seed
    )
    x_train = np.concatenate([x_train / np.float32(255), x_canvas])
    y_train = np.concatenate([y_train, y_canvas])

    steps = math.ceil(len(x_train) / BATCH_SIZE) * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        PEAK_LEARNING_RATE / 20,
        decay_steps=max(1, steps - steps // args.epochs),
        warmup_target=PEAK_LEARNING_RATE,
        warmup_steps=steps // args.epochs,
    )
    model = digit_model.build_model()
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    model.summary()

    started = time.perf_counter()
    history = model.fit(
        make_dataset(x_train, y_train, training=True),
        validation_data=make_dataset(x_val, y_val, training=False),
        epochs=args.epochs,
        shuffle=False,  # the dataset shuffles itself, seeded
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy", patience=PATIENCE, restore_best_weights=True
            )
        ],
    )
    training_seconds = time.perf_counter() - started

    inference = digit_model.build_model()
    inference.set_weights(model.get_weights())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    inference.save(args.out)

    metrics = evaluate(args.out, x_test, y_test, args.canvas_samples)
    metrics.update(
        epochs=len(history.history["loss"]),
        training_seconds=round(training_seconds, 1),
        training_samples=len(x_train),
        validation_samples=len(x_val),
        history={
            name: [round(float(v), 5) for v in values] for name, values in history.history.items()
        },
        architecture=[
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output": str(layer.output.shape),
                "parameters": layer.count_params(),
            }
            for layer in inference.layers
        ],
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=args.seed,
    )
    digit_model.metrics_path(args.out).write_text(json.dumps(metrics, indent=1) + "\n")
    report(metrics)


def load_feedback(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The History tab's .npz data set: x (N, 28, 28) uint8 and y (N,) true digits."""
    try:
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(
            f"{path} is not a feedback data set ({error}); download one from the History tab."
        ) from error
    if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise ValueError(
            f"{path} holds x {x.shape} {x.dtype} and y {y.shape}; expected x (N, 28, 28) uint8 "
            "and y (N,), as the History tab exports them."
        )
    if not np.isin(y, np.arange(10)).all():
        raise ValueError(f"{path} has true digits outside 0-9.")
    if len(x) < MIN_FEEDBACK:
        raise ValueError(
            f"{path} holds {len(x)} labelled drawings; fine-tuning needs at least {MIN_FEEDBACK}."
        )
    return x, y


def accuracy_of(classifier: digit_model.Classifier, x: np.ndarray, y: np.ndarray) -> float:
    """Share of uint8 images the classifier reads as their label."""
    return float((classifier.predict_proba(x / np.float32(255)).argmax(axis=1) == y).mean())


def finetune(args: argparse.Namespace) -> None:
    """Fine-tune the current model on feedback mixed with MNIST; write it only if MNIST holds."""
    keras.utils.set_random_seed(args.seed)
    try:
        x_feedback, y_feedback = load_feedback(args.feedback)
        classifier = digit_model.load(args.model, threads=None)
    except (ValueError, digit_model.ModelUnavailable) as error:
        sys.exit(str(error))
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
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    print(
        f"Fine-tuning on {len(tuning)} feedback drawings (x{repeats}) "
        f"and {len(mnist)} MNIST digits ..."
    )
    model.fit(
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

    inference = digit_model.build_model()
    inference.set_weights(model.get_weights())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.stem + ".partial.keras")
    inference.save(partial)
    os.replace(partial, args.out)  # a crash mid-save never leaves a broken model behind

    metrics = {
        **(digit_model.load_metrics(args.model) or {}),
        **evaluate(args.out, x_test, y_test, args.canvas_samples),
        "finetune": {
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
    }
    digit_model.metrics_path(args.out).write_text(json.dumps(metrics, indent=1) + "\n")
    report(metrics)
    print(f"Wrote {args.out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode", nargs="?", choices=["train", "evaluate", "finetune"], default="train"
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
        "--model", type=Path, help="model file to evaluate or fine-tune (default: --out)"
    )
    parser.add_argument(
        "--epochs", type=int, help=f"default: {EPOCHS}, or {FINETUNE_EPOCHS} for finetune"
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=0,
        help="train on only the first N training digits (quick runs); finetune mixes in "
        f"N random ones ({FINETUNE_MNIST} by default)",
    )
    parser.add_argument("--feedback", type=Path, help="finetune: the History tab's .npz")
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
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    args.model = args.model or args.out
    if args.epochs is None:
        args.epochs = FINETUNE_EPOCHS if args.mode == "finetune" else EPOCHS

    if args.mode == "evaluate":
        _, (x_test, y_test) = load_mnist(args.data)
        try:
            metrics = evaluate(args.model, x_test, y_test, args.canvas_samples)
        except digit_model.ModelUnavailable as error:
            sys.exit(str(error))
        report(metrics)
    elif args.mode == "finetune":
        if args.feedback is None:
            parser.error("finetune needs --feedback FILE.npz (download it from the History tab)")
        finetune(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
