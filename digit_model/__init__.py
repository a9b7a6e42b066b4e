"""The digit network: where it lives, how it loads, and the fast call used on every stroke."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import ndimage

from digit_model.metrics import ModelMetrics
from preprocess import CENTRE, FIELD

if TYPE_CHECKING:
    import keras

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT / "model.keras"
MODEL_SUFFIX = ".keras"  # Keras saves and loads models only in files named so
MODEL_PATH_VARIABLE = "DIGIT_MODEL_PATH"  # point the app, API and CLI at another model file
# The data files as docs/training.md's command names them; docs/data.md says where they come from.
TRAIN_COMMAND = (
    "python train_model.py --data ../shared/mnist.npz --pen ../shared/unipen_dev.npz "
    "--cvl ../shared/cvl_dev.npz"
)
# Said instead of a command that trains into a path no model can have.
NAMED_AS_A_MODEL = f"A model is a {MODEL_SUFFIX} file, such as `{TRAIN_COMMAND}` writes"
NOT_A_DIGIT = 10  # the eleventh class the network scores, after the ten digits
DOUBT_BELOW = 0.6  # a "not a digit" verdict less sure than this still offers the digit read
EXPECTED_OUTPUTS = {"probabilities": (None, 10), "verdict": (None, NOT_A_DIGIT + 1)}
FEATURES_LAYER = "dense"  # the penultimate layer, whose output describes how a drawing looks
CALIBRATED_LAYER = "temperature"  # the ten digits' logits divided by the fitted temperature
SURE_ABOVE = 0.9  # a digit read less sure than this is read again from slightly moved views
# Inputs per compiled call: memory stays bounded, however many are read, and `warm_up`
# compiles every batch size up to it, so no reading waits for a compile (4 s for 512 and 1024).
MAX_BATCH = 256


def _view_transforms() -> list[tuple[np.ndarray, np.ndarray]]:
    """(matrix, offset) pairs for ndimage.affine_transform: the drawing moved one pixel each
    way, turned 8 degrees either way, and shrunk or grown by a tenth about its centre of mass."""
    centre = np.full(2, CENTRE)
    # The transform maps each output pixel to where it reads the input: a move is its negative.
    transforms = [
        (np.eye(2), -np.array(move, float)) for move in ((1, 0), (-1, 0), (0, 1), (0, -1))
    ]
    for angle in np.radians((-8.0, 8.0)):
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = np.array([[cos, -sin], [sin, cos]])
        transforms.append((matrix, centre - matrix @ centre))
    for scale in (0.9, 1.1):
        matrix = np.eye(2) / scale
        transforms.append((matrix, centre - matrix @ centre))
    return transforms


_VIEWS = _view_transforms()
_DRAWINGS_PER_CALL = MAX_BATCH // len(_VIEWS)


def views(image: np.ndarray) -> np.ndarray:
    """(8, 28, 28) float32: one input slightly moved, turned and resized, as a writer might
    have drawn it; the network reads these when unsure and averages what it reads."""
    image = np.asarray(image, dtype=np.float32)
    return np.stack(
        [ndimage.affine_transform(image, matrix, offset, order=1) for matrix, offset in _VIEWS]
    )


def model_path() -> Path:
    """The model file: DIGIT_MODEL_PATH when set, else the one committed with the app."""
    return Path(os.environ.get(MODEL_PATH_VARIABLE) or DEFAULT_PATH)


class ModelUnavailable(RuntimeError):
    """The model file is missing or unreadable; the message says how to fix it."""


class ModelOutputs(NamedTuple):
    """What the classifier reads from a batch of inputs."""

    probabilities: np.ndarray  # (N, 10) calibrated
    not_digit: np.ndarray  # (N,) chance that the drawing is no digit, 0.5 at the fitted threshold
    features: np.ndarray  # (N, D) float32 unit vectors: how each drawing looks to the network

    @property
    def is_digit(self) -> np.ndarray:
        """(N,) bool: the verdict, True where the drawing reads as a digit."""
        return self.not_digit < 0.5

    @property
    def doubtful(self) -> np.ndarray:
        """(N,) bool: no digit by the verdict, but not firmly: the digit read is still offered."""
        return ~self.is_digit & (self.not_digit < DOUBT_BELOW)


class Classifier:
    """A trained model behind a compiled call, cheap enough to run on every stroke, and a
    second look for the drawings it is unsure of."""

    def __init__(self, model: keras.Model) -> None:
        import keras
        import tensorflow as tf

        self.model = model
        # The same network with the features and calibrated logits added: one pass gives all.
        network = keras.Model(
            model.inputs,
            {
                **model.output,
                "features": model.get_layer(FEATURES_LAYER).output,
                "calibrated": model.get_layer(CALIBRATED_LAYER).output,
            },
        )
        centre, scale = _feature_standardisation(model)

        def forward(images):
            outputs = network(images, training=False)
            looks = (outputs["features"] - centre) * scale
            return {**outputs, "features": tf.math.l2_normalize(looks, axis=1)}

        # The traced function itself: calling it skips tf.function's dispatch, a third of
        # the network's time for one drawing.
        self._forward = tf.function(
            forward,
            input_signature=[tf.TensorSpec([None, FIELD, FIELD], tf.float32)],
            jit_compile=True,
        ).get_concrete_function()
        # Compile the two batch sizes a drawing at a time needs: itself, and its views.
        self._pass(np.zeros((1, FIELD, FIELD), np.float32))
        self._pass(np.zeros((len(_VIEWS), FIELD, FIELD), np.float32))

    def warm_up(self) -> None:
        """Compile the call for every batch size it is made at (up to MAX_BATCH) now, about
        half a second each, so that no reading after start-up waits for a compile."""
        for bucket in _buckets(MAX_BATCH):
            self._call(np.zeros((bucket, FIELD, FIELD), np.float32))

    def read_all(self, images: np.ndarray, second_look: bool = True) -> ModelOutputs:
        """(N, 28, 28) inputs in [0, 1] -> probabilities, verdicts and features.

        The network reads them all at once. With `second_look`, a drawing read less sure than
        SURE_ABOVE is read again from its views, and its probabilities are the softmax of the
        calibrated logits averaged over it and its views: it reads unfamiliar hands better.
        The verdict and features are always the first look's.
        """
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 3 or images.shape[1:] != (FIELD, FIELD):
            raise ValueError(f"the classifier expects (N, 28, 28) images, got shape {images.shape}")
        if len(images) == 0:
            width = self.model.get_layer(FEATURES_LAYER).output.shape[-1]
            return ModelOutputs(
                np.zeros((0, 10), np.float32),
                np.zeros(0, np.float32),
                np.zeros((0, width), np.float32),
            )
        outputs = self._pass(images)
        probabilities = outputs["probabilities"]
        unsure = np.flatnonzero(second_look & (probabilities.max(axis=1) < SURE_ABOVE))
        # A few drawings at a time, so that their views stay within one call's memory.
        for start in range(0, len(unsure), _DRAWINGS_PER_CALL):
            group = unsure[start : start + _DRAWINGS_PER_CALL]
            moved = self._pass(np.concatenate([views(images[index]) for index in group]))
            logits = moved["calibrated"].reshape(len(group), len(_VIEWS), -1)
            mean = (outputs["calibrated"][group] + logits.sum(axis=1)) / (len(_VIEWS) + 1)
            odds = np.exp(mean - mean.max(axis=1, keepdims=True))
            probabilities[group] = odds / odds.sum(axis=1, keepdims=True)
        return ModelOutputs(probabilities, outputs["verdict"][:, NOT_A_DIGIT], outputs["features"])

    def _pass(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The network over (N >= 1, 28, 28) float32 inputs, MAX_BATCH at a time: every
        output, as numpy."""
        if len(images) <= MAX_BATCH:
            return self._call(images)
        parts = [
            self._call(images[start : start + MAX_BATCH])
            for start in range(0, len(images), MAX_BATCH)
        ]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    def _call(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """One compiled call over at most MAX_BATCH inputs."""
        count = len(images)
        bucket = _bucket(count)
        if bucket != count:
            images = np.concatenate([images, np.zeros((bucket - count, FIELD, FIELD), np.float32)])
        return {name: np.array(value)[:count] for name, value in self._forward(images).items()}

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 28) inputs in [0, 1] -> (N, 10) calibrated probabilities and (N,) is-digit."""
        outputs = self.read_all(images)
        return outputs.probabilities, outputs.is_digit

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 inputs in [0, 1] -> (N, 10) calibrated probabilities."""
        return self.read(images)[0]

    def is_digit(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) inputs in [0, 1] -> (N,) bool: True where the drawing reads as a digit."""
        return self.read_all(images, second_look=False).is_digit


def _bucket(count: int) -> int:
    """The batch size `count` inputs are called at. XLA compiles once per batch size: a power
    of two, padded up to, lets a few sizes serve all."""
    return 1 << (count - 1).bit_length()


def _buckets(largest: int) -> list[int]:
    """Every batch size called at for up to `largest` inputs."""
    return [1 << power for power in range(_bucket(largest).bit_length())]


def _feature_standardisation(model) -> tuple[np.ndarray, np.ndarray]:
    """The mean and 1/spread of the features layer's output over the training data.

    They are the moving statistics of the batch normalisation that reads that layer, so each
    feature counts on the same scale, whatever model file is loaded; without one, features
    are taken as they are.
    """
    import keras

    features = model.get_layer(FEATURES_LAYER)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization) and layer.input is features.output:
            mean = np.asarray(layer.moving_mean, np.float32)
            variance = np.asarray(layer.moving_variance, np.float32)
            return mean, 1 / np.sqrt(variance + layer.epsilon)
    width = features.output.shape[-1]
    return np.zeros(width, np.float32), np.ones(width, np.float32)


def load(path: str | Path = DEFAULT_PATH, threads: int | None = 1) -> Classifier:
    """Load a trained model file; ModelUnavailable says what is wrong and how to fix it.

    `threads` caps TensorFlow's threads per operation when it has not started yet: one
    is fastest for a drawing at a time (about half the latency of two on two cores) and
    lets concurrent sessions run side by side. None keeps TensorFlow's default, for training.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelUnavailable(f"{path} is a folder, not a model file. {NAMED_AS_A_MODEL}.")
    if not path.is_file():
        fix = _remedy(path, "Train one with `{command}` (20 to 90 minutes on two cores)")
        raise ModelUnavailable(f"No model file at {path}. {fix}.")
    try:
        with path.open("rb") as model_file:
            whole = zipfile.is_zipfile(model_file)
    except OSError as error:
        raise ModelUnavailable(
            f"The model file {path} could not be opened ({error.strerror or error}). "
            "Check that the app's user may read it."
        ) from error
    if not whole:  # Keras would call it "File not found"
        fix = _remedy(path, "Retrain it with `{command}`")
        raise ModelUnavailable(
            f"The model file {path} could not be read: a model file is a zip archive, and this "
            f"one is not (cut short in copying, or another kind of file). {fix}."
        )
    import keras
    import tensorflow as tf

    if threads is not None:
        # Once TensorFlow has started it keeps its thread pools, and says so with RuntimeError.
        with contextlib.suppress(RuntimeError):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # a truncated or foreign file fails in many ways inside Keras
        fix = _remedy(path, "Retrain it with `{command}`")
        raise ModelUnavailable(
            f"The model file {path} could not be read ({type(error).__name__}: {error}). {fix}."
        ) from error
    shapes = model.output_shape if len(model.outputs) > 1 else [model.output_shape]
    outputs = dict(zip(model.output_names, shapes))
    if model.input_shape != (None, FIELD, FIELD) or outputs != EXPECTED_OUTPUTS:
        raise ModelUnavailable(
            f"The model file {path} takes {model.input_shape} and gives {outputs or None}, not "
            f"(None, 28, 28) -> {EXPECTED_OUTPUTS}. Retrain it with `{train_command(path)}`."
        )
    return Classifier(model)


def train_command(path: str | Path = DEFAULT_PATH) -> str:
    """The command that trains a model into `path`: a file other than the committed one is
    named, so that training does not write the committed one instead."""
    path = Path(path).resolve()
    return (
        TRAIN_COMMAND if path == DEFAULT_PATH else f"{TRAIN_COMMAND} --out {shlex.quote(str(path))}"
    )


def _remedy(path: Path, training: str) -> str:
    """`training`, with the command that trains into `path` as its {command}, and how to get
    the committed model back; for a path no model can have, what a model file is."""
    if path.suffix != MODEL_SUFFIX:
        return NAMED_AS_A_MODEL
    return training.format(command=train_command(path)) + _or_restore(path)


def _or_restore(path: Path) -> str:
    """How to get the committed model back, when `path` is the committed model's file."""
    if path.resolve() != DEFAULT_PATH:
        return ""
    return ", or restore it with `git checkout -- model.keras`"


def metrics_path(model_path: str | Path = DEFAULT_PATH) -> Path:
    """Where the training metrics of a model file live: beside it, as JSON."""
    return Path(model_path).with_suffix(".metrics.json")


def load_metrics(model_path: str | Path = DEFAULT_PATH) -> ModelMetrics | None:
    """The metrics train_model.py wrote beside the model, or None when there are none.

    ValueError says what is wrong with a file that is there but unreadable or incomplete.
    """
    path = metrics_path(model_path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ValueError(f"{path} could not be read ({error})") from error
    try:
        return ModelMetrics.from_dict(json.loads(text))
    except ValueError as error:  # JSONDecodeError is one
        raise ValueError(f"{path} is not a complete metrics file: {error}") from error
