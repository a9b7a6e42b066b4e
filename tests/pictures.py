"""Pictures for the reading tests: digits and numbers drawn in any colours, as PNG bytes."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from canvas_drawings import draw
from tests.conftest import Digit

CELL = 240  # px: each digit of a written number gets a cell this wide on a 280 px high canvas


def drawn_digit(digit: Digit, setup: str) -> np.ndarray:
    """One digit, large in the 280x280 canvas, in a colour set-up of `canvas_drawings`."""
    return draw(digit.segments, 200, 40, 60, 18, setup)


def written_number(clear_digits: dict[int, Digit], number: str, setup: str) -> np.ndarray:
    """A number as one RGBA canvas: each digit drawn in its own CELL-wide cell, side by side."""
    margin = (280 - CELL) // 2
    cells = [drawn_digit(clear_digits[int(d)], setup)[:, margin : margin + CELL] for d in number]
    return np.concatenate(cells, axis=1)


def png(pixels: np.ndarray) -> bytes:
    """An RGBA or RGB array as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A small, valid PNG whose header claims another size: how decompression bombs begin."""
    data = bytearray(png(np.full((8, 8), 255, np.uint8)))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header[4:]
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def truncated_png() -> bytes:
    """The first half of a PNG of noise: a file cut off while it was sent."""
    noise = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    data = png(noise)
    return data[: len(data) // 2]
