"""The handwriting training holds out, to validate on what users meet: writers of the UNIPEN
sites trained on, and sources whose places it never sees (UNSEEN_SITES and CVL's validation
writers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from training import cvl, unipen
from training.canvas_drawings import drawn

SPLIT_SEED = 2026  # which pen writers are held out: fixed, so every run validates on the same
UNSEEN_SITES = ("apa", "tos")  # UNIPEN sites never trained on: they stand for unseen places
CVL_VALID = "CVL valid"  # the unseen source of CVL's validation writers


class PenSplit(NamedTuple):
    """UNIPEN characters: to train on, of held-out writers at trained-on sites, of unseen sites."""

    train: unipen.PenCharacters
    seen_sites: unipen.PenCharacters
    unseen_sites: unipen.PenCharacters


def pen_split(path: str | Path) -> PenSplit:
    """Every UNIPEN character of one file, split by site and then by writer."""
    pen = unipen.load(path)
    unseen = np.isin(pen.site, UNSEEN_SITES)
    held_out = unipen.validation_writers(pen.writer, SPLIT_SEED) & ~unseen
    return PenSplit(pen.subset(~unseen & ~held_out), pen.subset(held_out), pen.subset(unseen))


@dataclass(frozen=True)
class Source:
    """Handwriting of one source training never saw, drawn and normalised for the network."""

    digits: np.ndarray  # (N, 28, 28) float32
    labels: np.ndarray  # (N,) the digit meant
    writers: int
    letters: np.ndarray  # (M, 28, 28) float32: letters no one would mean as a digit
    letter_labels: np.ndarray  # (M,) str: the letter each one is


def unseen_sources(
    pen_sites: unipen.PenCharacters | None,
    cvl_valid: cvl.CvlDigits | None,
    seed: int,
    sites: tuple[str, ...] = UNSEEN_SITES,
) -> dict[str, Source]:
    """Each of `sites` in `pen_sites`, drawn on the canvas as a person would, and CVL's
    validation writers, by name. One seed draws them all, in order."""
    rng = np.random.default_rng(seed)
    sources = {}
    for site in sites if pen_sites is not None else ():
        pen = pen_sites.subset(pen_sites.site == site)
        digits = pen.subset(pen.is_digit)
        letters = pen.subset(pen.is_other & np.char.isalpha(pen.label.astype(str)))
        sources[f"UNIPEN {site}"] = Source(
            drawn(digits.segments, rng),
            digits.digits,
            len(set(digits.writer)),
            drawn(letters.segments, rng),
            letters.label.astype(str),
        )
    if cvl_valid is not None:
        sources[CVL_VALID] = Source(
            cvl_valid.images / np.float32(255),
            cvl_valid.digits,
            len(set(cvl_valid.writer)),
            np.zeros((0, 28, 28), np.float32),
            np.zeros(0, str),
        )
    return sources


def held_out_sets(
    pen_path: str | None, cvl_path: str | None
) -> tuple[unipen.PenCharacters | None, dict[str, Source]]:
    """What training keeps out of the given files: writers of trained-on UNIPEN sites, and the
    unseen sources (UNSEEN_SITES and CVL's validation writers)."""
    pen = pen_split(pen_path) if pen_path else None
    cvl_valid = cvl.load(cvl_path, "valid") if cvl_path else None
    unseen = unseen_sources(pen.unseen_sites if pen else None, cvl_valid, SPLIT_SEED)
    return (pen.seen_sites if pen else None), unseen
