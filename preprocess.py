"""Canvas image -> ink -> the 28x28 input MNIST expects.

MNIST digits were fitted into a 20x20 box (aspect ratio kept, anti-aliased) and
placed in a 28x28 field with their centre of mass at the centre. A drawing made
anywhere on a canvas, at any size, with any brush and colours, is brought into
that same form here; when it is read, a scan's printed lines (a cell's border, lined
paper) are left out, and so is a blur's halo from the digit's size.
Pure numpy/scipy/Pillow: no Streamlit, no Keras.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import struct

import numpy as np
from PIL import Image
from scipy import ndimage

CANVAS_SIZE = 280  # px, the page's square canvas: fits a 360 px phone screen with the margins
FIELD = 28  # side of the MNIST input
BOX = 20  # the longer side of the digit inside the field
CENTRE = 14.0  # where MNIST puts the centre of mass (row and column)

MIN_CONTRAST = 0.08  # ink weaker than this, relative to full contrast, is no drawing
INK_THRESHOLD = 0.2  # a drawing has at least one pixel this inky
HAZE = 0.05  # fainter pixels are background haze, not part of any stroke
# When one digit is read (`prepare`), the ink at least this share as dark as its darkest is
# fitted to the box: a blurred scan's faint halo around the strokes is kept, but not counted
# in the digit's size, or it would shrink the digit. Training drawings and a number's digits
# (`normalize`) are fitted whole.
CORE = 0.3
KEEP_RATIO = 0.25  # pieces this heavy relative to the largest make up the digit
NEAR = 0.25  # lighter pieces count only within this fraction of the digit's size
MIN_PIECE = 0.01  # pieces lighter than this share of all ink are always noise
MIN_EXTENT = 0.04  # a readable digit spans at least this share of the image's longer side...
MIN_ELONGATION = 2.0  # ...and at least this many stroke widths: less is a dot or a blob...
DOT_EXTENT = 0.25  # ...when it spans less than this share; a bigger blob is for the model to judge
THICKNESS_SIDE = 48  # size and stroke width are measured on a copy at most this many pixels across
# A printed line of a form or of lined paper: ink across at least LINE_SPAN of the drawing's
# width (or height), at most LINE_WIDTH of its height (or width) thick, reaching past the rest
# of the ink by OVERHANG of its length at both ends, LINE_LENGTH times as long as the rest is
# high, and not over it alone. A stroke of a digit or a letter does not: an L's base or a 2's
# ends where the rest of it begins, a t's cross is shorter than the letter is high, and a
# 7's or a T's bar is over the rest.
LINE_SPAN = 0.9
LINE_WIDTH = 0.15
OVERHANG = 0.15
LINE_LENGTH = 1.2
# Lined paper (three or more lines across) and squared paper (two or more each way, squares'
# sides alike) have their lines evenly spaced, within GRID_TOLERANCE, and all of them go,
# wherever the writing lies: no handwriting has three parallel strokes across it all, nor
# a square of strokes around the rest of it.
GRID_TOLERANCE = 0.25
MIN_ROOM = 0.1  # a line spans at least this share of the picture's width (or height)
EDGE_FILL = 0.5  # rows beside a line inked across this share of it are its blurred edge
PEN_OVER_LINE = 1.5  # on a line, ink this many times as strong as the line's own is the pen's

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)  # diagonal neighbours touch: one stroke


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The PNG a canvas sends: its IHDR chunk first, at PNG_HEADER_AT, giving width and height,
# then bit depth and colour type, which are CANVAS_PNG_FORM (8-bit RGBA).
PNG_HEADER_AT = len(PNG_SIGNATURE) + 4
PNG_HEADER = struct.Struct(">4sIIBB")
CANVAS_PNG_FORM = (8, 6)


class CanvasRefused(ValueError):
    """What came as a canvas's picture is not the PNG that canvas sends: never decoded."""


def check_canvas_png(png: bytes, width: int, height: int = CANVAS_SIZE) -> None:
    """Refuse, from its first 26 bytes, anything but the PNG a `width` x `height` canvas sends:
    8-bit RGBA, of the canvas's own size whatever the screen's pixel ratio (the canvas draws
    it at its CSS size). Pillow would decode whatever size a header claims: a 334 kB PNG
    claiming 9000 x 9000 pixels took the server 883 MB."""
    if not png.startswith(PNG_SIGNATURE) or len(png) < PNG_HEADER_AT + PNG_HEADER.size:
        raise CanvasRefused("The canvas sent something that is not a PNG picture.")
    chunk, sent_width, sent_height, *form = PNG_HEADER.unpack_from(png, PNG_HEADER_AT)
    if chunk != b"IHDR":
        raise CanvasRefused("The canvas sent a PNG picture without its header.")
    if (sent_width, sent_height) != (width, height):
        raise CanvasRefused(
            f"The canvas sent a picture of {sent_width}x{sent_height} pixels; "
            f"it is {width}x{height}."
        )
    if tuple(form) != CANVAS_PNG_FORM:
        raise CanvasRefused("The canvas sent a picture that is not in 8-bit RGBA.")


def canvas_pixels(png: bytes, width: int, height: int = CANVAS_SIZE) -> np.ndarray:
    """A canvas's PNG as its (height, width, 4) uint8 pixels, decoded only once
    `check_canvas_png` finds it that canvas's own; CanvasRefused for anything else."""
    check_canvas_png(png, width, height)
    try:
        image = Image.open(io.BytesIO(png), formats=["PNG"])
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's words for a damaged file
        raise CanvasRefused("The canvas sent a damaged PNG picture.") from error
    with image:
        # Pillow takes the last of several headers, which may not be the one checked above.
        # Opening reads the headers only: this costs nothing.
        if image.size != (width, height) or image.mode != "RGBA":
            raise CanvasRefused(
                f"The canvas sent a picture of {image.width}x{image.height} pixels in "
                f"{image.mode}; it is {width}x{height} in RGBA."
            )
        try:
            return np.asarray(image)
        except (OSError, SyntaxError, ValueError) as error:
            raise CanvasRefused("The canvas sent a damaged PNG picture.") from error


def canvas_to_ink(rgba: np.ndarray) -> np.ndarray:
    """Turn an (H, W, 4) uint8 canvas image into (H, W) float32 ink in [0, 1].

    The background is whatever colour fills most of the border (transparent,
    dark or light), and ink is each pixel's distance from it in premultiplied
    RGBA, scaled so the strongest stroke is 1. Any stroke colour works.
    """
    if not isinstance(rgba, np.ndarray) or rgba.ndim != 3 or rgba.shape[2] != 4:
        shape = getattr(rgba, "shape", None)
        raise ValueError(f"canvas_to_ink expects an (H, W, 4) RGBA array, got shape {shape}")
    if rgba.dtype != np.uint8:
        raise ValueError(f"canvas_to_ink expects dtype uint8, got {rgba.dtype}")
    if rgba.shape[0] == 0 or rgba.shape[1] == 0:
        raise ValueError(f"canvas_to_ink expects a non-empty image, got shape {rgba.shape}")

    ink = np.zeros(rgba.shape[:2], dtype=np.float32)
    background = _background(rgba)
    # One uint32 per pixel makes "differs from the background" a single fast compare.
    differs = np.ascontiguousarray(rgba).view(np.uint32)[..., 0] != background.view(np.uint32)[0]
    rows = np.flatnonzero(differs.any(axis=1))
    if rows.size == 0:
        return ink
    cols = np.flatnonzero(differs.any(axis=0))
    region = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))

    # Premultiplied RGBA scaled by 255²: each colour times its alpha, the alpha times 255.
    pixels = rgba[region].astype(np.float32)
    alpha = pixels[..., 3]
    back = background.astype(np.float32)
    squared = np.square(255 * (alpha - back[3]))
    for channel in range(3):
        squared += np.square(pixels[..., channel] * alpha - back[channel] * back[3])
    distance = np.sqrt(squared)
    strongest = float(distance.max())
    if strongest < MIN_CONTRAST * 255**2:
        return ink
    ink[region] = np.minimum(distance / strongest, 1.0)
    return ink


def _background(rgba: np.ndarray) -> np.ndarray:
    """The canvas's background colour: the median of its border's pixels, channel by channel;
    the border's one colour, found without sorting, when it is all one (a canvas's is)."""
    border = np.concatenate([rgba[0], rgba[-1], rgba[:, 0], rgba[:, -1]])
    colours = border.view(np.uint32)
    if (colours == colours[0]).all():
        return border[0]
    return np.median(border, axis=0).astype(np.uint8)


def as_unit_ink(ink: np.ndarray, caller: str) -> np.ndarray:
    """Validate 2-D ink (float in [0, 1] or uint8) and return it as float32 in [0, 1].

    Float32 ink already in [0, 1] comes back itself, not copied: callers only read it.
    A ValueError names `caller` and says what it expects.
    """
    if not isinstance(ink, np.ndarray) or ink.ndim != 2:
        shape = getattr(ink, "shape", None)
        raise ValueError(f"{caller} expects a 2-D (H, W) ink array, got shape {shape}")
    if ink.shape[0] == 0 or ink.shape[1] == 0:
        raise ValueError(f"{caller} expects a non-empty image, got shape {ink.shape}")
    if ink.dtype == np.uint8:
        return ink.astype(np.float32) / 255.0
    if not np.issubdtype(ink.dtype, np.floating):
        raise ValueError(f"{caller} expects float ink in [0, 1] or uint8 0..255, got {ink.dtype}")
    lowest, highest = float(ink.min()), float(ink.max())  # NaN when any value is NaN
    if not (math.isfinite(lowest) and math.isfinite(highest)):
        raise ValueError(f"{caller} expects finite ink values, got NaN or infinity")
    if lowest < 0.0 or highest > 1.0:
        ink = np.clip(ink, 0.0, 1.0)
    return ink.astype(np.float32, copy=False)


def _digit_mask(ink: np.ndarray) -> np.ndarray:
    """Mask of the pieces that make up the digit, leaving out specks and stray taps."""
    labels, count = ndimage.label(ink >= HAZE, structure=EIGHT_CONNECTED)
    if count <= 1:
        return labels > 0
    mass = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=count + 1)[1:]
    boxes = ndimage.find_objects(labels)
    heavy = mass >= KEEP_RATIO * mass.max()
    top = min(box[0].start for box, h in zip(boxes, heavy) if h)
    bottom = max(box[0].stop for box, h in zip(boxes, heavy) if h)
    left = min(box[1].start for box, h in zip(boxes, heavy) if h)
    right = max(box[1].stop for box, h in zip(boxes, heavy) if h)
    reach = NEAR * max(bottom - top, right - left)

    keep = heavy.copy()
    for index, (rows, cols) in enumerate(boxes):
        if keep[index] or mass[index] < MIN_PIECE * mass.sum():
            continue
        near_rows = rows.start < bottom + reach and rows.stop > top - reach
        near_cols = cols.start < right + reach and cols.stop > left - reach
        keep[index] = near_rows and near_cols
    return np.concatenate([[False], keep])[labels]


def _fit_box(crop: np.ndarray, core: float) -> np.ndarray:
    """Scale a cropped digit so that the longer side of its ink at least `core` as dark as
    its darkest is BOX pixels (all of it within the field), aspect ratio kept."""
    height, width = crop.shape
    longest = max(height, width)
    if core > 0:
        strong = crop >= core * crop.max()
        rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
        longest = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    scale = min(BOX / longest, FIELD / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    fitted = np.asarray(Image.fromarray(crop, mode="F").resize(size, resample))
    peak = fitted.max()
    return fitted / peak if peak > 0 else fitted


def _inked_crop(ink: np.ndarray) -> np.ndarray | None:
    """The ink cropped to what is darker than haze, or None when nothing is drawn."""
    row_peaks = ink.max(axis=1)
    if row_peaks.max() < INK_THRESHOLD:
        return None
    rows = np.flatnonzero(row_peaks >= HAZE)
    band = ink[rows[0] : rows[-1] + 1]
    cols = np.flatnonzero(band.max(axis=0) >= HAZE)
    return band[:, cols[0] : cols[-1] + 1]


def without_printed_lines(crop: np.ndarray, inside: np.ndarray | None = None) -> np.ndarray:
    """Ink without the straight lines printed around or through handwriting: lined or squared
    paper's lines, a cell's border; `crop` itself when it has none (or nothing else).

    Where a stroke goes on across a line, straight or slanted, the stroke is kept; so is pen
    darker than the line written along it or across it. `inside` marks where the picture
    lies when not all of `crop` does (a photo turned to level its lines has empty corners):
    a line then spans the picture, not the whole array.
    """
    inked = crop >= HAZE
    height, width = crop.shape
    if inside is None:
        row_room, col_room = width, height
    else:
        row_room = np.count_nonzero(inside, axis=1)
        col_room = np.count_nonzero(inside, axis=0)
    row_fill = np.count_nonzero(inked, axis=1) / np.maximum(row_room, MIN_ROOM * width)
    col_fill = np.count_nonzero(inked, axis=0) / np.maximum(col_room, MIN_ROOM * height)
    if row_fill.max() < LINE_SPAN and col_fill.max() < LINE_SPAN:
        return crop
    across = _bands(row_fill, LINE_WIDTH * height)
    down = _bands(col_fill, LINE_WIDTH * width)
    if not across and not down:
        return crop
    rest = _off_the_bands(crop, across, down)
    rows, cols = np.flatnonzero(rest.any(axis=1)), np.flatnonzero(rest.any(axis=0))
    if rows.size == 0:
        return crop
    ruled = (
        min(cols[0], width - 1 - cols[-1]) >= OVERHANG * width
        and width >= LINE_LENGTH * (rows[-1] - rows[0] + 1)
        and any(start > rows[0] for start, _ in across)
    )
    box_across, box_down = _framing(across, rows), _framing(down, cols)
    if not (box_across and box_down):  # a cell's border has four sides
        box_across, box_down = [], []
    if _squared(across, down):
        lines_across, lines_down = across, down
    elif len(across) >= 3 and _evenly_spaced(across):
        lines_across, lines_down = across, box_down
    else:
        lines_across, lines_down = across if ruled else box_across, box_down
    if not (lines_across or lines_down):
        return crop
    if (lines_across, lines_down) != (across, down):  # a stroke taken for a line stays
        rest = _off_the_bands(crop, lines_across, lines_down)
    printed = np.zeros(crop.shape, dtype=bool)
    crossings = np.zeros(crop.shape, dtype=np.float32)  # strokes' own ink where they cross
    for start, stop in lines_across:
        ink = _crossing_ink(rest, crop, start, stop)
        printed[start:stop] |= ink == 0
        crossings[start:stop] = np.maximum(crossings[start:stop], ink)
    for start, stop in lines_down:
        ink = _crossing_ink(rest.T, crop.T, start, stop).T
        printed[:, start:stop] |= ink == 0
        crossings[:, start:stop] = np.maximum(crossings[:, start:stop], ink)
    if not printed.any():  # strokes cross the lines everywhere
        return crop
    cleaned = np.where(crossings > 0, np.minimum(crop, crossings), crop)
    return np.where(printed & ~_pen_on_lines(crop, printed, rest), 0.0, cleaned)


def _off_the_bands(
    crop: np.ndarray, across: list[tuple[int, int]], down: list[tuple[int, int]]
) -> np.ndarray:
    """Where the handwriting is off the bands of rows across and columns down: its pieces
    (`_digit_mask`) of the ink left."""
    rest = crop >= HAZE
    for start, stop in across:
        rest[start:stop] = False
    for start, stop in down:
        rest[:, start:stop] = False
    return rest & _digit_mask(np.where(rest, crop, 0.0))


def _crossing_ink(rest: np.ndarray, crop: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The ink of the strokes of `rest` that go on across a line's band, rows start:stop, as
    straight or as slanted as they enter and leave it (up to the band's thickness further
    along), and as strong as they enter and leave it, not as the line; zero on the line."""
    thickness = stop - start
    ink = np.zeros((thickness, rest.shape[1]), dtype=np.float32)
    if start == 0 or stop == len(rest):
        return ink
    entering, leaving = np.flatnonzero(rest[start - 1]), np.flatnonzero(rest[stop])
    if entering.size == 0 or leaving.size == 0:  # most of a squared paper's lines
        return ink
    shifts = leaving[None, :] - entering[:, None]
    into, out = np.nonzero(np.abs(shifts) <= thickness)
    entering, shift = entering[into], shifts[into, out]
    stroke = (crop[start - 1, entering] + crop[stop, entering + shift]) / 2
    for row in range(thickness):
        columns = entering + np.round(shift * (row + 1) / (thickness + 1)).astype(int)
        np.maximum.at(ink[row], columns, stroke)
    return ink


def _pen_on_lines(crop: np.ndarray, printed: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Where the pen writes along a line or across it: ink PEN_OVER_LINE times as strong as the
    lines' own, in pieces that join the handwriting off the lines."""
    pen = printed & (crop >= PEN_OVER_LINE * np.median(crop[printed]))
    if not pen.any():
        return pen
    pieces, count = ndimage.label(pen, structure=EIGHT_CONNECTED)
    joined = np.zeros(count + 1, dtype=bool)
    joined[pieces[pen & ndimage.binary_dilation(rest, structure=EIGHT_CONNECTED)]] = True
    return joined[pieces]


def _bands(fill: np.ndarray, thickest: float) -> list[tuple[int, int]]:
    """(start, stop) of each line: a run of rows (or columns) inked across LINE_SPAN of the
    picture, with the rows beside it inked across EDGE_FILL of it (a blurred line's edges,
    no wider than the run), at most `thickest` long in all: a line, not a blob."""
    full = fill >= LINE_SPAN
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
    bands = []
    for core_start, core_stop in zip(edges[::2], edges[1::2]):
        start, stop = core_start, core_stop  # and its blurred edges, no wider than its core
        while (
            start > 0
            and fill[start - 1] >= EDGE_FILL
            and core_start - start < core_stop - core_start
        ):
            start -= 1
        while (
            stop < len(fill)
            and fill[stop] >= EDGE_FILL
            and stop - core_stop < core_stop - core_start
        ):
            stop += 1
        if bands and start <= bands[-1][1]:  # grown into the line before: one line
            start = bands.pop()[0]
        if stop - start <= max(1.0, thickest):
            bands.append((int(start), int(stop)))
    return bands


def _squared(across: list[tuple[int, int]], down: list[tuple[int, int]]) -> bool:
    """True when the lines across and down are squared paper's: two or more each way, evenly
    spaced, at one pitch both ways."""
    return min(len(across), len(down)) >= 2 and _evenly_spaced(across, down)


def _evenly_spaced(*families: list[tuple[int, int]]) -> bool:
    """True when the lines of every family lie at one pitch, within GRID_TOLERANCE."""
    gaps = np.concatenate(
        [np.diff([start + stop for start, stop in bands]) / 2 for bands in families]
    )
    return gaps.max() <= (1 + GRID_TOLERANCE) * gaps.min()


def _framing(bands: list[tuple[int, int]], inked: np.ndarray) -> list[tuple[int, int]]:
    """The bands outside the ink at `inked` (its rows or columns), when some lie on each side."""
    before = [band for band in bands if band[1] <= inked[0]]
    after = [band for band in bands if band[0] > inked[-1]]
    return before + after if before and after else []


def _mnist_form(crop: np.ndarray, core: float) -> np.ndarray:
    """A cropped drawing as MNIST's 28x28 input: digit pieces kept, fitted, centred by mass."""
    digit = np.where(_digit_mask(crop), crop, 0.0).astype(np.float32)
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    fitted = _fit_box(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], core)

    height, width = fitted.shape
    # ndimage.center_of_mass's own sums, without its per-call overhead
    mass = fitted.sum()
    centre_row = float((fitted * np.arange(height, dtype=float)[:, None]).sum() / mass)
    centre_col = float((fitted * np.arange(width, dtype=float)).sum() / mass)
    top = min(max(round(CENTRE - centre_row), 0), FIELD - height)
    left = min(max(round(CENTRE - centre_col), 0), FIELD - width)
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top : top + height, left : left + width] = fitted
    return field


def block_maximum(ink: np.ndarray, side: int) -> tuple[np.ndarray, int]:
    """A copy of the ink (never negative) at most `side` pixels across, each pixel the
    strongest of its block, so that thin strokes survive; and the side of a block."""
    step = max(1, -(-max(ink.shape) // side))
    rows, cols = -(-ink.shape[0] // step), -(-ink.shape[1] // step)
    padded = np.zeros((rows * step, cols * step), dtype=ink.dtype)  # zero past the edges: no ink
    padded[: ink.shape[0], : ink.shape[1]] = ink
    # Row by row within each block, then column by column: strided maxima, fast for any step.
    across = functools.reduce(np.maximum, (padded[start::step] for start in range(step)))
    coarse = functools.reduce(np.maximum, (across[:, start::step] for start in range(step)))
    return coarse, step


def _is_dot(crop: np.ndarray, side: int, smallest: float = MIN_EXTENT) -> bool:
    """True when a cropped drawing on an image `side` pixels across is only a dot or a speck:
    under `smallest` of the side, or a blob under DOT_EXTENT of it."""
    coarse, step = block_maximum(crop, THICKNESS_SIDE)
    mask = _digit_mask(coarse)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    extent = step * (max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)
    if extent < smallest * side:
        return True
    if extent >= DOT_EXTENT * side:
        return False
    thickness = 2 * step * float(ndimage.distance_transform_edt(np.pad(mask, 1)).max())
    return extent < MIN_ELONGATION * thickness


def _read_crop(ink: np.ndarray) -> np.ndarray | None:
    """The ink cropped as a drawing to read: the printed lines of a form or of lined paper
    left out. `normalize`, which makes the training drawings, leaves this step out: it would
    change a few of them (a 1's wide foot), and the committed network was trained without."""
    crop = _inked_crop(ink)
    if crop is None:
        return None
    without_lines = without_printed_lines(crop)
    return crop if without_lines is crop else _inked_crop(without_lines)


def prepare(ink: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """The model's 28x28 input for ink of any size, and whether the ink is only a dot, from
    one crop of the ink: what `normalize` and `too_small` give, printed lines left out (see
    `without_printed_lines`) and a blurred halo not counted in the digit's size (`CORE`).
    (None, False) when blank."""
    ink = as_unit_ink(ink, "prepare")
    crop = _read_crop(ink)
    if crop is None:
        return None, False
    return _mnist_form(crop, CORE), _is_dot(crop, max(ink.shape))


def normalize(ink: np.ndarray) -> np.ndarray | None:
    """Bring ink of any size into MNIST form: (28, 28) float32 in [0, 1], or None if blank;
    printed lines are kept, as in the training drawings (`prepare` leaves them out).

    Crops to the digit (specks and stray taps left out), fits its longer side into
    20 px with area-averaged anti-aliasing, and puts its centre of mass at the centre
    of the 28x28 field. The strongest pixel is scaled to 1, as in MNIST, so a thin
    pen reads as well as a fat finger.
    """
    crop = _inked_crop(as_unit_ink(ink, "normalize"))
    return None if crop is None else _mnist_form(crop, core=0.0)


def too_small(ink: np.ndarray) -> bool:
    """True when the ink is only a dot or a speck: too small or too blob-like to read as a
    digit. A large blob is not small: whether it is a digit is the model's to say."""
    ink = as_unit_ink(ink, "too_small")
    crop = _read_crop(ink)
    return crop is not None and _is_dot(crop, max(ink.shape))


def only_a_dot(ink: np.ndarray, side: int | None = None) -> bool:
    """True when the ink is a dot or a blob, a tap of the pen rather than a stroke: under
    MIN_ELONGATION stroke widths long and under DOT_EXTENT of `side` (by default the ink's
    shorter side). Unlike `too_small`, however small a stroke is, it is no dot: a number
    may be written small in a large photo and still be read."""
    ink = as_unit_ink(ink, "only_a_dot")
    crop = _read_crop(ink)
    return crop is not None and bool(_is_dot(crop, side or min(ink.shape), smallest=0.0))


def enlarge(image: np.ndarray, size: int, smooth: bool = False) -> np.ndarray:
    """A small image (float in [0, 1]) shown size x size: crisp pixel blocks, or smooth."""
    resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    enlarged = Image.fromarray(np.asarray(image, np.float32)).resize((size, size), resample)
    return np.clip(np.asarray(enlarged), 0.0, 1.0)


def png_data_url(pixels: np.ndarray) -> str:
    """A picture (float in [0, 1] or uint8; grey, RGB or RGBA) as a PNG data URL, to send a
    small one inside a message or a page rather than as a file of its own."""
    if pixels.dtype != np.uint8:
        pixels = np.round(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
