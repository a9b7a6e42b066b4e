"""Picture files the photo reader must refuse or bound: bad and cut-off files, canvas
exports, decompression bombs, and the decoding budget (pixels, memory, pictures at once)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import tomllib

import numpy as np
import pytest
from PIL import Image

from devtools import REPO_ROOT
from devtools.pictures import encoded, paper_photo
from preprocess import canvas_to_ink
from reading import photo
from reading.photo import (
    MAX_BYTES,
    DamagedPicture,
    PhotoBusy,
    PhotoError,
    TooManyPixels,
    read_upload,
)
from tests.support.pictures import (
    animated,
    png_claiming_size,
    truncated_jpeg,
    truncated_png,
)
from training.canvas_drawings import draw

# How an iPhone's HEIC photo begins: its box size, then "ftyp" and the brand.
HEIC_START = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "empty"),
        (lambda: b"Dear diary, today I wrote 2026 on a napkin.\n" * 20, "not a PNG, JPEG or WebP"),
        (lambda: encoded(Image.new("RGB", (64, 64), "white"), "GIF"), "is a GIF, not a PNG"),
        (lambda: encoded(Image.new("RGB", (64, 64), "white"), "BMP"), "is a BMP, not a PNG"),
        (lambda: encoded(Image.new("RGB", (64, 64), "white"), "TIFF"), "is a TIFF, not a PNG"),
        (lambda: encoded(Image.new("RGB", (64, 64), "white"), "PDF"), "is a PDF document"),
        (lambda: HEIC_START + bytes(200), "is a HEIC or AVIF photo.*Most Compatible"),
        (truncated_jpeg, "damaged or incomplete"),
        (truncated_png, "damaged or incomplete"),
        (lambda: encoded(Image.new("RGB", (64, 64)), "PNG")[:40], "This PNG file could not be"),
        (lambda: encoded(Image.new("RGB", (64, 64)), "WEBP")[:30], "This WebP file could not be"),
        (lambda: b"BMW service record, 2026.\n" * 20, "This file is not a PNG, JPEG or WebP"),
        (lambda: b"MM\x00*" + bytes(200), "is a TIFF, not a PNG"),
        (lambda: png_claiming_size(100_000, 100_000), "too many pixels"),
        (lambda: png_claiming_size(9_000, 7_000), "too many pixels"),
        (lambda: animated("PNG"), "animated"),
        (lambda: animated("WEBP"), "animated"),
        (lambda: encoded(Image.new("RGB", (6, 40), "white"), "PNG"), "only 6x40 pixels"),
        (lambda: encoded(Image.new("L", (3000, 20), 255), "PNG"), "too long and narrow"),
        # Just over the limit reads as over it, not as the limit itself.
        (lambda: b"\x89PNG" + bytes(MAX_BYTES), "is 25.1 MB, over the 25 MB limit"),
    ],
    ids=[
        "zero bytes",
        "text file",
        "gif",
        "bmp",
        "tiff",
        "pdf",
        "heic",
        "truncated jpeg",
        "truncated png",
        "cut-off header",
        "cut-off webp header",
        "text starting as a bmp does",
        "big-endian tiff",
        "decompression bomb",
        "too many pixels",
        "animated png",
        "animated webp",
        "too small",
        "a thin strip",
        "too large a file",
    ],
)
def test_bad_files_get_a_clear_message(make, message):
    with pytest.raises(PhotoError, match=message):
        read_upload(make())


@pytest.mark.parametrize("make", [truncated_jpeg, truncated_png], ids=["jpeg", "png"])
def test_a_cut_off_picture_is_told_from_other_bad_files(make):
    """The command line words a damaged local file its own way: it must know one."""
    with pytest.raises(DamagedPicture):
        read_upload(make())


@pytest.mark.parametrize("setup", ["black on transparent", "white on black", "navy on cream"])
def test_canvas_export_is_read_like_the_canvas(clear_digits, setup):
    """A digital drawing (flat border) skips the lighting estimate: its ink is the canvas's."""
    rgba = draw(clear_digits[2].segments, 200, 40, 60, 18, setup)
    upload = read_upload(encoded(Image.fromarray(rgba), "PNG"))
    assert upload.scale == 1.0
    assert upload.picture.shape == (280, 280, 3)
    np.testing.assert_array_equal(upload.ink, canvas_to_ink(rgba))


def test_large_drawing_is_scaled_to_working_size(clear_digits):
    rgba = draw(clear_digits[7].segments, 1200, 200, 300, 80, "red on white", size=1600)
    upload = read_upload(encoded(Image.fromarray(rgba), "PNG"))
    assert upload.ink.shape == (800, 800) and upload.scale == 0.5


def test_decompression_bomb_is_its_own_error():
    with pytest.raises(TooManyPixels, match="too many pixels"):
        read_upload(png_claiming_size(9_000, 7_000))


def test_a_scan_with_too_many_pixels_is_told_how_to_make_one_that_is_read():
    with pytest.raises(TooManyPixels) as a4_at_600_dpi:
        read_upload(png_claiming_size(4_960, 7_016))
    assert str(a4_at_600_dpi.value) == (
        "The image has too many pixels (4960x7016); the limit for PNG images is 25 megapixels. "
        "Scale it down, scan at 300 dpi, or take the photo at the camera's usual 12 megapixels."
    )


# --- the decoding budget ---------------------------------------------------------------------


def blank_with_a_stroke(side: int) -> Image.Image:
    """A transparent page of side x side pixels with one thick black stroke across it."""
    picture = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    picture.paste((0, 0, 0, 255), (side // 4, side // 3, side // 2, side // 2))
    return picture


def test_the_page_takes_uploads_up_to_the_limit_a_photo_is_read_to():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == photo.MAX_MB


def test_the_large_png_that_used_to_pass_is_refused_from_its_header():
    """7000x7000 pixels in 200 kB: under the old 50-megapixel limit, +420 MB while read."""
    data = encoded(blank_with_a_stroke(7000), "PNG")
    assert len(data) < 400_000
    with pytest.raises(TooManyPixels, match=r"\(7000x7000\); the limit for PNG images is 25"):
        read_upload(data)


def test_a_24_megapixel_phone_photo_is_read():
    """5712x4284, as recent phones save by default, and turned upright from its EXIF."""
    picture = Image.new("RGB", (5712, 4284), (235, 232, 225))
    picture.paste((30, 30, 40), (1500, 1800, 4200, 2300))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: the view is rotated 90 degrees
    upload = read_upload(encoded(picture, "JPEG", quality=85, exif=exif.tobytes()))
    assert upload.picture.shape[:2] == (800, 600)  # upright: taller than wide
    assert upload.scale == pytest.approx(600 / 4284, rel=0.01)
    assert upload.ink.max() > 0.5


def test_a_webp_over_its_smaller_limit_is_refused():
    data = encoded(blank_with_a_stroke(2600), "WEBP", lossless=True)
    with pytest.raises(TooManyPixels) as refused:
        read_upload(data)
    assert str(refused.value).endswith(
        "the limit for WebP images is 6 megapixels. "
        "Save it as JPEG (up to 25 megapixels), or scale it down."
    )


def test_one_worst_case_upload_stays_within_its_memory_budget():
    """A 25-megapixel transparent PNG, read in a fresh process: its peak memory grows < 200 MB.

    Decoded it is 100 MB; before the decoding budget, the RGBA copy and the full-size
    resize doubled and tripled that.
    """
    script = """
import io, pathlib, sys
from PIL import Image
sys.path.insert(0, ".")
from reading import photo
picture = Image.new("RGBA", (5000, 5000), (0, 0, 0, 0))
picture.paste((0, 0, 0, 255), (1250, 1666, 2500, 2500))
buffer = io.BytesIO()
picture.save(buffer, "PNG")
data = buffer.getvalue()
def kb(field):
    text = pathlib.Path("/proc/self/status").read_text()
    return int(next(l for l in text.splitlines() if l.startswith(field)).split()[1])
before = kb("VmRSS")
pathlib.Path("/proc/self/clear_refs").write_text("5")
upload = photo.read_upload(data)
print(upload.ink.shape, (kb("VmHWM") - before) // 1024)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    shape, growth_mb = result.stdout.rsplit(" ", 1)
    assert shape == "(800, 800)"
    assert int(growth_mb) < 200


def test_at_most_two_pictures_decode_at_once_and_more_are_told_to_try_again(monkeypatch):
    """Eight uploads at once: two decode, the rest wait their turn; one that waits too long
    is told the server is busy, and the same upload goes through afterwards."""
    data = encoded(paper_photo(np.zeros((60, 150), np.float32), scale=1.0), "JPEG")
    decoding, most_at_once, release = [0], [0], threading.Event()
    lock = threading.Lock()
    decode = photo._decoded

    def watched_decode(image):
        with lock:
            decoding[0] += 1
            most_at_once[0] = max(most_at_once[0], decoding[0])
        release.wait(timeout=30)
        try:
            return decode(image)
        finally:
            with lock:
                decoding[0] -= 1

    monkeypatch.setattr(photo, "_decoded", watched_decode)
    monkeypatch.setattr(photo, "DECODE_WAIT_S", 0.5)
    outcomes = []

    def upload():
        try:
            read_upload(data)
            outcomes.append("read")
        except PhotoBusy as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the six without a slot have given up by now
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert most_at_once[0] == photo.MAX_CONCURRENT_DECODES == 2
    assert outcomes.count("read") == 2
    busy = [outcome for outcome in outcomes if outcome != "read"]
    assert len(busy) == 6 and "busy" in busy[0] and "again in a moment" in busy[0]
    assert read_upload(data).ink.shape  # the slots are free again
