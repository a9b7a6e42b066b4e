"""Digits that touch, cut apart: a group's ink cut top to bottom along paths of least ink.

Cuts are tried at the lightest columns of the group's ink, then at evenly spaced ones, for
digits that touch over a width; each bends around ink on its way down, and no two cross.
Which of the regions between them make up each digit is chosen later, with the whole line.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from reading.recent import Recent, fingerprint

MIN_PART = 0.15  # cuts are at least this fraction of the line height apart...
DRIFT = 0.02  # ...and bend around ink, at this cost per pixel away from their column
RECENT_CUTS = 64  # groups' cuts kept (at most 100 kB each, a few kB for a digit)

KEPT_CUTS: Recent[np.ndarray | None] = Recent(RECENT_CUTS)


def cut_regions(own: np.ndarray, line_height: float) -> np.ndarray:
    """Cut a group's ink along paths of least ink: the region number of every pixel, 0 on."""
    regions = np.zeros(own.shape, dtype=np.int32)
    margin = max(1, round(MIN_PART * line_height))
    seams = KEPT_CUTS.get((fingerprint(own), margin), lambda: _cuts(own, margin))
    if seams is None:
        return regions
    everywhere = np.arange(own.shape[1])
    for seam in seams:
        regions += everywhere[None, :] >= seam[:, None]
    return regions


def _cuts(own: np.ndarray, margin: int) -> np.ndarray | None:
    """Where to cut a group's ink, at least `margin` apart: each cut's column in every row,
    left to right and never crossing; None when the group is too narrow to cut."""
    width = own.shape[1]
    profile = ndimage.uniform_filter1d(own.sum(axis=0), size=5)
    valleys = [
        column
        for column in range(margin, width - margin)
        if profile[column] <= profile[column - 1] and profile[column] < profile[column + 1]
    ]
    columns: list[int] = []
    # The lightest columns first; then evenly spaced ones, for digits that touch over a width.
    for column in [*sorted(valleys, key=lambda c: profile[c]), *range(margin, width, margin)]:
        if column < width - margin // 2 and all(abs(column - c) >= margin for c in columns):
            columns.append(column)
    if not columns:
        return None
    seams = np.maximum.accumulate(_seams(own, sorted(columns), margin), axis=0)  # never cross
    return seams.astype(np.int32)


def _seams(own: np.ndarray, columns: list[int], reach: int) -> np.ndarray:
    """For each column, the top-to-bottom path through the least ink within `reach` of it,
    as its column in every row: (len(columns), height)."""
    height, width = own.shape
    offsets = np.arange(-reach, reach + 1)
    near = np.array(columns)[:, None] + offsets  # (seams, band)
    inside = (near >= 0) & (near < width)
    band = np.where(inside, own[:, np.clip(near, 0, width - 1)], np.inf)  # (rows, seams, band)
    band += DRIFT * np.abs(offsets)
    blocked = np.full((len(columns), 1), np.inf)
    cost = band[0]
    came_from = np.zeros(band.shape, dtype=np.int8)
    for row in range(1, height):
        options = np.stack(
            [np.hstack([blocked, cost[:, :-1]]), cost, np.hstack([cost[:, 1:], blocked])]
        )
        came_from[row] = options.argmin(axis=0) - 1
        cost = band[row] + options.min(axis=0)
    steps = np.empty((len(columns), height), dtype=np.int64)
    steps[:, -1] = cost.argmin(axis=1)
    every = np.arange(len(columns))
    for row in range(height - 1, 0, -1):
        steps[:, row - 1] = steps[:, row] + came_from[row, every, steps[:, row]]
    return np.take_along_axis(near, steps, axis=1)
