"""Colours as a person sees them on the page: the themes' backgrounds, and WCAG 2 contrast."""

from __future__ import annotations

import tomllib

import numpy as np
from PIL import ImageColor

from devtools import REPO_ROOT


def theme_background(theme: str) -> np.ndarray:
    """The 0-255 channels of a theme's ("light" or "dark") page background, as configured."""
    themes = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    return np.array(ImageColor.getrgb(themes[theme]["backgroundColor"]), float)


def relative_luminance(rgb: np.ndarray) -> float:
    """A colour's relative luminance (WCAG 2), from its 0-255 channels."""
    channel = rgb / 255
    linear = np.where(channel <= 0.04045, channel / 12.92, ((channel + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast(first: np.ndarray, second: np.ndarray) -> float:
    """WCAG 2's contrast ratio of two colours' 0-255 channels, from 1 to 21."""
    lighter, darker = sorted(map(relative_luminance, (first, second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
