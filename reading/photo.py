"""A photo or scan of handwriting on paper -> ink, ready for the same digit pipeline as the canvas.

The upload is opened defensively (only PNG, JPEG and WebP; size checked before decoding;
one still frame; any colour mode flattened), turned upright and scaled to a working size.
Decoding has a fixed memory budget: a pixel limit checked from the header, a reduced
scale while decoding where the format allows it (JPEG), a whole-factor reduction before any
other copy, and at most MAX_CONCURRENT_DECODES pictures decoding at once in the process.
The paper's uneven lighting is estimated with a morphological opening far wider than a
pen stroke and divided out, the ink's polarity (dark on light, or light on dark) is taken
from which side of the background the outliers lie, and Otsu's threshold keeps the strokes.
The paper's edge beside a desk wider than the lighting's window is left out: it is no stroke;
nor is the desk itself where the picture's edge cuts it, nor a scanner's narrower dark margin
along the picture's edges.
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

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError
from scipy import ndimage

from preprocess import (
    EIGHT_CONNECTED,
    HAZE,
    LINE_SPAN,
    PEN_OVER_LINE,
    block_maximum,
    canvas_to_ink,
    without_printed_lines,
)

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
BACKGROUND_SIDE = 200  # the lighting is estimated on a copy this small...
OPENING = 0.1  # ...with a window this fraction of its longer side, wider than any stroke
SMOOTHING = 1.0  # pixels of blur against sensor noise and JPEG blocks, far thinner than strokes
MIN_SPAN = 0.25  # paper this close to full ink (a dark shadow) still amplifies only 4 times
MIN_CONTRAST = 0.12  # ink is at least this much darker (or lighter) than the paper around it...
NOISE_SIGMAS = 5.0  # ...and stands out from the paper's grain by this many of its deviations
FAINT = 0.4  # a stroke's faint stretches, joined to it, reach this share of its threshold...
FAINT_GRAIN = 3.0  # ...and this many of the paper grain's deviations
FAINT_REACH = 0.1  # faint ink this share of the picture past the strokes may be paper lines
MIN_SPECK = 1e-4  # blobs smaller than this share of the picture are dust or paper grain
OFF_PAPER = 0.005  # a region this share of the picture, further from ink than the paper, is off it
AGAINST = 3  # ink this many pixels from it or nearer, and lying...
EDGE_REACH = 0.05  # ...this share of the picture from it or nearer,...
EDGE_SHARE = 0.9  # ...all but this share of a piece, is the paper's edge, not a stroke
# Ink against the paper's edge and cut by the picture's is the desk itself when this share of
# it lies within EDGE_REACH of the paper's edge or OPENING of the picture's edges
DESK_SHARE = 0.98
FRAME_CONTACT = 0.7  # a piece along this share of one of the picture's edges, and lying...
# ...EDGE_SHARE of it within OPENING of the edges, is a scanner's dark margin, not a stroke
FLAT_BORDER = 0.95  # a border this much of one colour is a digital drawing, not paper...
FLAT_TOLERANCE = 2  # ...within this many levels per channel (photos have grain and shading)...
FLAT_SHARE = 0.5  # ...when that colour is also most of the picture, as a drawing's background is
MAX_SLANT = 10.0  # degrees a photographed page may be turned and still have its lines found
LINE_MARGIN = 2  # pixels either side of a printed line that go with it
SLANT_SIDE = 200  # the slant is first found on a copy at most this many pixels across
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


def read_upload(data: bytes | bytearray) -> Photo:
    """Open an uploaded PNG, JPEG or WebP and find the handwriting on it, or raise PhotoError.

    A digital drawing (a canvas export: a border of one flat colour, the background of most
    of the picture) is read the way the canvas is; a photo of paper has its lighting evened
    out first.
    """
    image = _open_still(data)
    with _decode_slot():
        image, sent_width = _decoded(image)
        if _is_flat_drawing(image):
            return _read_drawing(image, sent_width)
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
    (an editor's fill around a turned photo, a flat desk) has paper inside it instead."""
    if image.mode not in DRAWING_MODES:
        return False
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
    if crossed and (lines := _paper_lines(ink)).any():
        ink = _lines_left_out(ink, ink, lines)
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


def photo_to_ink(grey: np.ndarray) -> np.ndarray:
    """Greyscale picture (float in [0, 1]) -> (H, W) float32 ink in [0, 1], lighting evened out.

    Zero everywhere when nothing on the picture stands out from the paper: by MIN_CONTRAST,
    and by NOISE_SIGMAS times the paper's own grain. Lined or squared paper's lines are left
    out, and the ink is then found again from the handwriting alone: with the lines, its
    threshold and strength would be set by them, and faint stroke edges would count as ink.
    Strokes written along a line or across it are kept there, by being darker than the line.
    A stroke's faint stretches are kept where they join it (`_faint_stretches`), unless they
    would bring in lines of the paper.
    """
    contrast = _contrast(grey)
    desk = _beside_the_paper(contrast)  # the lines taken out below change nothing there
    threshold, faint = _levels(contrast)
    strokes = _strokes(contrast, desk, threshold)
    ink = _ink(contrast, strokes)
    lines = _paper_lines(ink)
    if lines.any():
        contrast = _lines_left_out(contrast, ink, lines)
        threshold, faint = _levels(contrast)
        strokes = _strokes(contrast, desk, threshold)
        ink = _ink(contrast, strokes)
    fuller = _ink(contrast, strokes, _faint_stretches(contrast, strokes, faint, lines | desk[1]))
    # Faint ink reaching far past the strokes may join to them lines of the paper too faint
    # to be found before: then it stays out.
    if _reaches_past(fuller, ink) and _paper_lines(fuller).any():
        return ink
    return fuller


def _lines_left_out(strength: np.ndarray, ink: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """`strength` (a photo's contrast, or a drawing's ink) nil on the paper's `lines`, but
    where the pen writes along a line or crosses it: there the pen is darker than the line,
    and is kept where it joins the handwriting off the lines."""
    pen = lines & (strength >= PEN_OVER_LINE * np.percentile(strength[lines], 90))
    writing = ndimage.binary_dilation(~lines & (ink >= HAZE), structure=EIGHT_CONNECTED)
    pieces, _ = ndimage.label(pen, structure=EIGHT_CONNECTED)
    pen = np.isin(pieces, np.unique(pieces[pen & writing]))
    return np.where(lines & ~pen, 0.0, strength)


def _contrast(grey: np.ndarray) -> np.ndarray:
    """How far each pixel stands out from the paper around it, towards full contrast: ink
    bright on dark whichever way the picture has it, lighting evened out."""
    grey = np.clip(np.nan_to_num(np.asarray(grey, dtype=np.float64)), 0.0, 1.0).astype(np.float32)
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise ValueError(f"photo_to_ink expects a 2-D greyscale image, got shape {grey.shape}")
    grey = ndimage.gaussian_filter(grey, SMOOTHING)

    small = _resized(grey, BACKGROUND_SIDE / max(grey.shape))
    # Ink lies on the far side of the local background: below it when dark, above when light.
    residual = grey - _resized(ndimage.median_filter(small, size=_window(small)), grey.shape)
    grain = _spread(residual)
    dark_ink = (
        np.clip(-residual - 3 * grain, 0, None).sum()
        >= np.clip(residual - 3 * grain, 0, None).sum()
    )

    # Strokes are bright on dark from here on; the paper is what an opening wider than any
    # stroke leaves, and ink is the share of the way from the paper to full contrast.
    strokes = 1.0 - grey if dark_ink else grey
    paper = ndimage.grey_opening(1.0 - small if dark_ink else small, size=_window(small))
    paper = _resized(ndimage.uniform_filter(paper, size=_window(small) // 2 + 1), grey.shape)
    return (strokes - paper) / np.maximum(1.0 - paper, MIN_SPAN)


def _levels(contrast: np.ndarray) -> tuple[float, float]:
    """The contrast that strokes reach (Otsu's threshold, MIN_CONTRAST and NOISE_SIGMAS of the
    paper's grain, whichever is highest), and that their faint stretches reach (FAINT of it,
    and FAINT_GRAIN of the grain)."""
    grain = _spread(contrast)
    threshold = max(_otsu(np.clip(contrast, 0.0, 1.0)), MIN_CONTRAST, NOISE_SIGMAS * grain)
    return threshold, max(FAINT * threshold, FAINT_GRAIN * grain)


def _strokes(
    contrast: np.ndarray, desk: tuple[np.ndarray, np.ndarray], threshold: float
) -> np.ndarray:
    """Mask of the strokes: what stands out by `threshold`, without specks or the paper's
    edge along the desk (`_beside_the_paper`)."""
    labels, count = ndimage.label(contrast >= threshold, structure=EIGHT_CONNECTED)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    areas[0] = 0
    against, beside = desk
    if against.any():
        # Pieces against the paper's edge: a strip along it, nearly all near it; or the desk
        # itself, cut by the picture's edge and lying all but 2 % near the paper's edge or
        # the picture's edges.
        along = np.bincount(labels[beside], minlength=count + 1)
        touching = np.bincount(labels[against], minlength=count + 1) > 0
        cut = np.zeros(count + 1, dtype=bool)
        cut[np.concatenate(_edges(labels))] = True
        off_paper = np.bincount(labels[beside | _edge_band(labels.shape)], minlength=count + 1)
        desk_itself = cut & (off_paper >= DESK_SHARE * areas)
        areas[touching & (desk_itself | (along >= EDGE_SHARE * areas))] = 0
    areas[_scan_margins(labels, count, areas)] = 0
    return (areas >= MIN_SPECK * contrast.size)[labels]


def _faint_stretches(
    contrast: np.ndarray, strokes: np.ndarray, level: float, off: np.ndarray
) -> np.ndarray:
    """The strokes with their faint stretches: ink at least `level` (`_levels`) joined to
    them, never where `off` (the paper's lines, and near its edge). A pen pressed lightly
    fades below the strokes' threshold in places, and without them an 8 lost half a loop."""
    labels, _ = ndimage.label(((contrast >= level) & ~off) | strokes, structure=EIGHT_CONNECTED)
    return np.isin(labels, np.unique(labels[strokes]))


def _reaches_past(fuller: np.ndarray, ink: np.ndarray) -> bool:
    """Whether `fuller` ink reaches further past the box round `ink` than FAINT_REACH of the
    picture's longer side, as a line of the paper joined to the writing would."""
    if not ink.any():
        return False
    margin = FAINT_REACH * max(ink.shape)
    for axis in (0, 1):
        inked, more = (np.flatnonzero(each.any(axis=axis)) for each in (ink, fuller))
        if more[0] < inked[0] - margin or more[-1] > inked[-1] + margin:
            return True
    return False


def _ink(contrast: np.ndarray, strokes: np.ndarray, reach: np.ndarray | None = None) -> np.ndarray:
    """Ink in [0, 1] on and beside the `strokes` (or `reach`, when given), scaled so that the
    strongest strokes are full ink."""
    if not strokes.any():
        return np.zeros(contrast.shape, dtype=np.float32)
    strong = float(np.percentile(contrast[strokes], 90))
    near = ndimage.binary_dilation(strokes if reach is None else reach, structure=EIGHT_CONNECTED)
    return np.where(near, np.clip(contrast / strong, 0.0, 1.0), 0.0).astype(np.float32)


def _beside_the_paper(contrast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the picture shows something beside the paper (a desk wider than the lighting's
    window): regions of at least OFF_PAPER of the picture, further from the ink than the paper
    is by MIN_CONTRAST, where the lighting estimate runs across the paper's edge. Two masks:
    against such a region (a few pixels from it), and within EDGE_REACH of it."""
    labels, count = ndimage.label(contrast <= -MIN_CONTRAST, structure=EIGHT_CONNECTED)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    areas[0] = 0
    wide = (areas >= OFF_PAPER * contrast.size)[labels]
    if not wide.any():
        return wide, wide
    distance = ndimage.distance_transform_cdt(~wide, metric="chessboard")
    return distance <= AGAINST, distance <= EDGE_REACH * max(contrast.shape)


def _scan_margins(labels: np.ndarray, count: int, areas: np.ndarray) -> np.ndarray:
    """(count + 1,) bool: the labelled pieces that are a dark margin along the picture's
    edges, as a scanner leaves beside a page: narrower than the lighting's window, it stands
    out from the paper like ink.

    Such a piece runs along FRAME_CONTACT of an edge or more, but not of the far edge, and
    lies EDGE_SHARE within OPENING of the picture's longer side of the edges, and within a
    quarter of the picture across. A picture cropped to its ink has none: there
    a stroke cut by the crop runs along an edge too, and other writing reaches the far edge
    (or the stroke, a lone 1 cropped close, runs along it as well).
    """
    near_edges = np.bincount(labels[_edge_band(labels.shape)], minlength=count + 1)
    # The top, bottom, left and right edges: how many pixels of each piece lie on each.
    edges = _edges(labels)
    on_edge = [np.bincount(edge, minlength=count + 1) for edge in edges]
    along = [pixels >= FRAME_CONTACT * len(edge) for pixels, edge in zip(on_edge, edges)]
    candidates = np.logical_or.reduce(along) & (near_edges >= EDGE_SHARE * areas)
    writing = (areas >= MIN_SPECK * labels.size) & ~candidates
    margins = np.zeros(count + 1, dtype=bool)
    for side, far_side in ((0, 1), (1, 0), (2, 3), (3, 2)):
        if not (writing & (on_edge[far_side] > 0))[1:].any():
            margins |= candidates & along[side] & ~along[far_side]
    margins[0] = False
    return margins


def _edges(labels: np.ndarray) -> list[np.ndarray]:
    """The picture's top, bottom, left and right edges: its first and last rows and columns."""
    return [labels[0], labels[-1], labels[:, 0], labels[:, -1]]


def _edge_band(shape: tuple[int, ...]) -> np.ndarray:
    """Where the picture is within the lighting's window (OPENING of its longer side) of its
    edges, and within a quarter of the picture across."""
    window = math.ceil(OPENING * max(shape))
    down, across = (min(window, side // 4) for side in shape)
    band = np.ones(shape, dtype=bool)
    band[down : shape[0] - down, across : shape[1] - across] = False
    return band


def _paper_lines(ink: np.ndarray) -> np.ndarray:
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


def _spread(values: np.ndarray) -> float:
    """A standard deviation that ink cannot inflate: from the median absolute deviation."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def _window(small: np.ndarray) -> int:
    return max(3, round(OPENING * max(small.shape)) | 1)


def _resized(image: np.ndarray, target: float | tuple[int, int]) -> np.ndarray:
    """Resize float32 with area averaging when shrinking; target is a scale or an (H, W) shape."""
    if isinstance(target, tuple):
        height, width = target
    else:
        height = max(1, round(image.shape[0] * target))
        width = max(1, round(image.shape[1] * target))
    source = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32))
    shrinking = width < image.shape[1]
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(source.resize((width, height), resample))


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of values in [0, 1]: the cut that best separates two classes."""
    counts, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(counts * centres)
    mean_low = sum_low / np.maximum(weight_low, 1)
    mean_high = (sum_low[-1] - sum_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[int(np.argmax(between)) + 1])
