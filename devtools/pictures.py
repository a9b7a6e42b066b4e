"""Pictures as files: arrays and images encoded as PNG, JPEG or WebP bytes, handwriting
photographed on paper under uneven light, and scanned digits in the cells of a form or
photographed on lined or squared paper."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def encoded(image: Image.Image, format: str, **options) -> bytes:
    """The image saved in `format` (Pillow's name, with its options), as the file's bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def png(pixels: np.ndarray) -> bytes:
    """An RGBA or RGB array as PNG bytes."""
    return encoded(Image.fromarray(pixels), "PNG")


def paper_photo(
    strokes: np.ndarray,
    scale: float = 2.0,
    dark_ink: bool = True,
    noise: float = 0.03,
    seed: int = 0,
) -> Image.Image:
    """The strokes on paper under uneven light, as a camera sees them: RGB, blurred and noisy."""
    height, width = strokes.shape
    size = (round(width * scale), round(height * scale))
    ink = np.asarray(Image.fromarray(strokes).resize(size, Image.Resampling.BILINEAR))
    rows, cols = (axis.astype(np.float32) / max(size) for axis in np.ogrid[: size[1], : size[0]])
    light = 0.5 + 0.45 * cols + 0.1 * rows  # brighter towards the window
    light *= 1 - 0.35 * np.exp(-((cols - 0.3) ** 2 + (rows - 0.2) ** 2) / 0.02)  # a hand's shadow
    if dark_ink:
        reflectance = 0.9 - 0.75 * ink
        tint = np.array([1.0, 0.97, 0.9], np.float32)  # warm paper; bluish-black ink looks the same
    else:
        reflectance = 0.15 + 0.7 * ink  # chalk on a blackboard
        tint = np.array([0.9, 1.0, 0.95], np.float32)
    rgb = (light * reflectance)[..., None] * tint
    rgb += noise * np.random.default_rng(seed).standard_normal(rgb.shape, np.float32)
    picture = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    return picture.filter(ImageFilter.GaussianBlur(0.8 * scale))


FORM_CELL = 44  # pixels across a form's cell that holds a 28x28 scanned digit
FORM_LINES = ("border", "lined", "squared")


def random_phone_jpeg(strokes: np.ndarray, rng: np.random.Generator, seed: int) -> bytes:
    """The strokes photographed at a random size, noise and JPEG quality, a fifth in chalk."""
    picture = paper_photo(
        strokes,
        scale=rng.uniform(1, 5),
        dark_ink=rng.random() < 0.8,
        noise=rng.uniform(0.02, 0.06),
        seed=seed,
    )
    return encoded(picture, "JPEG", quality=int(rng.integers(50, 90)))


def with_printed_lines(
    ink: np.ndarray,
    rows: tuple[int, ...] = (),
    box: tuple[int, int, int, int] | None = None,
    thickness: int = 3,
    weight: float = 1.0,
) -> np.ndarray:
    """Ink in [0, 1] with printed lines over it: across its whole width at `rows`, and a cell's
    border at (top, left, bottom, right)."""
    printed = np.zeros_like(ink)
    for row in rows:
        printed[row : row + thickness] = weight
    if box is not None:
        top, left, bottom, right = box
        printed[top:bottom, left:right] = weight
        printed[top + thickness : bottom - thickness, left + thickness : right - thickness] = 0
    return np.maximum(ink, printed)


def on_ruled_paper(
    ink: np.ndarray,
    pitch: float,
    squared: bool = False,
    slant: float = 0.0,
    thickness: float = 2.0,
    weight: float = 0.4,
    offset: float = 0.0,
) -> np.ndarray:
    """Ink in [0, 1] on lined paper (or squared paper): lines `pitch` pixels apart across the
    whole picture (and down it), turned `slant` degrees as in a photo held askew."""
    rows, cols = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]].astype(np.float32)
    angle = np.radians(slant)
    across = rows * np.cos(angle) - cols * np.sin(angle) - offset
    printed = np.mod(across, pitch) < thickness
    if squared:
        printed |= np.mod(cols * np.cos(angle) + rows * np.sin(angle) - offset, pitch) < thickness
    return np.maximum(ink, weight * printed).astype(np.float32)


def on_a_form(image: np.ndarray, rng: np.random.Generator, lines: str) -> np.ndarray:
    """A 28x28 scanned digit (uint8 ink) somewhere in a cell of a form, as ink in [0, 1]: a
    "border" round it, "lined" paper's line through its lower half or under it, or "squared"
    paper whose squares are 10 to 20 px across, lines through the digit both ways. A form's
    lines are 1 or 2 px thick, squared paper's 1 px; of ink a third as strong as the pen's
    or more."""
    if lines not in FORM_LINES:
        raise ValueError(f"lines is one of {FORM_LINES}, not {lines!r}")
    cell = np.zeros((FORM_CELL, FORM_CELL), np.float32)
    top, left = rng.integers(4, FORM_CELL - 28 - 4, size=2, endpoint=True)
    cell[top : top + 28, left : left + 28] = image / np.float32(255)
    thickness, weight = int(rng.integers(1, 3)), rng.uniform(0.5, 1.0)
    if lines == "border":
        return with_printed_lines(
            cell, box=(0, 0, FORM_CELL, FORM_CELL), thickness=thickness, weight=weight
        )
    if lines == "squared":
        pitch, offset = rng.integers(10, 20, endpoint=True), rng.integers(0, 10)
        return on_ruled_paper(cell, pitch, True, 0.0, 1.0, weight / 1.5, offset)
    row = top + int(rng.integers(14, 30))  # MNIST's field puts the digit in rows 4 to 23
    return with_printed_lines(cell, rows=(row,), thickness=thickness, weight=weight)


RULED_PITCH = 40  # pixels between the lines of the paper a scanned digit is photographed on...
SCAN_SIDE = 73  # ...and the side of the 28x28 digit on it: the digit spans 1.3 lines
SHEET = 300  # pixels across the paper photographed


def scan_photographed(
    image: np.ndarray, rng: np.random.Generator, paper: str, slant: float = 0.0
) -> bytes:
    """A scanned 28x28 digit (uint8 ink) written near the middle of a sheet of "plain",
    "lined" or "squared" paper, photographed as a JPEG; the paper's lines a third to a half
    as dark as the pen, turned `slant` degrees one way or the other."""
    digit = np.asarray(
        Image.fromarray(image).resize((SCAN_SIDE, SCAN_SIDE), Image.Resampling.BILINEAR)
    )
    sheet = np.zeros((SHEET, SHEET), np.float32)
    top, left = rng.integers(SHEET // 2 - SCAN_SIDE, SHEET // 2, size=2)
    sheet[top : top + SCAN_SIDE, left : left + SCAN_SIDE] = digit / np.float32(255)
    if paper != "plain":
        weight, offset = rng.uniform(0.3, 0.55), rng.uniform(0, RULED_PITCH)
        turned = slant * rng.choice([-1, 1])
        sheet = on_ruled_paper(sheet, RULED_PITCH, paper == "squared", turned, 2.0, weight, offset)
    photo = paper_photo(sheet, scale=1.5, seed=int(rng.integers(1000)))
    return encoded(photo, "JPEG", quality=90)
