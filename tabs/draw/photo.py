"""A photo: an uploaded photo or scan of handwriting, read like a number written on the canvas,
shown with a box around each digit and mark found."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st
from PIL import Image, ImageColor, ImageDraw

import digit_model
from reading import NumberReading, read_number, recall_number
from reading.photo import FILE_EXTENSIONS, Photo, PhotoBusy, PhotoError, read_upload
from tabs import charts
from tabs.draw.number import number_answer, number_inputs
from tabs.draw.shared import LastRead, as_written, handwriting_memory

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

PHOTO_HINT = (
    "Upload a photo or scan of digits written on plain, lined or squared paper (or in chalk "
    "on a board): one line, filling most of the picture. PNG, JPEG or WebP. Digits in a form's "
    "printed boxes, or on a printed line, are often misread."
)
NO_HANDWRITING = (
    "No handwriting found in this picture. Try a closer photo with the digits large, dark "
    "and sharp, on plain paper."
)
PHOTO_HEIGHT = 360  # px; a photo beside the answer is shown no taller than this...
BESIDE_UP_TO = 2.0  # ...one up to this many times as wide as it is tall; a wider one goes...
STRIP_HEIGHT = 240  # ...above the answer, no taller than this: on a 1280x800 screen the
# number read shows under it without scrolling
PAGE_WIDTH = 704  # px; the page's column on a desktop: no picture is enlarged past it, or
# past half of it beside the answer
CAPTION_WIDTH = 200  # px; a picture shown narrower has its caption under it, this wide
OUTLINE = ImageColor.getrgb(charts.HIGHLIGHT)  # around what is read on a photo
PHOTO_UPLOAD_KEY = "photo_upload"
PHOTO_PICTURE_KEY = "photo_picture"  # the picture as read, boxes drawn on it
PHOTO_RESULT_KEY = "photo_result"  # a wide strip above what was read on it...
PHOTO_BESIDE_KEY = "photo_beside"  # ...or a photo beside it; in either, the answer...
PHOTO_ANSWER_KEY = "photo_answer"  # ...goes first on a phone, and each digit's input...
PHOTO_INPUTS_KEY = "photo_inputs"  # ...after the picture
# What was read on the last upload (by its file id), or why it could not be.
LAST_UPLOAD = LastRead[tuple[Photo, NumberReading | None] | PhotoError]("photo_reading")


def upload_reading(
    classifier: digit_model.Classifier, upload: UploadedFile
) -> tuple[Photo, NumberReading | None]:
    """Find and read the handwriting on an upload, once: reruns (a toggle, a tab) reuse it.

    Raises PhotoError, with a message for the person, for a file that is not a usable picture;
    that too is kept, so a bad file is not decoded again on every rerun. "Busy" is not kept.
    """
    read = LAST_UPLOAD.get(upload.file_id)
    if read is None:
        try:
            photo = read_upload(upload.getvalue())
            read = (photo, read_number(classifier, photo.ink))
        except PhotoBusy:
            raise
        except PhotoError as error:
            read = error
        LAST_UPLOAD.keep(upload.file_id, read)
    if isinstance(read, PhotoError):
        raise read
    return read


def beside_the_answer(photo: Photo) -> bool:
    """Whether the photo is shown beside the answer (in half the page), not above it."""
    height, width = photo.picture.shape[:2]
    return width <= BESIDE_UP_TO * height


def room_for(photo: Photo) -> tuple[int, int]:
    """The most height and width (px) a photo is shown at on a desktop: in half the page
    beside the answer, or across it, kept low, above the answer."""
    if beside_the_answer(photo):
        return PHOTO_HEIGHT, PAGE_WIDTH // 2
    return STRIP_HEIGHT, PAGE_WIDTH


def outlined(photo: Photo, reading: NumberReading | None) -> np.ndarray:
    """The photo with a box drawn around each digit and mark (point, comma, minus) read on it;
    a small scan enlarged in crisp blocks first, which a browser would blur, to about the
    size it is shown at."""
    picture = Image.fromarray(photo.picture)
    most_height, most_width = room_for(photo)
    blocks = max(1, min(most_height // picture.height, most_width // picture.width))
    if blocks > 1:
        enlarged = (picture.width * blocks, picture.height * blocks)
        picture = picture.resize(enlarged, Image.Resampling.NEAREST)
    if reading is not None:
        pen = ImageDraw.Draw(picture)
        line = max(2, round(max(picture.size) / 250))
        for box in [digit.box for digit in reading.digits] + [mark.box for mark in reading.marks]:
            # Right and bottom are exclusive; the outline's corners are inclusive.
            left, top = box.left * blocks - line, box.top * blocks - line
            right, bottom = box.right * blocks - 1 + line, box.bottom * blocks - 1 + line
            pen.rectangle((left, top, right, bottom), outline=OUTLINE, width=line)
    return np.asarray(picture)


@st.fragment
def photo_section(classifier: digit_model.Classifier) -> None:
    """Upload a photo or scan of handwriting; it is read like a number written on the canvas."""
    upload = st.file_uploader(
        "Photo or scan of handwriting",
        type=list(FILE_EXTENSIONS),
        key=PHOTO_UPLOAD_KEY,
        help=PHOTO_HINT,
    )
    if upload is None:
        LAST_UPLOAD.forget()
        st.info(PHOTO_HINT, icon="📷")
        return
    try:
        photo, reading = upload_reading(classifier, upload)
    except PhotoError as error:
        # Named: a file the uploader refuses itself (too large, say) joins this one's chip
        # with a message of its own, and this one is about the file that was taken.
        st.error(f"**{as_written(upload.name)}**: {error}", icon="🚫")
        return
    boxed = reading is not None and not reading.several_lines  # boxes across lines mean nothing
    picture = outlined(photo, reading if boxed else None)
    height, width = picture.shape[:2]
    # A photo half the page wide still shows its digits: the answer goes beside it, as it goes
    # beside the canvas. A wide strip goes above the answer, kept low. On a phone the answer
    # goes above the picture, which would fill the first screen, and the digits' inputs below
    # it, where they would push the picture out of the first screens. The page's stylesheet
    # lays out the three parts by the result's key.
    result = st.container(key=PHOTO_BESIDE_KEY if beside_the_answer(photo) else PHOTO_RESULT_KEY)
    # A container's width, unlike an image's, shrinks to fit a narrow screen.
    shown_width = min(width, round(room_for(photo)[0] * width / height))
    caption = (
        "Your picture: each digit, point, comma and minus found is boxed"
        if boxed
        else "Your picture"
    )
    # A picture's own caption is as wide as the picture: a narrow one's would be a word a line.
    narrow = shown_width < CAPTION_WIDTH
    with result:
        with st.container(key=PHOTO_PICTURE_KEY, width=max(shown_width, CAPTION_WIDTH)):
            st.image(
                picture,
                caption=None if narrow else caption,
                width=shown_width if narrow else "stretch",
                alt=f"Your picture, read as {reading.number}" if boxed else "Your picture",
            )
            if narrow:
                st.caption(caption)
        if reading is None:
            with st.container(key=PHOTO_ANSWER_KEY):
                st.info(NO_HANDWRITING, icon="🔍")
            return
        remembered = recall_number(reading, handwriting_memory(classifier))
        with st.container(key=PHOTO_ANSWER_KEY):
            number_answer(classifier, remembered, "photo")
        with st.container(key=PHOTO_INPUTS_KEY):
            number_inputs(classifier, remembered, "photo")
