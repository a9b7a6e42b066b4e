"""The network, in one place: a small convnet for 28x28 drawings (about 140k parameters).

It scores eleven classes, the ten digits and "not a digit", and gives two outputs:
`probabilities`, the ten digits' softmax with a fitted temperature so that confidence
means what it says, and `verdict`, the eleven-way softmax whose last column says how
likely the drawing is no digit at all (shifted so that 0.5 is the chosen threshold).
"""

import keras
from keras import layers

from preprocess import FIELD


def build_model(temperature: float = 1.0, not_digit_offset: float = 0.0) -> keras.Model:
    """Two convolution blocks and a dense head scoring the ten digits and "not a digit"."""
    inputs = keras.Input(shape=(FIELD, FIELD), name="image")
    x = layers.Reshape((FIELD, FIELD, 1), name="channel")(inputs)
    for block, (filters, first_kernel) in enumerate(((32, 5), (64, 3)), start=1):
        for step, kernel in enumerate((first_kernel, 3)):
            name = f"{2 * block - 1 + step}"
            x = layers.Conv2D(filters, kernel, use_bias=False, name=f"conv{name}")(x)
            x = layers.BatchNormalization(name=f"norm{name}")(x)
            x = layers.ReLU(name=f"relu{name}")(x)
        x = layers.MaxPooling2D(name=f"pool{block}")(x)
        x = layers.Dropout(0.1, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="norm5")(x)
    x = layers.ReLU(name="relu5")(x)
    x = layers.Dropout(0.3, name="dropout3")(x)
    digit_logits = layers.Dense(10, name="digit_logits")(x)
    not_digit_logit = layers.Dense(1, name="not_digit_logit")(x)

    calibrated = layers.Rescaling(1 / temperature, name="temperature")(digit_logits)
    probabilities = layers.Softmax(name="probabilities")(calibrated)
    threshold = layers.Rescaling(1.0, offset=-not_digit_offset, name="threshold")(not_digit_logit)
    logits = layers.Concatenate(name="logits")([digit_logits, threshold])
    verdict = layers.Softmax(name="verdict")(logits)
    return keras.Model(
        inputs, {"probabilities": probabilities, "verdict": verdict}, name="digit_convnet"
    )


def training_model(model: keras.Model) -> keras.Model:
    """The same layers ending in the eleven logits, for training with a cross-entropy loss."""
    return keras.Model(model.inputs, model.get_layer("logits").output, name="digit_convnet_logits")
