"""Digits as low-resolution scanners and old forms give them: the digit's box filling a small
black-and-white grid, 16x16 or 32x32, and sent scaled up, so that every scanned pixel is a block.

Such scans reach the HTTP API and the photo mode, not the canvas. The figures read the
held-out sources scanned this way, as the API reads them (`training.figures`), and
`benchmarks/bench_coarse_scans.py` sends them to the API's reading as pictures.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SCAN_SIDES = (16, 32)  # the grids: 16x16 like old forms' cells, 32x32 like fax-era bitmaps
BLOCK = 6  # screen pixels per scanned pixel in the scaled-up picture that is sent
INK_LEVEL = 0.35  # the scanner's black-or-white threshold, of the darkest cell's ink


def binary_scan(
    image: np.ndarray, side: int, level: float = INK_LEVEL, stretch: bool = False, margin: int = 0
) -> np.ndarray:
    """(28, 28) ink in [0, 1] scanned into a `side` x `side` black-and-white grid, each cell
    black when its ink reaches `level` of the darkest cell's; the digit's box fills the grid
    (stretched to fill both ways, or its shape kept) inside `margin` blank cells. Scaled up by
    BLOCK with no smoothing: the blocky ink an upload brings."""
    rows, cols = np.nonzero(image > 0.05)
    if len(rows) == 0:
        return np.zeros((side * BLOCK, side * BLOCK), np.float32)
    crop = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    room = side - 2 * margin
    height, width = crop.shape
    if stretch:
        size = (room, room)
    else:
        scale = room / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
    grey = np.asarray(
        Image.fromarray(np.uint8(np.round(crop * 255))).resize(size, Image.BOX), np.float32
    )
    grid = np.zeros((side, side), np.float32)
    top, left = (side - size[1]) // 2, (side - size[0]) // 2
    grid[top : top + size[1], left : left + size[0]] = grey > level * grey.max()
    return np.kron(grid, np.ones((BLOCK, BLOCK), np.float32))
