"""Pictures as files: arrays and images encoded as PNG, JPEG or WebP bytes, and handwriting
photographed on paper under uneven light."""

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
    rows, cols = np.mgrid[0 : size[1], 0 : size[0]] / max(size)
    light = 0.5 + 0.45 * cols + 0.1 * rows  # brighter towards the window
    light *= 1 - 0.35 * np.exp(-((cols - 0.3) ** 2 + (rows - 0.2) ** 2) / 0.02)  # a hand's shadow
    if dark_ink:
        reflectance = 0.9 - 0.75 * ink
        tint = np.array([1.0, 0.97, 0.9])  # warm paper, bluish-black ink would look the same
    else:
        reflectance = 0.15 + 0.7 * ink  # chalk on a blackboard
        tint = np.array([0.9, 1.0, 0.95])
    rgb = (light * reflectance)[..., None] * tint
    rgb += np.random.default_rng(seed).normal(0, noise, rgb.shape)
    picture = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    return picture.filter(ImageFilter.GaussianBlur(0.8 * scale))
