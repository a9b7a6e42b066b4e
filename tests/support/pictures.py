"""Pictures for the reading tests: digits and numbers drawn in any colours, photographed, and
files damaged or made to mislead, as the page and the API receive them."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

from devtools.drawing import Digit, Segments
from devtools.numbers import marks_in, write_number
from devtools.pictures import encoded, on_ruled_paper, paper_photo, png
from preprocess import canvas_to_ink
from training.canvas_drawings import draw

CELL = 240  # px: each digit of a written number gets a cell this wide on a 280 px high canvas
MARK_GAP = 0.45  # the space round a point or comma in a written number, as a share of its height
DASH_GAP = 0.7  # ...and round a dash


def drawn_digit(digit: Digit, setup: str) -> np.ndarray:
    """One digit, large in the 280x280 canvas, in a colour set-up of `canvas_drawings`."""
    return draw(digit.segments, 200, 40, 60, 18, setup)


def written_number(clear_digits: dict[int, Digit], number: str, setup: str) -> np.ndarray:
    """A number as one RGBA canvas: each digit drawn in its own CELL-wide cell, side by side."""
    margin = (280 - CELL) // 2
    cells = [drawn_digit(clear_digits[int(d)], setup)[:, margin : margin + CELL] for d in number]
    return np.concatenate(cells, axis=1)


def written(clear_digits: dict[int, Digit], number: str, seed: int = 0) -> np.ndarray:
    """A number written on the page's wide canvas, black on white: the image the canvas sends.
    A point, comma or dash in `number` is written as one, with more space round it."""
    digits = [clear_digits[int(label)].segments for label in number if label.isdigit()]
    marks = dict(marks_in(number))
    if len(marks) < len(marks_in(number)):
        raise ValueError(f"one mark before each digit, not {number!r}")
    return written_strokes(digits, seed, marks)


def two_lines(
    clear_digits: dict[int, Digit], upper: str, lower: str, space: float = 0.35
) -> np.ndarray:
    """Two numbers written one above the other on the page's wide canvas, each 100 px high
    with `space` of that between them: RGBA, black on white, as the canvas sends it."""
    height, canvas = 100, np.zeros((280, 700), np.float32)
    top = (280 - 2 * height - round(space * height)) // 2
    for number in (upper, lower):
        ink = canvas_to_ink(written(clear_digits, number))
        rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        line = Image.fromarray(ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1])
        width = round(line.width * height / line.height)
        canvas[top : top + height, 40 : 40 + width] = np.asarray(
            line.resize((width, height), Image.Resampling.BILINEAR)
        )
        top += height + round(space * height)
    grey = np.rint(255 * (1 - canvas.clip(0, 1))).astype(np.uint8)[..., None]
    return np.concatenate([grey, grey, grey, np.full_like(grey, 255)], axis=-1)


def side_by_side(clear_digits: dict[int, Digit], number: str, height: float = 110) -> np.ndarray:
    """Digits written side by side across the one-digit canvas, as the canvas sends them."""
    step = 260 / len(number)
    return np.minimum.reduce(
        [
            clear_digits[int(digit)].image(min(height, 0.9 * step), 80, 10 + index * step)
            for index, digit in enumerate(number)
        ]
    )


def written_strokes(
    digits: list[Segments], seed: int = 0, marks: dict[int, str] | None = None
) -> np.ndarray:
    """Characters' strokes written side by side on the page's wide canvas, as `written`; a
    mark after the first k where marks[k] says so (`devtools.numbers.write_number`)."""
    marks = marks or {}
    room = {".": MARK_GAP, ",": MARK_GAP, "-": DASH_GAP}
    gaps = [room.get(marks.get(after), 0.2) for after in range(1, len(digits))]
    strokes = write_number(
        digits, gaps, 170, 14, "black on transparent", np.random.default_rng(seed), marks=marks
    )
    white = 255 - strokes.rgba[..., 3:]
    return np.concatenate([white, white, white, np.full_like(white, 255)], axis=-1)


def photographed(
    clear_digits: dict[int, Digit], number: str, paper: str = "plain", slant: float = 0.0
) -> Image.Image:
    """A number written on paper and photographed under uneven light; on lined or squared
    paper, whose lines (110 px apart, as dark as 0.6 of the pen) go on round the number and
    are turned `slant` degrees, as in a photo held askew."""
    ink = canvas_to_ink(written(clear_digits, number, seed=5))
    if paper != "plain":
        sheet = np.pad(ink, ((120, 120), (150, 150)))
        ink = on_ruled_paper(sheet, 110.0, paper == "squared", slant, 3.0, 0.6, offset=40.0)
    return paper_photo(ink, scale=2.0)


def portrait_photo(clear_digits: dict[int, Digit], number: str) -> Image.Image:
    """A number photographed upright on a sheet taller than it is wide, the number in its middle."""
    ink = canvas_to_ink(written(clear_digits, number, seed=5))
    margin = ink.shape[1] // 2
    return paper_photo(np.pad(ink, ((margin, margin), (0, 0))))


def landscape_photo(clear_digits: dict[int, Digit], number: str) -> Image.Image:
    """A number photographed on a sheet 4:3 across, as a phone's camera held sideways takes
    it, the number in its middle."""
    ink = canvas_to_ink(written(clear_digits, number, seed=5))
    margin = (ink.shape[1] * 3 // 4 - ink.shape[0]) // 2
    return paper_photo(np.pad(ink, ((margin, margin), (0, 0))))


def narrow_crop(clear_digits: dict[int, Digit]) -> Image.Image:
    """A scan of a 1 cropped close round it: 40 px wide and 250 tall, black on white."""
    ink = canvas_to_ink(clear_digits[1].image(200, 40, 40))
    rows, columns = np.flatnonzero(ink.max(axis=1)), np.flatnonzero(ink.max(axis=0))
    one = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    strokes = Image.fromarray((255 - one * 255).astype(np.uint8)).resize((30, 230))
    scan = Image.new("L", (40, 250), 255)
    scan.paste(strokes, (5, 10))
    return scan


ORIENTATION, IMAGE_WIDTH = 0x0112, 0x0100  # EXIF tags
SHORT, ASCII = 3, 2  # EXIF value types


def exif_block(entries: list[tuple[int, int, int, bytes]], endian: str = "<") -> bytes:
    """An EXIF block of one IFD, as written in a file: (tag, type, count, 4 value bytes) each.

    Nothing checks that a value fits its tag, as nothing does in the files people upload.
    """
    body = struct.pack(f"{endian}H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(f"{endian}HHI", tag, kind, count) + value[:4].ljust(4, b"\0")
    order = b"II*\0" if endian == "<" else b"MM\0*"
    return b"Exif\0\0" + order + struct.pack(f"{endian}I", 8) + body + struct.pack(f"{endian}I", 0)


def sideways_with_broken_exif(picture: Image.Image, format: str) -> bytes:
    """The picture as a camera held sideways saves it (EXIF orientation 6), with the EXIF's
    ImageWidth stored as text: a tag of the wrong type, as some editors write it."""
    exif = exif_block(
        [(IMAGE_WIDTH, ASCII, 4, b"640\0"), (ORIENTATION, SHORT, 1, struct.pack("<H", 6))]
    )
    return encoded(picture.transpose(Image.Transpose.ROTATE_90), format, exif=exif)


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


def animated(format: str) -> bytes:
    """A three-frame animation in `format` (PNG or WebP), which the reader refuses."""
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("white", "black", "white")]
    return encoded(frames[0], format, save_all=True, append_images=frames[1:], duration=100)


def truncated_jpeg() -> bytes:
    """The first half of a JPEG of noise: a file cut off while it was sent."""
    noise = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    data = encoded(Image.fromarray(noise), "JPEG", quality=90)
    return data[: len(data) // 2]
