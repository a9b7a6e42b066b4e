"""A photo of paper -> ink: the strokes told from the paper, its lighting and its grain.

The paper's uneven lighting is estimated with a morphological opening far wider than a
pen stroke and divided out, the ink's polarity (dark on light, or light on dark) is taken
from which side of the background the outliers lie, and Otsu's threshold keeps the strokes.
The paper's edge beside a desk wider than the lighting's window is left out: it is no stroke;
nor is the desk itself where the picture's edge cuts it, nor a scanner's narrower dark margin
along the picture's edges. Lined or squared paper's lines are left out (`paper_lines`), and a
stroke's faint stretches are kept where they join it.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from preprocess import EIGHT_CONNECTED
from reading.paper_lines import lines_left_out, paper_lines

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
    lines = paper_lines(ink)
    if lines.any():
        contrast = lines_left_out(contrast, ink, lines)
        threshold, faint = _levels(contrast)
        strokes = _strokes(contrast, desk, threshold)
        ink = _ink(contrast, strokes)
    fuller = _ink(contrast, strokes, _faint_stretches(contrast, strokes, faint, lines | desk[1]))
    # Faint ink reaching far past the strokes may join to them lines of the paper too faint
    # to be found before: then it stays out.
    if _reaches_past(fuller, ink) and paper_lines(fuller).any():
        return ink
    return fuller


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

    Such a piece runs along FRAME_CONTACT of an edge or more, but not of the far edge (or of
    all four: a frame round the page, the lid showing on every side), and lies EDGE_SHARE
    within OPENING of the picture's longer side of the edges, and within a quarter of the
    picture across. A picture cropped to its ink has none: there a stroke cut by the crop
    runs along an edge too, and other writing reaches the far edge (or the stroke, a lone 1
    cropped close, runs along it as well).
    """
    near_edges = np.bincount(labels[_edge_band(labels.shape)], minlength=count + 1)
    # The top, bottom, left and right edges: how many pixels of each piece lie on each.
    edges = _edges(labels)
    on_edge = [np.bincount(edge, minlength=count + 1) for edge in edges]
    along = [pixels >= FRAME_CONTACT * len(edge) for pixels, edge in zip(on_edge, edges)]
    candidates = np.logical_or.reduce(along) & (near_edges >= EDGE_SHARE * areas)
    writing = (areas >= MIN_SPECK * labels.size) & ~candidates
    margins = candidates & np.logical_and.reduce(along)
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
