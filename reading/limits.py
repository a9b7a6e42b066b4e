"""How much writing one picture may hold, and what reading it is counted to cost.

A number is read by cutting its ink into parts and reading every run of neighbouring parts
that may be one digit (`candidates`): the work grows with the pieces of ink and with how
much of them touch. It is bounded per reading, whoever asks (the page, the API, the command
line): past MAX_GROUPS pieces of writing, MAX_CANDIDATES candidate digits or MAX_DIGITS
digits chosen, the reading is refused with TooMuchWriting, whose message says what to send,
before the costly part; never answered with part of the number.

`Work` counts what one reading costs as it goes, before each costly step: candidate crops
(each a 28x28 input brought into MNIST form and read by the model) and a photo's ink found
(PHOTO_COST crops' worth), so that a caller (the API's admission, `server.heavy_work`) can
refuse work it has no room for before it is done.
"""

from __future__ import annotations

from collections.abc import Callable

from reading.photo import PhotoError

# The page's number canvas (700 px) holds about 30 digits written small; a photo of a line
# of digits (an account number, an IBAN of up to 34 characters) a few more.
MAX_DIGITS = 40  # digits read in one picture at most...
MAX_GROUPS = 60  # ...and groups of ink found in it: digits, marks and stray strokes
# Numbers of 30 digits, a quarter of them touching, take 500 to 800 candidates on the number
# canvas; 40 digits that touch may take more, and are refused.
MAX_CANDIDATES = 1024
PHOTO_COST = 256  # finding a photo's ink, in candidate crops' worth of work (about 250 ms)


class TooMuchWriting(PhotoError):
    """Ink holding more writing than one reading may take on; the message says what to send."""


def too_many_groups() -> TooMuchWriting:
    """The refusal of ink with more groups of writing than MAX_GROUPS."""
    return TooMuchWriting(
        f"There are more than {MAX_GROUPS} separate pieces of writing; a number is read up "
        f"to {MAX_DIGITS} digits. Write or send one number (or one digit) at a time, "
        "cropped close to it."
    )


def too_many_digits(found: int) -> TooMuchWriting:
    """The refusal of ink split into more digits than MAX_DIGITS."""
    return TooMuchWriting(
        f"The writing splits into {found} digits; a number is read up to {MAX_DIGITS} digits. "
        "Send a shorter number per picture, cropped close to it."
    )


def too_many_candidates() -> TooMuchWriting:
    """The refusal of ink whose parts make more candidate digits than MAX_CANDIDATES."""
    return TooMuchWriting(
        "The writing has too many strokes that touch to be read: it would take more than "
        f"{MAX_CANDIDATES} tries at where its digits begin and end. Write the digits apart, "
        "or send fewer of them per picture."
    )


class Work:
    """What one reading has cost so far, counted before each costly step is taken.

    `admit`, when given, is told the cost the reading will have reached once the step is
    done, before it is: it may refuse the step by raising (the API's "busy").
    """

    def __init__(self, admit: Callable[[int], None] | None = None) -> None:
        self.cost = 0  # candidate crops' worth of work, a photo's ink included
        self.crops = 0  # candidate crops made
        self._admit = admit

    def _charge(self, cost: int) -> None:
        if self._admit is not None:
            self._admit(self.cost + cost)
        self.cost += cost

    def photo_ink(self) -> None:
        """Count finding a photo's ink, about to be done."""
        self._charge(PHOTO_COST)

    def candidates(self, count: int) -> None:
        """Count `count` candidate crops about to be made; TooMuchWriting past MAX_CANDIDATES."""
        if self.crops + count > MAX_CANDIDATES:
            raise too_many_candidates()
        self._charge(count)
        self.crops += count
