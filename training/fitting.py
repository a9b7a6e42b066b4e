"""What training a new network, the sites' quick models and fine-tuning share: one seed,
batches shuffled and augmented, and the loss."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from digit_model import NOT_A_DIGIT
from digit_model.network import training_model
from training.augment import augment

SEED = 1337  # --seed's default; batches always shuffle, and the figures always draw, from this one
BATCH_SIZE = 128
LABEL_SMOOTHING = 0.1


def deterministic(seed: int) -> None:
    """Seed every generator and make TensorFlow's ops repeat exactly: one seed, one model."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def make_dataset(x: np.ndarray, y: np.ndarray, training: bool) -> tf.data.Dataset:
    """Batches of (image in [0, 1], label), augmented and shuffled when training."""
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        data = data.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)
    data = data.batch(BATCH_SIZE)
    if training:
        data = data.map(lambda images, labels: (augment(images), labels), tf.data.AUTOTUNE)
    data = data.map(lambda images, labels: (images, tf.one_hot(labels, NOT_A_DIGIT + 1)))
    return data.prefetch(tf.data.AUTOTUNE)


def compiled_for_training(model: keras.Model, optimizer: keras.Optimizer) -> keras.Model:
    """The model's eleven-logit view, compiled with the loss and metric training and
    fine-tuning share."""
    trainable = training_model(model)
    trainable.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=LABEL_SMOOTHING
        ),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return trainable
