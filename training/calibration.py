"""The model's confidence fitted to handwriting it never saw: a temperature and a not-a-digit
threshold, and the calibration error they are judged by."""

from __future__ import annotations

import math

import keras
import numpy as np

from digit_model import NOT_A_DIGIT
from digit_model.network import build_model, training_model
from training.sources import Source

CALIBRATION_BINS = 15
MAX_DIGITS_FLAGGED = 0.0075  # at most this share of unseen sources' digits is flagged, on average


def calibration(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS
) -> dict:
    """Expected calibration error and the reliability diagram's bins (confidence vs accuracy)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    table, error = [], 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            gap = abs(confidence[members].mean() - correct[members].mean())
            error += members.mean() * gap
            table.append(
                {
                    "low": index / bins,
                    "high": (index + 1) / bins,
                    "confidence": round(float(confidence[members].mean()), 4),
                    "accuracy": round(float(correct[members].mean()), 4),
                    "samples": int(members.sum()),
                }
            )
    return {"ece": float(error), "samples": len(labels), "bins": table}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the digits' logits."""
    best, best_loss = 1.0, math.inf
    for temperature in np.arange(0.5, 4.0, 0.01):
        scaled = logits / temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_p = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(labels)), labels].mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return round(best, 2)


def not_digit_margin(logits: np.ndarray) -> np.ndarray:
    """How far the not-a-digit logit stands above all the digits' together (log-sum-exp)."""
    digits = logits[:, :NOT_A_DIGIT]
    top = digits.max(axis=1)
    return logits[:, NOT_A_DIGIT] - (top + np.log(np.exp(digits - top[:, None]).sum(axis=1)))


def not_digit_offset(margins: list[np.ndarray], share: float = MAX_DIGITS_FLAGGED) -> float:
    """A threshold on the not-a-digit margin that flags as many of the sources' digits as it
    may: at most `share` of them on average, each source counting equally.

    A limit per source would rest on a handful of digits in a small one and move the
    threshold from one training to the next. The threshold lies halfway between the highest
    digit kept and the lowest one flagged (a step above them all when none may be), so that
    no digit sits on it."""
    if not 0 <= share < 1:
        raise ValueError(f"share of digits flagged must be in [0, 1), not {share}")
    ordered = [np.sort(margin) for margin in margins]
    candidates = np.unique(np.concatenate(ordered))  # sorted, each value once
    flagged = np.mean(
        [
            (len(margin) - np.searchsorted(margin, candidates, side="right")) / len(margin)
            for margin in ordered
        ],
        axis=0,
    )
    kept = int(np.argmax(flagged <= share))  # `flagged` falls as the candidates rise
    if kept == len(candidates) - 1:
        return float(candidates[kept] + 1.0)
    return float((candidates[kept] + candidates[kept + 1]) / 2)


def calibrate(trained: keras.Model, unseen: dict[str, Source]) -> keras.Model:
    """The inference model with a temperature and a not-a-digit threshold fitted on the unseen
    sources (see `not_digit_offset`)."""
    logits = training_model(trained)
    per_source = [
        (logits.predict(source.digits, batch_size=1024, verbose=0), source.labels)
        for source in unseen.values()
    ]
    temperature = fit_temperature(
        np.concatenate([scores[:, :NOT_A_DIGIT] for scores, _ in per_source]),
        np.concatenate([labels for _, labels in per_source]),
    )
    offset = not_digit_offset([not_digit_margin(scores) for scores, _ in per_source])
    print(f"temperature {temperature:.2f}, not-a-digit offset {offset:.2f}")
    model = build_model(temperature, offset)
    model.set_weights(trained.get_weights())
    return model
