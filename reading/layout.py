"""How ink lies, told without the model: parts side by side, and lines of writing.

Both look only at which rows and columns hold ink, so they take well under a millisecond: a
drawing sent as one digit is read again as a number only when its parts lie side by side,
and a number is no answer when its ink holds several lines of writing, one above another.
"""

from __future__ import annotations

import itertools

import numpy as np

from preprocess import HAZE, as_unit_ink

SIDE_BY_SIDE = 0.5  # parts apart that are this share of all the ink's height may be digits
LINE_HEIGHT = 0.5  # bands of rows at least this share of the tallest one's height...
LINE_INK = 0.1  # ...and holding this share of the heaviest one's ink are lines,...
LINE_GAP = 0.1  # ...when this share of the taller one's height, or more, lies empty between


def _runs(indices: np.ndarray) -> list[np.ndarray]:
    """Sorted indices split where they skip: the runs of inked columns, or of rows."""
    return np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)


def side_by_side(ink: np.ndarray) -> bool:
    """Whether the ink has empty columns between parts of it, two of them at least SIDE_BY_SIDE
    of its height: whether it may be digits side by side rather than one digit, told without
    the model (in well under a millisecond)."""
    inked = as_unit_ink(ink, "side_by_side") >= HAZE
    columns = np.flatnonzero(inked.any(axis=0))
    if columns.size == 0:
        return False
    runs = _runs(columns)
    if len(runs) == 1:
        return False

    def height(rows: np.ndarray) -> int:
        inked_rows = np.flatnonzero(rows)
        return int(inked_rows[-1] - inked_rows[0] + 1)

    whole = height(inked.any(axis=1))
    parts = [height(inked[:, run[0] : run[-1] + 1].any(axis=1)) for run in runs]
    return sum(part >= SIDE_BY_SIDE * whole for part in parts) >= 2


def lines_of_writing(ink: np.ndarray) -> int:
    """How many lines of writing the ink holds, one above another: bands of inked rows at
    least LINE_HEIGHT of the tallest one's height and LINE_INK of the heaviest one's ink (a
    5's bar, a comma or a scratch is no line), over the same columns, with empty rows between
    them at least LINE_GAP of the taller one's height (a pen lift's few pixels are no gap); 0 for
    blank ink."""
    ink = as_unit_ink(ink, "lines_of_writing")
    inked = ink >= HAZE
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return 0
    bands = []  # (top, bottom, first column, last column, ink) of each band of inked rows
    for run in _runs(rows):
        band = slice(run[0], run[-1] + 1)
        columns = np.flatnonzero(inked[band].any(axis=0))
        bands.append((run[0], run[-1] + 1, columns[0], columns[-1], float(ink[band].sum())))
    tallest = max(bottom - top for top, bottom, *_ in bands)
    heaviest = max(mass for *_, mass in bands)
    lines = [
        band
        for band in bands
        if band[1] - band[0] >= LINE_HEIGHT * tallest and band[4] >= LINE_INK * heaviest
    ]
    count = 1
    for upper, lower in itertools.pairwise(lines):
        taller = max(upper[1] - upper[0], lower[1] - lower[0])
        over_each_other = upper[2] <= lower[3] and lower[2] <= upper[3]
        if over_each_other and lower[0] - upper[1] >= LINE_GAP * taller:
            count += 1
    return count
