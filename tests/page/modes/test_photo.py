"""A photo of handwriting under AppTest: the number read and outlined, advice for a photo,
and every kind of picture file, sound or not, read or refused with a clear message."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from PIL import Image

import reading
import tabs.draw
import tabs.draw.number
import tabs.draw.photo
import tabs.draw.shared
from devtools.pictures import encoded
from preprocess import canvas_to_ink
from tests.support.data import mnist
from tests.support.page_modes import (
    NUMBER,
    captions,
    choose,
    counted,
    metric,
    number_labels,
    saved_line,
    shown,
    type_number,
    upload,
    why_pictures,
)
from tests.support.pictures import (
    animated,
    narrow_crop,
    photographed,
    png_claiming_size,
    sideways_with_broken_exif,
    truncated_jpeg,
    truncated_png,
    written,
)


def test_a_photo_of_a_number_on_paper_is_read_and_its_digits_outlined(app, canvas, clear_digits):
    data = encoded(photographed(clear_digits, NUMBER), "JPEG", quality=75)
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    assert [info.value for info in shown(app).info] == [tabs.draw.photo.PHOTO_HINT]
    assert app.file_uploader(key=tabs.draw.photo.PHOTO_UPLOAD_KEY).allowed_type == [
        f".{kind}" for kind in reading.photo.FILE_EXTENSIONS
    ]

    upload(app, "IMG_2026.jpg", data, "image/jpeg")

    assert not app.exception
    assert len(shown(app).error) == 0 and len(shown(app).info) == 0
    assert metric(app, "Prediction") == NUMBER
    picture, digit_inputs = shown(app).image
    assert "each digit, point, comma and minus found is boxed" in picture.proto.imgs[0].caption
    assert len(digit_inputs.proto.imgs) == len(NUMBER)

    type_number(app, "photo", "2027")  # corrected: each digit saved with its piece

    assert number_labels() == [(2, 2), (0, 0), (2, 2), (6, 7)]
    assert "Saved as **2027**" in saved_line(app)


def test_a_photo_shows_a_box_around_each_digit_and_the_point_read(classifier, clear_digits):
    photo = reading.photo.read_upload(
        encoded(photographed(clear_digits, "20.26"), "JPEG", quality=80)
    )
    number = reading.read_number(classifier, photo.ink)
    assert number.number == "20.26"

    boxed = tabs.draw.photo.outlined(photo, number)

    boxes = [digit.box for digit in number.digits] + [mark.box for mark in number.marks]
    for box in boxes:
        middle_row, middle_column = (box.top + box.bottom) // 2, (box.left + box.right) // 2
        just_outside = [
            boxed[box.top - 1, middle_column],
            boxed[box.bottom, middle_column],
            boxed[middle_row, box.left - 1],
            boxed[middle_row, box.right],
        ]
        assert all(tuple(pixel) == tabs.draw.photo.OUTLINE for pixel in just_outside), box


def test_a_small_scan_is_shown_enlarged_in_crisp_blocks_with_its_boxes(classifier):
    """A 64x32 black-and-white scan of 17, shown as sent, would be a speck on the page with its
    caption squeezed into a column beside it: it is enlarged by whole blocks, unblurred."""
    images, labels = mnist("test")
    one, seven = (images[np.flatnonzero(labels == digit)[0]] for digit in (1, 7))
    ink = np.zeros((32, 64), np.uint8)
    ink[2:30, 2:30], ink[2:30, 34:62] = one, seven
    scan = np.where(ink > 100, 0, 255).astype(np.uint8)  # black on white, nothing between
    photo = reading.photo.read_upload(encoded(Image.fromarray(scan), "PNG"))
    number = reading.read_number(classifier, photo.ink)
    assert number.number == "17"

    boxed = tabs.draw.photo.outlined(photo, number)

    # Beside the answer, in half the page's 704 px: by 5, to the size it is shown at there.
    blocks = 5
    assert boxed.shape[:2] == (32 * blocks, 64 * blocks)
    grey = boxed[..., 0]
    drawn = np.repeat(np.repeat(photo.picture[..., 0], blocks, axis=0), blocks, axis=1)
    # Each pixel a block of its own grey (greys only: the boxes are blue).
    unboxed = (boxed[..., 0] == boxed[..., 2]) & (boxed[..., 1] == boxed[..., 2])
    assert unboxed.mean() > 0.8
    assert np.array_equal(grey[unboxed], drawn[unboxed])
    for box in (digit.box for digit in number.digits):
        middle_column = (box.left + box.right) // 2 * blocks
        assert tuple(boxed[box.top * blocks - 1, middle_column]) == tabs.draw.photo.OUTLINE
        assert tuple(boxed[box.bottom * blocks, middle_column]) == tabs.draw.photo.OUTLINE


def test_a_narrow_picture_has_its_caption_under_it_in_readable_lines(
    app, canvas, clear_digits, monkeypatch
):
    """A 40x250 crop of a 1 is shown as it is: its own caption would be a word a line."""
    widths = []  # AppTest does not say how wide a picture is shown

    def image(picture, *args, width="content", alt=None, **kwargs):
        if str(alt).startswith("Your picture"):
            widths.append(width)
        return show_image(picture, *args, width=width, alt=alt, **kwargs)

    show_image = st.image
    monkeypatch.setattr(st, "image", image)
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    upload(app, "crop.png", encoded(narrow_crop(clear_digits), "PNG"), "image/png")

    assert metric(app, "Prediction") == "1"
    assert widths == [40]  # the picture's own width, not stretched to its caption's
    assert captions(app)[0] == ""  # the picture's own caption would be as narrow as it
    place = shown(app).get_by_key(tabs.draw.photo.PHOTO_PICTURE_KEY)
    assert place.proto.width_config.pixel_width == tabs.draw.photo.CAPTION_WIDTH
    (caption,) = place.caption
    assert caption.value.startswith("Your picture: each digit")


def test_a_photo_of_a_digit_on_squared_paper_held_askew_is_read(app, canvas, clear_digits):
    data = encoded(photographed(clear_digits, "4", "squared", 5.0), "JPEG", quality=80)
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "IMG_2027.jpg", data, "image/jpeg")

    assert not app.exception
    assert metric(app, "Prediction") == "4"  # without the lines left out: "47"


def test_a_photo_in_doubt_gets_advice_for_a_photo(app, canvas, clear_digits):
    """A number photographed askew and small is in doubt; the advice is about the photo,
    not about writing on the canvas."""
    askew = photographed(clear_digits, NUMBER).rotate(40, expand=True, fillcolor="white")
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "IMG_2028.jpg", encoded(askew, "JPEG", quality=80), "image/jpeg")

    assert not app.exception
    (warning,) = shown(app).warning
    assert warning.value.startswith("Not sure:")
    assert "Try another photo: upright, in focus" in warning.value
    assert "Try writing" not in warning.value


def test_a_photo_on_its_side_is_said_to_hold_lines_and_to_be_turned_upright(
    app, canvas, clear_digits
):
    """Turned on its side with nothing to say so (no EXIF), the digits stand one above
    another, as lines of one digit each would."""
    sideways = photographed(clear_digits, NUMBER).transpose(Image.Transpose.ROTATE_270)
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "IMG_2030.jpg", encoded(sideways, "JPEG", quality=80), "image/jpeg")

    assert not app.exception
    (warning,) = shown(app).warning
    assert warning.value == tabs.draw.number.several_lines_said(len(NUMBER), photo=True)
    assert "with the paper upright" in warning.value


def test_blank_paper_says_no_handwriting_was_found(app, canvas):
    cols = np.mgrid[0:400, 0:600][1] / 600
    paper = 0.5 + 0.45 * cols + np.random.default_rng(1).normal(0, 0.03, (400, 600))
    data = encoded(Image.fromarray((np.clip(paper, 0, 1) * 255).astype(np.uint8)), "JPEG")
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, "paper.jpg", data, "image/jpeg")

    assert not app.exception
    assert [info.value for info in shown(app).info] == [tabs.draw.photo.NO_HANDWRITING]
    assert metric(app, "Prediction") is None
    assert captions(app) == ["Your picture"]


def sixteen_bit(clear_digits) -> bytes:
    grey = np.asarray(photographed(clear_digits, NUMBER).convert("L")).astype(np.uint16) * 64
    return encoded(Image.fromarray(grey), "PNG")


def cmyk(clear_digits) -> bytes:
    return encoded(photographed(clear_digits, NUMBER).convert("CMYK"), "JPEG", quality=85)


def transparent(clear_digits) -> bytes:
    """Black strokes on a transparent background, as a drawing app exports them."""
    ink = canvas_to_ink(written(clear_digits, NUMBER))
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return encoded(Image.fromarray(rgba), "PNG")


def webp(clear_digits) -> bytes:
    return encoded(photographed(clear_digits, NUMBER), "WEBP", quality=80)


def broken_exif(clear_digits) -> bytes:
    return sideways_with_broken_exif(photographed(clear_digits, NUMBER), "JPEG")


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (sixteen_bit, "scan.png"),
        (cmyk, "print.jpg"),
        (transparent, "export.png"),
        (webp, "photo.webp"),
        (broken_exif, "edited.jpg"),
    ],
    ids=["16-bit png", "cmyk jpeg", "transparent png", "webp", "exif tag of the wrong type"],
)
def test_unusual_but_sound_pictures_are_read(app, canvas, clear_digits, make, name):
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, name, make(clear_digits), "application/octet-stream")

    assert not app.exception
    assert len(shown(app).error) == 0
    assert metric(app, "Prediction") == NUMBER


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("empty.png", lambda: b"", "empty"),
        ("notes.png", lambda: b"Dear diary, I wrote 2026 on a napkin.\n" * 20, "not a PNG"),
        ("moved.jpg", lambda: encoded(Image.new("RGB", (64, 64), "white"), "GIF"), "not a PNG"),
        ("cut.png", truncated_png, "damaged or incomplete"),
        ("cut.jpg", truncated_jpeg, "damaged or incomplete"),
        ("bomb.png", lambda: png_claiming_size(100_000, 100_000), "too many pixels"),
        ("moving.png", lambda: animated("PNG"), "animated"),
        ("moving.webp", lambda: animated("WEBP"), "animated"),
        ("dot.png", lambda: encoded(Image.new("RGB", (6, 40), "white"), "PNG"), "only 6x40"),
    ],
    ids=[
        "zero bytes",
        "not an image",
        "gif renamed to jpg",
        "truncated png",
        "truncated jpeg",
        "decompression bomb",
        "animated png",
        "animated webp",
        "too small",
    ],
)
def test_bad_files_get_a_clear_message_and_the_page_keeps_working(
    app, canvas, clear_digits, name, make, message
):
    choose(app.run(), tabs.draw.shared.A_PHOTO)

    upload(app, name, make(), "application/octet-stream")

    assert not app.exception
    (error,) = shown(app).error
    assert message in error.value
    # Which file, by its name as written, beside any file the uploader refused on its own.
    assert error.value.startswith(f"**{tabs.draw.shared.as_written(name)}**: ")
    assert metric(app, "Prediction") is None
    assert captions(app) == []

    upload(app, "IMG_2026.jpg", encoded(photographed(clear_digits, NUMBER), "JPEG"), "image/jpeg")

    assert not app.exception
    assert len(shown(app).error) == 0
    assert metric(app, "Prediction") == NUMBER


def test_a_bad_file_is_named_as_written_whatever_marks_its_name_holds(app, canvas):
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    upload(app, "my_*notes*.png", b"Dear diary" * 20, "image/png")

    (error,) = shown(app).error
    assert error.value.startswith(r"**my\_\*notes\*\.png**: ")  # not "my_notes" in italics


def test_a_photo_is_read_once_however_often_the_page_reruns(app, canvas, clear_digits, monkeypatch):
    reads = counted(monkeypatch, tabs.draw.photo, "read_upload")
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    upload(app, "IMG_2026.jpg", encoded(photographed(clear_digits, NUMBER), "JPEG"), "image/jpeg")

    app.toggle(key="why_photo").set_value(True).run()
    app.run()

    assert not app.exception
    assert metric(app, "Prediction") == NUMBER
    assert why_pictures(app) == [f"Why {digit}" for digit in NUMBER]
    assert reads.calls == 1


def test_a_bad_file_is_decoded_once_however_often_the_page_reruns(app, canvas, monkeypatch):
    reads = counted(monkeypatch, tabs.draw.photo, "read_upload")
    choose(app.run(), tabs.draw.shared.A_PHOTO)
    upload(app, "scan.png", b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")
    app.run()
    app.run()

    assert not app.exception
    assert len(shown(app).error) == 1
    assert reads.calls == 1
