"""A photo or scan of handwriting on paper -> ink, ready for the same digit pipeline as the canvas.

The upload is opened defensively (only PNG, JPEG and WebP; size checked before decoding;
one still frame; any colour mode flattened), turned upright and scaled to a working size.
Decoding has a fixed memory budget: a pixel limit checked from the header, a reduced
scale while decoding where the format allows it (JPEG), a whole-factor reduction before any
other copy, and at most MAX_CONCURRENT_DECODES pictures decoding at once in the process.
A photo's ink is then told from its paper (`paper`); a digital drawing's is read as the
canvas's, without the lines of a ruled or squared page (`paper_lines`).
Every unreadable file raises PhotoError with a message meant for whoever sent it: a person
uploading it on the page, or a program through the API or the command line (which words a
damaged file, DamagedPicture, its own way).
"""

from __future__ import annotations

import ctypes
import io
import math
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from preprocess import HAZE, LINE_SPAN, canvas_to_ink
from reading.paper import photo_to_ink
from reading.paper_lines import lines_left_out, paper_lines

if TYPE_CHECKING:
    from reading.limits import Work

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
FORMAT_NAMES = {"WEBP": "WebP"}  # as people write the names Pillow gives in capitals
FILE_EXTENSIONS = ("png", "jpg", "jpeg", "webp")  # how files in those formats are named
# How files in the formats read begin, and how files in other formats do (a BMP by its
# reserved bytes and header size too, so that text starting "BM" is not called one; HEIF and
# AVIF by their brand), to name the format of a file that could not be opened.
ACCEPTED_SIGNATURES = (
    (re.compile(rb"\x89PNG"), "PNG"),
    (re.compile(rb"\xff\xd8\xff"), "JPEG"),
    (re.compile(rb"RIFF.{4}WEBP", re.DOTALL), "WebP"),
)
EXPORT = "Save or export it as PNG or JPEG."
OTHER_FORMATS = (
    (re.compile(rb"GIF8[79]a"), "a GIF", EXPORT),
    (re.compile(rb"II\*\x00|MM\x00\*"), "a TIFF", EXPORT),
    (
        re.compile(rb"BM.{4}\x00{4}.{4}[\x0c\x28\x34\x38\x40\x6c\x7c]\x00{3}", re.DOTALL),
        "a BMP",
        EXPORT,
    ),
    (re.compile(rb"%PDF-"), "a PDF document", "Take a photo or scan of the page as PNG or JPEG."),
    (
        re.compile(rb".{4}ftyp(?:hei[cmsx]|hev[cmsx]|mif1|msf1|avi[fs])", re.DOTALL),
        "a HEIC or AVIF photo",
        "Export it as JPEG, or on an iPhone set Settings > Camera > Formats to Most Compatible.",
    ),
)
MAX_MB = 25  # the upload limit; .streamlit/config.toml's maxUploadSize says the same
MAX_BYTES = MAX_MB * 2**20
# A phone photo (12 megapixels, or 24 on recent phones: 5712x4284) fits; anything larger is
# refused from its header. Decoding one then takes at most about 150 MB (a progressive JPEG's
# coefficients, a palette widened to RGBA, 16-bit grey widened to 32). Pillow decodes WebP
# through three full-size buffers, so WebP gets a smaller limit for the same budget.
MAX_PIXELS = 25_000_000
MAX_WEBP_PIXELS = 6_000_000
MAX_CONCURRENT_DECODES = 2  # pictures decoding at once in the server process...
DECODE_WAIT_S = 5.0  # ...and how long one more waits for its turn before "busy, try again"
MIN_SIDE = 16
WORKING_SIDE = 800  # the photo's longer side is scaled to this many pixels
FLAT_BORDER = 0.95  # a border this much of one colour is a digital drawing, not paper...
FLAT_TOLERANCE = 2  # ...within this many levels per channel (photos have grain and shading)...
FLAT_SHARE = 0.5  # ...when that colour is also most of the picture, as a drawing's background is
DRAWING_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA")  # 8-bit modes a drawing is saved in


class PhotoError(ValueError):
    """An upload that cannot be read as a picture; the message is meant for the user."""


class TooManyPixels(PhotoError):
    """A picture whose header declares more pixels than may be decoded."""


class DamagedPicture(PhotoError):
    """A picture whose header was read but whose pixels could not be: cut off or corrupt."""


class PhotoBusy(PhotoError):
    """The server is decoding as many pictures as it may at once; the same upload can be
    tried again in a moment."""


_decode_slots = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
RETURNED_BLOCK_BYTES = 4 * 2**20  # freed blocks this large go straight back to the system
# Modes Image.reduce cannot average (a palette's indices, 1-bit, 16-bit), and the mode each
# is widened to first.
_REDUCIBLE_AS = {"1": "L", "P": "RGBA", "PA": "RGBA", "I;16": "I", "I;16B": "I", "I;16L": "I"}
# How to turn each EXIF orientation upright; 5 to 8 swap width and height.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIDEWAYS = (5, 6, 7, 8)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Photo:
    """An uploaded picture at working size, upright and opaque, and the ink found on it."""

    picture: np.ndarray  # (H, W, 3) uint8
    ink: np.ndarray  # (H, W) float32 in [0, 1]
    scale: float  # picture pixels per pixel of the upright image as sent


def read_upload(data: bytes | bytearray, work: Work | None = None) -> Photo:
    """Open an uploaded PNG, JPEG or WebP and find the handwriting on it, or raise PhotoError.

    A digital drawing (a canvas export: a border of one flat colour, the background of most
    of the picture) is read the way the canvas is; a photo of paper has its lighting evened
    out first, counted in `work` before it is done.
    """
    image = _open_still(data)
    with _decode_slot():
        image, sent_width = _decoded(image)
        if _is_flat_drawing(image):
            return _read_drawing(image, sent_width)
        if work is not None:
            work.photo_ink()
        grey, picture = _flatten(image)
    return Photo(picture=picture, ink=photo_to_ink(grey), scale=picture.shape[1] / sent_width)


def _return_large_blocks_to_the_system() -> None:
    """Have glibc give every block of RETURNED_BLOCK_BYTES or more back as soon as it is freed.

    By default glibc raises that threshold to the largest block freed so far (up to 32 MB);
    after one big picture, the next ones are carved from per-thread heaps that keep the
    memory, and eight uploads at once left about 700 MB held by an idle server. Off Linux,
    or without glibc's mallopt, this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, RETURNED_BLOCK_BYTES)


_return_large_blocks_to_the_system()


@contextmanager
def _decode_slot() -> Iterator[None]:
    """One of the process's decoding slots, or PhotoBusy when none frees up in time."""
    if not _decode_slots.acquire(timeout=DECODE_WAIT_S):
        raise PhotoBusy(
            "The server is busy reading other photos right now. Send the photo again in a moment."
        )
    try:
        yield
    finally:
        _decode_slots.release()


def _is_flat_drawing(image: Image.Image) -> bool:
    """Whether the picture is a digital drawing: a border of one flat colour, which paper
    under a camera never is, and that colour most of the picture. A photo with a flat frame
    (an editor's fill around a turned photo, a flat desk) has paper inside it instead. A
    picture of two colours alone is a black-and-white scan, however its writing meets its
    edges (an old form's cell filled by the digit), when one of them is most of it: read as
    a drawing too."""
    if image.mode not in DRAWING_MODES:
        return False
    two_colours = image.getcolors(2)
    if two_colours is not None:
        return max(count for count, _ in two_colours) > FLAT_SHARE * image.width * image.height
    width, height = image.size
    edges = [(0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height)]
    edges.append((width - 1, 0, width, height))
    border = np.concatenate(
        [np.asarray(image.crop(edge).convert("RGBA")).reshape(-1, 4) for edge in edges]
    ).astype(np.int16)
    typical = np.median(border, axis=0).round().astype(np.int16)
    if np.mean(_near(border, typical)) < FLAT_BORDER:
        return False
    pixels = np.asarray(image.convert("RGBA")).reshape(-1, 4)
    return bool(np.mean(_near(pixels, typical)) > FLAT_SHARE)


def _near(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the (N, 4) RGBA pixels are the colour, within FLAT_TOLERANCE."""
    return (np.abs(pixels.astype(np.int16) - colour) <= FLAT_TOLERANCE).all(axis=1)


def _read_drawing(image: Image.Image, sent_width: int) -> Photo:
    """A digital drawing read like the canvas, scaled down only when larger than working size,
    without the lines of a ruled or squared page it may be drawn on."""
    rgba = image.convert("RGBA")
    scale = min(1.0, WORKING_SIDE / max(rgba.size))
    if scale < 1.0:
        size = (max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale)))
        rgba = rgba.resize(size, Image.Resampling.BOX)
    pixels = np.asarray(rgba)
    opaque = bool(pixels[..., 3].min() == 255)
    picture = np.ascontiguousarray(pixels[..., :3]) if opaque else _on_backdrop(rgba)
    ink = canvas_to_ink(pixels)
    # A notes app's ruled or squared page. Its lines are looked for only where ink reaches
    # across nine tenths of the page's width or height, as a line does: most canvas exports
    # are spared the search.
    inked = ink >= HAZE
    crossed = max(inked.any(axis=0).mean(), inked.any(axis=1).mean()) >= LINE_SPAN
    if crossed and (lines := paper_lines(ink)).any():
        ink = lines_left_out(ink, ink, lines)
    return Photo(picture=picture, ink=ink, scale=rgba.width / sent_width)


def megabytes(size: int) -> str:
    """A size over the limit as the refusal states it: rounded up to a tenth of a MB, so a
    file just over the limit never reads as the limit itself."""
    return f"{math.ceil(size / 2**20 * 10) / 10:.1f} MB"


def _open_still(data: bytes) -> Image.Image:
    """The upload's single still frame, checked from its header and not yet decoded."""
    if not data:
        raise PhotoError("The file is empty (0 bytes). Use a photo or scan of the handwriting.")
    if len(data) > MAX_BYTES:
        raise PhotoError(
            f"The file is {megabytes(len(data))}, over the {MAX_MB} MB limit. Send a smaller photo."
        )
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise _unopened(data) from error

    width, height = image.size
    limit = MAX_WEBP_PIXELS if image.format == "WEBP" else MAX_PIXELS
    if width * height > limit:
        raise _too_many_pixels(f" ({width}x{height})", limit, image.format)
    if min(width, height) < MIN_SIDE:
        raise PhotoError(
            f"The image is only {width}x{height} pixels; it needs at least "
            f"{MIN_SIDE} pixels each way to hold a digit."
        )
    if min(width, height) * WORKING_SIDE < MIN_SIDE * max(width, height):
        raise PhotoError(
            f"The image is {width}x{height} pixels: too long and narrow to hold a digit. "
            "Crop it closer to the handwriting."
        )
    # Phone cameras write JPEGs with extra pictures (MPO); the first one is the photo itself.
    if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
        raise PhotoError(
            f"This {image.format} is animated ({image.n_frames} frames). Use a still photo or scan."
        )
    return image


def _unopened(data: bytes) -> PhotoError:
    """Why a file could not be opened: a picture in a format read whose header is damaged
    or unusual, or a picture in another format named, so that whoever sent it knows what to
    convert."""
    for signature, name in ACCEPTED_SIGNATURES:
        if signature.match(data):
            return PhotoError(
                f"This {name} file could not be opened: it is cut off or damaged, or saved in a "
                "variant this app does not read. Send it again, or save it again as PNG or JPEG."
            )
    for signature, kind, advice in OTHER_FORMATS:
        if signature.match(data):
            return PhotoError(f"This file is {kind}, not a PNG, JPEG or WebP image. {advice}")
    return PhotoError(
        "This file is not a PNG, JPEG or WebP image. Use a photo or scan in one of those formats."
    )


def _decoded(image: Image.Image) -> tuple[Image.Image, int]:
    """Decode a checked picture, upright, reduced by a whole factor to about the working size;
    and the width of the upright picture as sent.

    Only the decoded picture is ever held at full size: it is reduced, in its own mode where
    Pillow can average it, before it is turned upright or converted.
    """
    width, height = image.size
    image.draft(None, (WORKING_SIDE, WORKING_SIDE))  # JPEG decodes at 1/2, 1/4 or 1/8 scale
    try:
        image.load()
        orientation = _orientation(image)
        factor = max(image.size) // WORKING_SIDE
        if factor >= 2:
            info = image.info
            if image.mode in _REDUCIBLE_AS:
                image = image.convert(_REDUCIBLE_AS[image.mode])
            image = _reduce(image, factor)
            image.info = info  # a palette's transparency
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise DamagedPicture(
            "The image file is damaged or incomplete (it may have been cut off on its way "
            "here). Try sending it again."
        ) from error
    return image, height if orientation in _SIDEWAYS else width


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 to 8), or 1, upright as stored, when the EXIF cannot be read.

    Phones write EXIF; editors and broken uploads write it wrong (a tag of the wrong type, a
    cut-off block), and a wrong EXIF must not make an otherwise good picture unreadable.
    """
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # Pillow's EXIF parser raises whatever malformed data makes it raise
        return 1
    return orientation if isinstance(orientation, int) and orientation in _UPRIGHT else 1


def _reduce(image: Image.Image, factor: int) -> Image.Image:
    """Image.reduce, one band at a time where it would otherwise premultiply a full-size copy."""
    if image.mode not in ("RGBA", "LA"):
        return image.reduce(factor)
    bands = [image.getchannel(band).reduce(factor) for band in range(len(image.getbands()))]
    return Image.merge(image.mode, bands)


def _too_many_pixels(
    size: str = "", limit: int = MAX_PIXELS, image_format: str | None = None
) -> TooManyPixels:
    """A picture refused for its pixels, with how to make one that is not: a WebP may be
    saved as JPEG, which has the larger limit."""
    kind = f"{FORMAT_NAMES.get(image_format, image_format)} images" if image_format else "images"
    fix = (
        f"Save it as JPEG (up to {MAX_PIXELS // 1_000_000} megapixels), or scale it down."
        if image_format == "WEBP"
        else "Scale it down, scan at 300 dpi, or take the photo at the camera's usual "
        "12 megapixels."
    )
    return TooManyPixels(
        f"The image has too many pixels{size}; the limit for {kind} is "
        f"{limit // 1_000_000} megapixels. {fix}"
    )


def _flatten(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Any mode -> (grey float32 in [0, 1], RGB uint8), scaled so the longer side is WORKING_SIDE.

    Transparent parts are laid on white or black, whichever shows the strokes better, and
    16-bit and floating-point images are stretched to their own range.
    """
    scale = WORKING_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image.convert("F").resize(size, Image.Resampling.BILINEAR))
        low, high = float(values.min()), float(values.max())
        grey = (values - low) / (high - low) if high > low else np.zeros_like(values)
        grey = grey.astype(np.float32)
        picture = np.repeat((grey * 255).round().astype(np.uint8)[..., None], 3, axis=2)
        return grey, picture

    try:
        if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
            rgb = _on_backdrop(image.convert("RGBA").resize(size, Image.Resampling.LANCZOS))
        else:
            rgb = np.asarray(image.convert("RGB").resize(size, Image.Resampling.LANCZOS))
    except ValueError as error:
        raise PhotoError(
            f"Images in colour mode {image.mode} are not supported. Save it as an "
            "ordinary RGB or greyscale PNG or JPEG."
        ) from error
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255
    return np.clip(grey, 0.0, 1.0), np.ascontiguousarray(rgb)


def _on_backdrop(rgba: Image.Image) -> np.ndarray:
    """Lay a transparent image on white or black, whichever gives the strokes more contrast."""
    pixels = np.asarray(rgba).astype(np.float32) / 255
    colour, alpha = pixels[..., :3], pixels[..., 3:]
    on_white = colour * alpha + (1 - alpha)
    on_black = colour * alpha
    flat = on_white if on_white.std() >= on_black.std() else on_black
    return (flat * 255).round().astype(np.uint8)
