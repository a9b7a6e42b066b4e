"""The Draw tab: a digit, a number or a photo read as it is drawn, and the feedback row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

import charts
import digit_model
import explain
from feedback_store import FeedbackError, Label, StorageUnavailable
from photo import Photo, PhotoError, read_upload
from preprocess import canvas_to_ink
from reading import DrawingReading, NumberReading, read_drawing, read_number
from tabs.common import open_feedback_store

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

CANVAS_KEY = "digit_canvas"
CANVAS_SIZE = 280  # px; fits a 360 px phone screen with the page margins
NUMBER_CANVAS_KEY = "number_canvas"
NUMBER_CANVAS_WIDTH = 700  # px; fills the page on a desktop and scrolls sideways on a phone
ONE_DIGIT, A_NUMBER, A_PHOTO = "One digit", "A number", "A photo"
MODE_LABEL, MODE_KEY = "What to read", "read_mode"
TOOLBAR_ROOM = 24  # px above a canvas, whose toolbar floats over what lies just above it
NUMBER_HINT = (
    "Write a number in the wide box, digits side by side with a little space between them. "
    "On a phone, scroll the box sideways for more room."
)
PHOTO_HINT = (
    "Upload a photo or scan of digits written on paper (or chalk on a board): one line, "
    "filling most of the picture. PNG, JPEG or WebP."
)
NO_HANDWRITING = (
    "No handwriting found in this picture. Try a closer photo with the digits large, dark "
    "and sharp, on plain paper."
)
PHOTO_TYPES = ["png", "jpg", "jpeg", "webp"]
PHOTO_HEIGHT = 360  # px; a tall photo is shown no taller than this
PHOTO_READING_KEY = "photo_reading"  # (file id, what was read), so reruns do not read it again
WHY_LABEL = "Why this answer?"
WHY_HELP = (
    "Colour the strokes by how much they drove the answer: red the most, grey hardly at all. "
    "Each part of the drawing is hidden in turn and the model reads it again."
)
DIGIT_PREVIEW_SCALE = 4  # each digit of a number is shown 112 px square, side by side...
DIGIT_GAP = 4  # ...in a margin of this many white pixels, so that neighbours stand apart
OUTLINE = (37, 99, 235)  # the page's primary colour, around each digit found on a photo
BRUSH_WIDTHS = (6, 40)  # px, the slider's range
DEFAULT_BRUSH = 18
UNSURE_BELOW = 0.6  # a winner less likely than this is shown as a guess between two digits
PREVIEW_SCALE = 6  # each of the 28x28 input pixels becomes a crisp 6x6 block
DRAW_HINT = "Draw a digit from 0 to 9 in the box. The answer appears as soon as you lift the pen."
CONFIRM_LABEL = "✓ Correct"
PICK_LABEL = "Wrong? Pick the digit you meant"
UNAVAILABLE = "Saving is unavailable right now"

# Session state: who this visit is, and what its clicks on the feedback row came to.
SESSION_ID_KEY = "feedback_session_id"
SAVED_KEY = "saved_labels"  # drawing key -> the digit saved for it (None: saved before, unknown)
NOTICE_KEY = "feedback_notice"  # the outcome of the last click, shown under its drawing
TOAST_KEY = "feedback_toast"  # set by a click, taken by the run right after it

# The canvas waits 200 ms after the pen is lifted before it sends the drawing, to batch quick
# edits; that alone would double the time to the answer. When a stroke ends on the drawing
# surface, this asks it to send at once through its own "Update the app" toolbar button (after
# the canvas has finished the stroke). If the component's markup ever changes, the page falls
# back to the canvas's own delay.
SEND_ON_PEN_UP = """<script>
(() => {
  if (window.digitCanvasSendsOnPenUp) return;
  window.digitCanvasSendsOnPenUp = true;
  document.addEventListener("pointerup", (event) => {
    const surface = event.composedPath().find((node) => node.classList?.contains("upper-canvas"));
    const host = surface?.getRootNode().host;
    if (!host?.closest(".st-key-CANVAS_KEY, .st-key-NUMBER_CANVAS_KEY")) return;
    setTimeout(() => host.shadowRoot
      .querySelector('button[aria-label="Update the app with this drawing"]')?.click());
  }, true);
})();
</script>""".replace("NUMBER_CANVAS_KEY", NUMBER_CANVAS_KEY).replace("CANVAS_KEY", CANVAS_KEY)


# Ten digits side by side fit the answer column, and a phone screen, once the pills' side
# padding is narrowed; otherwise the last ones would scroll out of sight.
COMPACT_DIGIT_PICKER = """<style>
[class*="st-key-true_digit_"] button[data-variant="pills"] {
  min-width: 1.625rem;
  padding-left: 0.4rem;
  padding-right: 0.4rem;
}
</style>"""


@dataclass(frozen=True)
class Notice:
    """What a click on the feedback row came to, for the drawing it was about."""

    drawing_key: str
    outcome: Literal["saved", "already saved", "unavailable", "refused"]
    message: str


def session_id() -> str:
    """This visit's id, kept with each label it gives."""
    if SESSION_ID_KEY not in st.session_state:
        st.session_state[SESSION_ID_KEY] = uuid.uuid4().hex
    return st.session_state[SESSION_ID_KEY]


def enlarged(image: np.ndarray, scale: int = PREVIEW_SCALE) -> np.ndarray:
    """The 28x28 input as uint8 pixels, each repeated into a block so nothing gets blurred."""
    pixels = np.round(image * 255).astype(np.uint8)
    return pixels.repeat(scale, axis=0).repeat(scale, axis=1)


def pick_key(drawing_key: str) -> str:
    """Widget key of the digit picker for one drawing; a new drawing gets a fresh picker.

    COMPACT_DIGIT_PICKER finds the picker by this key's prefix.
    """
    return f"true_digit_{drawing_key}"


def already_saved(digit: int | None) -> str:
    """What a repeated click is told."""
    return "Already saved." if digit is None else f"Already saved as a {digit}."


def save_label(reading: DrawingReading, strokes: dict | None, true_digit: int | None) -> None:
    """Store the digit meant for this drawing, once; runs on a click, before the rerun."""
    if true_digit is None:  # the picked digit clicked again, which unselects it
        return
    key = reading.drawing_key
    saved = st.session_state.setdefault(SAVED_KEY, {})
    if key in saved:  # a second click, before the first one's rerun disabled the row
        notice = Notice(key, "already saved", already_saved(saved[key]))
    else:
        label = Label(
            session_id=session_id(),
            predicted_digit=reading.digit,
            confidence=reading.confidence,
            true_digit=true_digit,
            image=reading.image,
            strokes=strokes,
        )
        try:
            stored = open_feedback_store().save(label)
        except StorageUnavailable as error:
            notice = Notice(key, "unavailable", str(error))
        except FeedbackError as error:
            notice = Notice(key, "refused", str(error))
        else:
            # Not stored: an earlier click, which this page no longer knows of, saved it.
            saved[key] = true_digit if stored else None
            notice = (
                Notice(key, "saved", f"Saved: a {true_digit}.")
                if stored
                else Notice(key, "already saved", already_saved(None))
            )
    # The picker shows the digit kept for this drawing, or nothing when saving failed.
    st.session_state[pick_key(key)] = saved.get(key)
    st.session_state[NOTICE_KEY] = notice
    st.session_state[TOAST_KEY] = True


def save_picked_digit(reading: DrawingReading, strokes: dict | None) -> None:
    """Store the digit just picked for this drawing."""
    save_label(reading, strokes, st.session_state.get(pick_key(reading.drawing_key)))


def feedback_row(reading: DrawingReading, strokes: dict | None) -> None:
    """One click to confirm the answer or give the right digit; no database work until then."""
    key = reading.drawing_key
    saved = st.session_state.get(SAVED_KEY, {})
    is_saved = key in saved
    st.button(
        CONFIRM_LABEL,
        key=f"confirm_{key}",
        on_click=save_label,
        args=(reading, strokes, reading.digit),
        disabled=is_saved,
        help=f"The answer {reading.digit} is right: save this drawing with it.",
    )
    st.pills(
        PICK_LABEL,
        range(10),
        key=pick_key(key),
        on_change=save_picked_digit,
        args=(reading, strokes),
        disabled=is_saved,
    )
    just_clicked = st.session_state.pop(TOAST_KEY, False)
    notice = st.session_state.get(NOTICE_KEY)
    if notice is None or notice.drawing_key != key:
        notice = None
    if notice is not None and just_clicked:
        if notice.outcome == "saved":
            st.toast(notice.message, icon=":material/check_circle:")
        elif notice.outcome == "already saved":
            st.toast(notice.message, icon=":material/info:")
    if is_saved:
        saved_text = (
            notice.message
            if notice and notice.outcome == "already saved"
            else f"✓ Saved as a {saved[key]}."
        )
        st.caption(f"{saved_text} Draw another digit to label it too.")
    elif notice is not None and notice.outcome == "unavailable":
        st.warning(
            f"**{UNAVAILABLE}**, so this label was not kept; reading your drawings goes on. "
            f"Try again in a moment.\n\n{notice.message}",
            icon="💾",
        )
    elif notice is not None and notice.outcome == "refused":
        st.error(notice.message, icon="🚫")


def answer_section(reading: DrawingReading | None, strokes: dict | None = None) -> None:
    """The answer and its confidence, the feedback row, the ten probabilities, the model's view."""
    if reading is None:
        st.info(DRAW_HINT, icon="✏️")
        return
    prediction, confidence = st.columns(2)
    prediction.metric("Prediction", reading.digit)
    confidence.metric("Confidence", f"{reading.confidence:.0%}")
    if reading.confidence < UNSURE_BELOW:
        first, second = reading.top_two
        st.warning(
            f"Not sure: this looks like a **{first}** ({reading.probabilities[first]:.0%}) "
            f"or a **{second}** ({reading.probabilities[second]:.0%}). "
            "Try drawing it larger and clearer.",
            icon="🤔",
        )
    feedback_row(reading, strokes)
    st.vega_lite_chart(
        spec=charts.probability_chart(reading.probabilities), width="stretch", height=190
    )
    st.image(
        enlarged(reading.image),
        caption="What the model sees: the 28x28 input, centred like MNIST",
        width=28 * PREVIEW_SCALE,
        output_format="PNG",
    )


def drawing_canvas(width: int, brush: int, key: str):
    """A freedraw canvas that sends its image to the server on every stroke."""
    # Imported here: the component registers itself with the running server on import, which
    # fails outside one, and the rest of this module is used by tests and benchmarks too.
    from streamlit_drawable_canvas import st_canvas

    return st_canvas(
        stroke_width=brush,
        stroke_color="#000000",
        background_color="#ffffff",
        height=CANVAS_SIZE,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=key,
    )


@st.fragment
def drawing_section(classifier: digit_model.Classifier) -> None:
    """Canvas and answer; a stroke re-runs only this fragment, not the rest of the page."""
    canvas_column, answer_column = st.columns(2, gap="medium")
    with canvas_column:
        canvas_area = st.container()
        brush = brush_controls()
    with canvas_area:
        drawing = drawing_canvas(CANVAS_SIZE, brush, CANVAS_KEY)
    with answer_column:
        reading = read_drawing(classifier, drawing.image_data)
        answer_section(reading, drawing.json_data)
        if reading is not None:
            why_section(classifier, [reading.image], [reading.digit], key="why_digit")


def brush_controls() -> int:
    """The brush-width slider under a canvas, and where its toolbar is; the width chosen."""
    brush = st.slider(
        "Brush width", *BRUSH_WIDTHS, value=DEFAULT_BRUSH, format="%d px", key="brush_width"
    )
    st.caption("Undo, redo and clear (bin icon) are in the toolbar above the box.")
    return brush


def why_section(
    classifier: digit_model.Classifier,
    images: list[np.ndarray],
    digits: list[int],
    key: str,
    scale: int = PREVIEW_SCALE,
) -> None:
    """A toggle that shows which strokes drove each answer; nothing is computed while it is off."""
    if not st.toggle(WHY_LABEL, key=key, help=WHY_HELP):
        return
    heat_maps = [
        explain.overlay(image, explain.saliency(classifier, image, digit), size=28 * scale)
        for image, digit in zip(images, digits)
    ]
    st.image(
        heat_maps,
        caption=[f"Why {digit}" for digit in digits],
        alt=[f"The input of the {digit}, its strokes coloured by their effect" for digit in digits],
        output_format="PNG",
    )
    st.caption("Red strokes drove the answer most, orange ones less; grey ones hardly mattered.")


def number_answer(classifier: digit_model.Classifier, reading: NumberReading, key: str) -> None:
    """The number read, how sure the model is of all of it, and each digit's input and answer."""
    prediction, confidence = st.columns(2)
    prediction.metric("Prediction", reading.number)
    confidence.metric(
        "Confidence",
        f"{reading.confidence:.0%}",
        help="How sure the model is of every digit at once: their confidences multiplied.",
    )
    doubts = []
    for position, digit in enumerate(reading.digits, start=1):
        if digit.confidence < UNSURE_BELOW:
            first, second = digit.top_two
            doubts.append(
                f"digit {position} may be a **{first}** ({digit.probabilities[first]:.0%}) "
                f"or a **{second}** ({digit.probabilities[second]:.0%})"
            )
    if doubts:
        st.warning(
            f"Not sure: {'; '.join(doubts)}. Try writing it larger and clearer, "
            "with a little space between the digits.",
            icon="🤔",
        )
    st.image(
        [
            np.pad(enlarged(digit.image, DIGIT_PREVIEW_SCALE), DIGIT_GAP, constant_values=255)
            for digit in reading.digits
        ],
        caption=[f"{digit.digit} · {digit.confidence:.0%}" for digit in reading.digits],
        alt=[f"The 28x28 input read as {digit.digit}" for digit in reading.digits],
        output_format="PNG",
    )
    st.caption("What the model sees: each digit's 28x28 input, with its answer and confidence.")
    why_section(
        classifier,
        [digit.image for digit in reading.digits],
        [digit.digit for digit in reading.digits],
        key=key,
        scale=DIGIT_PREVIEW_SCALE,
    )


@st.fragment
def number_section(classifier: digit_model.Classifier) -> None:
    """A wide canvas for a number; a stroke reads all its digits in one batched call and
    re-runs only this fragment."""
    canvas_area = st.container()
    brush = brush_controls()
    with canvas_area:
        drawing = drawing_canvas(NUMBER_CANVAS_WIDTH, brush, NUMBER_CANVAS_KEY)
    rgba = drawing.image_data
    reading = None if rgba is None else read_number(classifier, canvas_to_ink(rgba))
    if reading is None:
        st.info(NUMBER_HINT, icon="✏️")
    else:
        number_answer(classifier, reading, key="why_number")


def read_photo(
    upload: UploadedFile, classifier: digit_model.Classifier
) -> tuple[Photo, NumberReading | None]:
    """Find and read the handwriting on an upload, once: reruns (a toggle, a tab) reuse it.

    Raises PhotoError, with a message for the person, for a file that is not a usable picture.
    """
    kept = st.session_state.get(PHOTO_READING_KEY)
    if kept is not None and kept[0] == upload.file_id:
        return kept[1]
    photo = read_upload(upload.getvalue())
    result = photo, read_number(classifier, photo.ink)
    st.session_state[PHOTO_READING_KEY] = (upload.file_id, result)
    return result


def outlined(photo: Photo, reading: NumberReading | None) -> np.ndarray:
    """The photo with a box drawn around each digit read on it."""
    picture = Image.fromarray(photo.picture)
    if reading is not None:
        pen = ImageDraw.Draw(picture)
        line = max(2, round(max(picture.size) / 250))
        for digit in reading.digits:
            box = digit.box
            outline = (box.left - line, box.top - line, box.right + line, box.bottom + line)
            pen.rectangle(outline, outline=OUTLINE, width=line)
    return np.asarray(picture)


@st.fragment
def photo_section(classifier: digit_model.Classifier) -> None:
    """Upload a photo or scan of handwriting; it is read like a number written on the canvas."""
    upload = st.file_uploader(
        "Photo or scan of handwriting", type=PHOTO_TYPES, key="photo_upload", help=PHOTO_HINT
    )
    if upload is None:
        st.session_state.pop(PHOTO_READING_KEY, None)
        st.info(PHOTO_HINT, icon="📷")
        return
    try:
        photo, reading = read_photo(upload, classifier)
    except PhotoError as error:
        st.error(str(error), icon="🚫")
        return
    height, width = photo.picture.shape[:2]
    # A container's width, unlike an image's, shrinks to fit a narrow screen.
    with st.container(width=min(width, round(PHOTO_HEIGHT * width / height))):
        st.image(
            outlined(photo, reading),
            caption="Your picture, with a box around each digit found"
            if reading is not None
            else "Your picture",
            width="stretch",
        )
    if reading is None:
        st.info(NO_HANDWRITING, icon="🔍")
    else:
        number_answer(classifier, reading, key="why_photo")


def draw_section(classifier: digit_model.Classifier | None) -> None:
    """One digit, a number or a photo to read, once the model is loaded."""
    if classifier is None:
        st.info("The canvas comes back once the model file is in place.")
        return
    # Outside the sections' fragments: strokes do not redo it, and a new choice rebuilds the tab.
    mode = st.segmented_control(
        MODE_LABEL, [ONE_DIGIT, A_NUMBER, A_PHOTO], default=ONE_DIGIT, required=True, key=MODE_KEY
    )
    if mode == A_PHOTO:
        photo_section(classifier)
        return
    st.space(TOOLBAR_ROOM)
    if mode == A_NUMBER:
        number_section(classifier)
    else:
        drawing_section(classifier)
