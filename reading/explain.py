"""Why the model answered: which strokes of the 28x28 input drove its answer, as a heat-map.

Occlusion: a small blank patch is slid over the input and the model reads every occluded
copy in one batched call; the more hiding a patch lowers the model's log-odds for the
digit, the hotter the strokes it hid. Blank places hide nothing, so they stay cold.
Every copy is read at the network's first look, so that all of them are read alike (the
second look would average views for some copies and not others); nothing runs unless the
page asks for it.
"""

from __future__ import annotations

import numpy as np

from digit_model import Classifier
from preprocess import FIELD, enlarge

PATCH = 6  # side of the blank square slid over the input: about two strokes wide...
STRIDE = 2  # ...moved this many pixels at a time (145 copies of the input in one call)
_CORNERS = range(0, FIELD - PATCH + 1, STRIDE)
PAPER = np.array([255, 255, 255], np.float32)
COLD = np.array([120, 120, 120], np.float32)  # strokes that did not matter
WARM = np.array([255, 150, 0], np.float32)  # strokes that mattered some...
HOT = np.array([210, 0, 0], np.float32)  # ...and the ones that mattered most
GLOW = 0.3  # how strongly the heat tints the paper around the strokes
TINY = 1e-30  # keeps the logarithm finite when the model is certain


def _log_odds(probabilities: np.ndarray, digit: int) -> np.ndarray:
    """log p(digit) - log p(any other digit), accurate even when p(digit) rounds to 1."""
    others = np.delete(probabilities, digit, axis=1).sum(axis=1)
    return np.log(probabilities[:, digit] + TINY) - np.log(others + TINY)


def saliency(classifier: Classifier, image: np.ndarray, digit: int) -> np.ndarray:
    """(28, 28) float32 >= 0: how much each stroke pixel holds up the model's belief in `digit`.

    Each patch's effect (the drop in log-odds when it is hidden) is shared among the ink it
    hid, in proportion to that ink; blank pixels get none.
    """
    image = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0.0, 1.0)
    if image.shape != (FIELD, FIELD):
        raise ValueError(f"saliency expects a (28, 28) input, got shape {image.shape}")
    if not 0 <= digit <= 9:
        raise ValueError(f"saliency expects a digit 0-9, got {digit}")

    corners = [(row, col) for row in _CORNERS for col in _CORNERS]
    copies = np.repeat(image[None], len(corners) + 1, axis=0)  # the last one stays whole
    for copy, (row, col) in zip(copies, corners):
        copy[row : row + PATCH, col : col + PATCH] = 0.0
    log_odds = _log_odds(classifier.read_all(copies, second_look=False).probabilities, digit)

    heat = np.zeros((FIELD, FIELD), dtype=np.float32)
    for drop, (row, col) in zip(log_odds[-1] - log_odds[:-1], corners):
        hidden = image[row : row + PATCH, col : col + PATCH]
        if hidden.sum() > 0:
            heat[row : row + PATCH, col : col + PATCH] += drop * hidden / hidden.sum()
    return np.clip(heat, 0.0, None)


def overlay(image: np.ndarray, heat: np.ndarray, size: int = 280) -> np.ndarray:
    """The input's strokes coloured by the heat-map (grey: no effect, orange to red: drove the
    answer), over a faint glow of the same colours: (size, size, 3) RGB uint8."""
    image = np.asarray(image, dtype=np.float32)
    heat = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0, None)
    if image.shape != (FIELD, FIELD) or heat.shape != (FIELD, FIELD):
        raise ValueError(
            f"overlay expects (28, 28) input and heat-map, got {image.shape} and {heat.shape}"
        )
    ink = enlarge(np.clip(np.nan_to_num(image), 0.0, 1.0), size, smooth=True)[..., None]
    peak = float(heat.max())
    strength = enlarge(heat / peak if peak > 0 else heat, size, smooth=True)[..., None]
    hot = WARM + strength * (HOT - WARM)
    paper = PAPER + GLOW * strength * (hot - PAPER)
    stroke = COLD + np.sqrt(strength) * (hot - COLD)
    return ((1 - ink) * paper + ink * stroke).round().clip(0, 255).astype(np.uint8)
