"""The lines printed on paper (lined or squared, a form's cells): where they lie in a photo's
or a drawing's ink, level or turned, and that ink with them left out, the pen's kept."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from preprocess import EIGHT_CONNECTED, HAZE, PEN_OVER_LINE, block_maximum, without_printed_lines

MAX_SLANT = 10.0  # degrees a photographed page may be turned and still have its lines found
LINE_MARGIN = 2  # pixels either side of a printed line that go with it
SLANT_SIDE = 200  # the slant is first found on a copy at most this many pixels across


def paper_lines(ink: np.ndarray) -> np.ndarray:
    """Where a photo's ink has the lines printed on its paper (lined or squared paper, a
    form's cells), found level or turned by up to MAX_SLANT degrees: a mask as the ink lies,
    so boxes on the ink stay where they are, with the stubs where turned lines leave the
    frame; all False when it has none.

    The lines are found on the ink turned to level them (`preprocess.without_printed_lines`),
    and what that would erase is turned back.
    """
    slant = _slant(ink)
    if slant == 0.0:
        level, inside = ink, None
    else:
        level = ndimage.rotate(ink, slant, order=1)
        inside = ndimage.rotate(np.ones(ink.shape, np.float32), slant, order=1) > 0.5
    lines = (level >= HAZE) & (without_printed_lines(level, inside) == 0)
    if slant != 0.0 and lines.any():
        back = ndimage.rotate(lines.astype(np.float32), -slant, order=1)
        top, left = (np.array(back.shape) - ink.shape) // 2
        lines = back[top : top + ink.shape[0], left : left + ink.shape[1]] > 0.25
    if not lines.any():  # none found, or only specks that vanished when turned back
        return np.zeros(ink.shape, dtype=bool)
    # A line's thickness, but for the few places where lines cross or touch the writing.
    depth = ndimage.distance_transform_cdt(lines, metric="chessboard")
    thickness = 2 * float(np.percentile(depth[lines], 95))
    # The blurred edges of a photographed line are fainter than its core: they go with it.
    lines = ndimage.binary_dilation(lines, iterations=LINE_MARGIN)
    return lines | _edge_stubs((ink >= HAZE) & ~lines, thickness + 2 * LINE_MARGIN)


def lines_left_out(strength: np.ndarray, ink: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """`strength` (a photo's contrast, or a drawing's ink) nil on the paper's `lines`, but
    where the pen writes along a line or crosses it: there the pen is darker than the line,
    and is kept where it joins the handwriting off the lines."""
    pen = lines & (strength >= PEN_OVER_LINE * np.percentile(strength[lines], 90))
    writing = ndimage.binary_dilation(~lines & (ink >= HAZE), structure=EIGHT_CONNECTED)
    pieces, _ = ndimage.label(pen, structure=EIGHT_CONNECTED)
    pen = np.isin(pieces, np.unique(pieces[pen & writing]))
    return np.where(lines & ~pen, 0.0, strength)


def _edge_stubs(inked: np.ndarray, line_width: float) -> np.ndarray:
    """Pieces of ink against the picture's edge and no wider than a line along it: where a
    turned line leaves the frame, too short to be found as a line."""
    labels, _ = ndimage.label(inked, structure=EIGHT_CONNECTED)
    height, width = inked.shape
    stubs = [
        index
        for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1)
        if ((rows.start == 0 or rows.stop == height) and rows.stop - rows.start <= line_width)
        or ((cols.start == 0 or cols.stop == width) and cols.stop - cols.start <= line_width)
    ]
    return np.isin(labels, stubs)


def _slant(ink: np.ndarray) -> float:
    """Degrees to turn the ink (counter-clockwise) so its longest straight lines lie level or
    upright: where the ink's profile across the lines is sharpest, first on a small copy,
    then to a pixel's drift across the whole ink."""
    coarse, _ = block_maximum(ink, SLANT_SIDE)
    fine = np.degrees(np.arctan(1 / max(ink.shape)))
    rough = np.degrees(np.arctan(1 / max(coarse.shape)))
    best = _sharpest(coarse, np.arange(-MAX_SLANT, MAX_SLANT + rough / 2, rough))
    best = _sharpest(ink, best + np.arange(-rough, rough + fine / 2, fine))
    return 0.0 if abs(best) < fine else float(best)


def _sharpest(ink: np.ndarray, angles: np.ndarray) -> float:
    """The angle (degrees) at which the inked pixels, projected across lines at that slant
    and down them, pile up most: the sum of squared counts per pixel-wide line."""
    rows, cols = (where.astype(np.float32) for where in np.nonzero(ink >= HAZE))
    if rows.size == 0:
        return 0.0

    def sharpness(angle: float) -> float:
        cos, sin = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        total = 0.0
        for position in (rows * cos - cols * sin, cols * cos + rows * sin):
            counts = np.bincount(np.round(position - position.min()).astype(np.int64))
            total += float(np.dot(counts, counts))
        return total

    return float(max(angles, key=sharpness))
