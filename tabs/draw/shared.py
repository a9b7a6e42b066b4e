"""What the Draw tab's modes share: their names, the answer's words, the person's examples,
the canvas, what each mode last read, and the visit's settings.

The person's examples are their saved labels not forgotten, the latest a memory holds: every
tab and visit of the same visitor (cookie) builds its memory from the database, on any
replica. A tab loads them in the background when it opens, and before each reading asks the
database for their stamp (`FeedbackStore.examples_stamp`), one cheap query, rebuilding the
memory only when labels were saved, changed, forgotten or deleted since; each label's
features are read once per tab. A visitor with no labels is asked about at most every
NO_EXAMPLES_RECHECK_S, and a SQLite file not made yet is never made by asking. A label just
given is learnt at once, saved or not. Labels deleted in another tab unmark this tab's
drawings saved too, on its next reading or click to save.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import numpy as np
import streamlit as st

from digit_model import Classifier
from feedback.database import QUERY_TIMEOUT_S, StorageUnavailable
from feedback.labels import FeedbackError, drawing_id, validate_image, validate_strokes
from feedback.store import NO_EXAMPLES, ExamplesStamp, FeedbackStore
from preprocess import CANVAS_SIZE, CanvasRefused, canvas_pixels
from reading import DigitReading, HandwritingMemory, Withheld, read_inputs
from tabs.common import NO_VALUE, open_feedback_store, session_id

if TYPE_CHECKING:
    from streamlit_drawable_canvas import CanvasResult

logger = logging.getLogger(__name__)
Read = TypeVar("Read")  # what a mode reads from its input (`LastRead`)
ONE_DIGIT, A_NUMBER, A_PHOTO = "One digit", "A number", "A photo"
NumberArea = Literal["number", "photo"]  # where a number is read: on the wide canvas, or a photo
BLANK = NO_VALUE  # the answer's metrics before anything is drawn
PREDICTION, CONFIDENCE = "Prediction", "Confidence"  # the answer's metrics, by label
TOO_SMALL, TOO_SMALL_HINT = "Too small", "Too small — draw the digit larger."
NOT_A_DIGIT, NOT_A_DIGIT_HINT = "Not a digit", "That doesn't look like a digit."
WITHHELD_WORDS: dict[Withheld, tuple[str, str]] = {  # why a digit is withheld, short and in full
    "too small": (TOO_SMALL, TOO_SMALL_HINT),
    "not a digit": (NOT_A_DIGIT, NOT_A_DIGIT_HINT),
}
CLEAR_TEXT = "Clear"  # the canvas control that empties the canvas, and with it the answer
SURFACE = "canvas.upper-canvas"  # a canvas's drawing surface: Fabric's top layer
REDRAW = "Clear the canvas and draw again."  # after a canvas's picture is refused
FORGET_TEXT = "Forget all"
FORGET_HELP = (
    "Read your next drawings with the model alone, in every tab and visit. Your saved labels "
    "stay saved; History can delete them."
)
FORGOTTEN = "Forgotten: your next drawings are read by the model alone. Your labels stay saved."
FORGOTTEN_HERE_ONLY = (
    "Forgotten in this tab only: the database cannot be reached to forget them for good. "
    "Try again in a moment."
)
MEMORY_KEY = "handwriting_memory"  # the tab's examples of the person's handwriting (Examples)
# Session state: what this visit's clicks on the feedback rows came to (`feedback_row`).
SAVED_KEY = "saved_labels"  # drawing key -> the digit saved for it
NOTICE_KEY = "feedback_notice"  # the outcome of the last click, shown under its drawing
SAVED_NUMBERS_KEY = "saved_numbers"  # number key -> the digit saved for each piece, or None
NUMBER_NOTICE_KEY = "number_notice"  # area -> what the last save of its number came to
NUMBER_SHOWN_KEY = "number_shown"  # area -> the key of the number its feedback row is for
SAVED_MARKS = (SAVED_KEY, NOTICE_KEY, SAVED_NUMBERS_KEY, NUMBER_NOTICE_KEY, NUMBER_SHOWN_KEY)
LOAD_WAIT_S = QUERY_TIMEOUT_S  # the most a reading waits for the examples still loading
# A visitor with no labels saved is asked about again at most this often: labels given in
# another tab meanwhile count from then on (those given in this tab, at once).
NO_EXAMPLES_RECHECK_S = 5.0


def a_digit(digit: int, bold: bool = False) -> str:
    """A digit with its article, as said aloud: "a 3", but "an 8"."""
    shown = f"**{digit}**" if bold else str(digit)
    return f"{'an' if digit == 8 else 'a'} {shown}"


def and_list(words: Sequence[str]) -> str:
    """Words joined as a sentence lists them: "a 1, a 4 and an 8"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def as_written(text: str) -> str:
    """Text of the person's own (a file's name) for Streamlit's markdown, shown as written:
    every ASCII punctuation mark escaped, as markdown allows, so that none reads as a mark
    (`*` as emphasis, `$` as maths, `:` as an icon's name)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def counted(count: int, word: str) -> str:
    """A count and the word it counts, plural but for one: "1 digit", "1,234 labels"."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def ordinal(position: int) -> str:
    """A position as a person counts it: 1st, 2nd, 3rd, 4th, ..., 11th, ..., 21st."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(position % 10, "th")
    return f"{position}{'th' if position % 100 in (11, 12, 13) else suffix}"


def read_as(reading: DigitReading) -> str:
    """What a screen reader says of a 28x28 input shown: what it was read as."""
    return f"The 28x28 input, read as {reading.withheld or reading.digit}"


def unreadable(reading: DigitReading) -> tuple[str, str] | None:
    """Why a drawing is not read as a digit, short and in full; None when it is read."""
    return None if reading.withheld is None else WITHHELD_WORDS[reading.withheld]


@dataclass(eq=False)
class Examples:
    """One tab's memory of the person's handwriting, built from their saved labels."""

    memory: HandwritingMemory = field(default_factory=HandwritingMemory)
    stamp: ExamplesStamp | None = None  # the saved labels' stamp it was built from
    readings: dict[str, DigitReading] = field(default_factory=dict)  # drawing id -> reading
    loading: threading.Thread | None = None  # the first load, in the background
    checked_at: float = -math.inf  # monotonic time the stamp was last asked for
    waited: bool = False  # a reading has waited for the first load already
    # The visitor's labels were deleted (in another tab, say) between the last two rebuilds:
    # the next reading unmarks this tab's drawings saved.
    deleted: bool = False
    # Labels given while the first load ran, by drawing id: kept through it, since the saved
    # labels it read may be older than they are.
    learnt_while_loading: dict[str, tuple[DigitReading, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the load's thread and the tab's

    def __len__(self) -> int:
        return len(self.memory)

    def load(self, store: FeedbackStore, whose: str, classifier: Classifier) -> None:
        """The first sync, on a thread of its own: what fails there is logged, and the tab
        reads with the memory it has."""
        try:
            self.sync(store, whose, classifier)
        except Exception:
            logger.exception("Loading a visitor's examples failed")

    def sync(self, store: FeedbackStore, whose: str, classifier: Classifier) -> None:
        """Rebuild the memory from the saved labels if they changed since it was built; left as
        it is while the database cannot say."""
        if self.stamp == NO_EXAMPLES and monotonic() - self.checked_at < NO_EXAMPLES_RECHECK_S:
            return  # a visitor with no labels: strokes need not ask the database every time
        self.checked_at = monotonic()
        try:
            if self.stamp is not None and store.examples_stamp(whose) == self.stamp:
                return
            stamp, examples = store.examples(whose, self.memory.capacity)
        except (StorageUnavailable, FeedbackError):
            return
        unread = [example for example in examples if example.drawing_id not in self.readings]
        if unread:
            images = np.stack([example.image for example in unread]) / np.float32(255)
            found = read_inputs(classifier, images)
            self.readings.update(zip([example.drawing_id for example in unread], found))
        self.readings = {
            example.drawing_id: self.readings[example.drawing_id] for example in examples
        }
        memory = HandwritingMemory(self.memory.capacity)
        for example in examples:
            memory.add(self.readings[example.drawing_id], example.true_digit)
        with self.lock:
            read = {example.drawing_id for example in examples}
            for drawing, (reading, digit) in self.learnt_while_loading.items():
                if drawing not in read:
                    memory.add(reading, digit)
            self.learnt_while_loading = {}
            self.deleted |= self.stamp is not None and stamp.deleted_since(self.stamp)
            self.memory, self.stamp = memory, stamp

    def forget(self) -> None:
        """Forget every example in this tab, those learnt while loading too."""
        with self.lock:
            self.memory.forget()
            self.learnt_while_loading = {}

    def learn(self, reading: DigitReading, digit: int, drawing: str | None) -> None:
        """Keep a label at once, and its reading under the drawing's id (None: not saved)."""
        with self.lock:
            self.memory.add(reading, digit)
            self.checked_at = -math.inf  # the labels changed: the next reading asks at once
            if drawing is None:
                return
            self.readings[drawing] = reading
            if self.loading is not None and self.loading.is_alive():
                self.learnt_while_loading[drawing] = (reading, digit)


def _examples() -> Examples:
    return st.session_state.setdefault(MEMORY_KEY, Examples())


def handwriting_memory(classifier: Classifier) -> HandwritingMemory:
    """The person's examples as a reading should weigh them: their saved labels as they stand
    now. The tab's first call starts loading them in the background and reads without them."""
    examples = _examples()
    try:
        store, whose = open_feedback_store(), session_id()
    except StorageUnavailable:
        return examples.memory
    if examples.loading is None:
        examples.loading = threading.Thread(
            target=examples.load, args=(store, whose, classifier), daemon=True
        )
        examples.loading.start()
        return examples.memory
    if examples.loading.is_alive():
        if not examples.waited:  # one reading waits for the load; the next ones go on without
            examples.waited = True
            examples.loading.join(LOAD_WAIT_S)
        return examples.memory  # still loading, or loaded just now
    examples.sync(store, whose, classifier)
    if examples.deleted:  # labels forgotten stay saved, and shown so
        examples.deleted = False
        forget_marks_here()
    return examples.memory


def unmark_if_deleted() -> None:
    """Before a click saves a label: if the visitor's labels were deleted (in another tab)
    since this tab last looked, unmark its drawings saved now, so that none counts as saved
    still and the label about to be saved is not unmarked with them on the next reading."""
    examples = _examples()
    if examples.stamp is None:
        return
    try:
        stamp = open_feedback_store().examples_stamp(session_id())
    except (StorageUnavailable, FeedbackError):
        return
    if stamp.deleted_since(examples.stamp):
        forget_marks_here()
        with examples.lock:
            examples.stamp = None  # rebuilt from the labels as they then stand


def learn(reading: DigitReading, digit: int, strokes: dict | None) -> None:
    """Keep a label just given as an example, at once, and its reading for when the memory is
    rebuilt from the saved labels (the drawing's id is the one it is saved under)."""
    try:
        drawing = drawing_id(session_id(), validate_image(reading.image), validate_strokes(strokes))
    except FeedbackError:
        drawing = None  # not saved either
    _examples().learn(reading, digit, drawing)


def forget_examples_here() -> None:
    """Forget the person's examples in this tab at once: those it learnt itself too, which a
    rebuild from the database would keep while the database's stamp looks unchanged (a
    visitor's first labels, all deleted, leave it as it was before them)."""
    _examples().forget()


def forget_marks_here() -> None:
    """Forget which drawings and numbers this tab saved labels for, what their saves came to
    and what was typed for them: none shows as saved any more."""
    for key in SAVED_MARKS:
        st.session_state.pop(key, None)


def forget_saved_here() -> None:
    """Forget the tab's marks of drawings saved and the examples they made: the labels were
    deleted, so none shows as saved or weighs in on a reading any more."""
    forget_marks_here()
    forget_examples_here()


def forget_examples() -> None:
    """Forget the person's examples in this tab at once, and in the database for good, so that
    every other tab and visit forgets them on its next reading."""
    forget_examples_here()
    try:
        open_feedback_store().forget_examples(session_id())
    except (StorageUnavailable, FeedbackError):
        st.toast(FORGOTTEN_HERE_ONLY, icon=":material/cloud_off:")
    else:
        st.toast(FORGOTTEN, icon=":material/check_circle:")


def backed_by_own_label(reading: DigitReading, label: int | None) -> bool:
    """Whether the one example that backs this reading is its own label: the drawing itself,
    kept as the digit read."""
    return (
        reading.examples == 1
        and label == reading.digit
        and _examples().memory.holds(reading, label)
    )


def examples_named(digits: tuple[int, ...]) -> str:
    """The person's examples, named by their digits: "2 of your examples of a 1"."""
    named = [a_digit(digit) for digit in sorted(set(digits))]
    if len(named) > 1:
        return f"your examples of {and_list(named)}"
    if len(digits) == 1:
        return f"your example of {named[0]}"
    return f"{len(digits)} of your examples of {named[0]}"


def examples_against_said(digits: tuple[int, ...]) -> str:
    """Why the answer is less sure: examples of other digits (theirs, by digit) look like it."""
    return f"Less sure: it looks like {examples_named(digits)}."


def pieces_against_said(against: Sequence[tuple[int, tuple[int, ...]]]) -> str:
    """Which of a number's digits (position, counted from 1) look like which examples."""
    (first, first_digits), *rest = against
    said = [f"the {ordinal(first)} digit looks like {examples_named(first_digits)}"]
    said += [f"the {ordinal(position)} like {examples_named(digits)}" for position, digits in rest]
    return f"Less sure: {and_list(said)}."


def examples_line(said: str, key: str) -> None:
    """What the person's examples did to the answer, and a click to forget them all."""
    st.caption(said)
    st.button(
        FORGET_TEXT,
        key=key,
        type="tertiary",
        on_click=forget_examples,
        help=FORGET_HELP,
    )


def remember(setting: str, widget_key: str) -> None:
    """Keep a widget's new value as the visit's setting, for when the widget is built anew."""
    st.session_state[setting] = st.session_state[widget_key]


def drawing_canvas(width: int, brush: int, key: str) -> CanvasResult:
    """A freedraw canvas that sends its image to the server on every stroke."""
    # Imported here: the component registers itself with the running server on import, which
    # fails outside one, and the rest of this package is used by tests and benchmarks too.
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


def canvas_png(drawing: CanvasResult) -> bytes | None:
    """The canvas's picture as sent, PNG bytes (checked only when decoded); None when nothing
    is drawn, and empty when what came is not a base64 data URL at all."""
    try:
        return drawing.image_bytes
    except ValueError:
        return b""


class LastRead(Generic[Read]):
    """What a mode last read from its input (a canvas's drawing, an upload), kept in the
    session under `key`: a run for the same input (a click under the answer, a toggle, a mode
    or tab switched) reads it no more. The person's examples are weighed in on every run."""

    def __init__(self, key: str) -> None:
        self.key = key

    def get(self, source: Hashable) -> Read | None:
        """What was read from `source`, if it is the input read last; None otherwise."""
        kept = st.session_state.get(self.key)
        return kept[1] if source is not None and kept is not None and kept[0] == source else None

    def keep(self, source: Hashable, read: Read | None) -> None:
        """Keep what was read from `source` (None: nothing to keep) in place of the last."""
        st.session_state[self.key] = None if source is None or read is None else (source, read)

    def forget(self) -> None:
        """Keep nothing: the input is gone (an upload removed)."""
        st.session_state.pop(self.key, None)


def drawing_read_by(classifier: Classifier, png: bytes | None) -> Hashable:
    """Names a canvas's drawing as this model reads it: the model and a digest of the PNG, so
    that the session keeps no copy of it; None when nothing is drawn."""
    return None if not png else (classifier, hashlib.blake2b(png, digest_size=16).digest())


def canvas_picture(png: bytes | None, width: int) -> np.ndarray | None:
    """A canvas's PNG (`canvas_png`) as RGBA pixels; None when nothing is drawn, or when what
    came is not the PNG this canvas sends, which is said under it and never decoded."""
    try:
        return None if png is None else canvas_pixels(png, width)
    except CanvasRefused as refused:
        st.error(f"{refused} {REDRAW}", icon="🚫")
        return None
