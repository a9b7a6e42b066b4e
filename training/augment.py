"""What the canvas brings that normalisation cannot undo, drawn at random over each batch:
rotation and shear, an elastic wobble, strokes from a thin pen to a fat finger, and digits a
little off-centre or oddly sized."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

ROTATION = math.radians(15)  # each augmentation's range, uniform either way
SHEAR = 0.3
SCALE = (0.8, 1.15)
ASPECT = (0.85, 1.15)
SHIFT = 2.5  # pixels of the 28x28 field
WOBBLE = 0.8  # elastic displacement, pixels
THICKNESS = {"thinner": 0.15, "same": 0.40, "thicker": 0.30, "much thicker": 0.15}
AUGMENTED_SHARE = 0.8  # the rest of each batch stays as drawn, as the test digits are


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
