"""A person's examples sent along with a reading: a few pictures of their digits, each with the
digit meant, read into a `HandwritingMemory` for that reading only and never stored.

This is how a program reads with someone's examples (the HTTP API's `example_<digit>` form
files, the command line's --example): the examples travel with the request, so no token or
stored state can let one program read with another person's handwriting. Each picture is
opened as an upload is (`photo.read_upload`) and read as one digit, within bounds on how many
come, how large each is and how many pixels it holds, so that the examples cost at most about
as much as reading one large photo.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image

from digit_model import Classifier
from reading import NumberReading, OneDigitReading, photo, read_one_digit, recall_number
from reading.limits import Work
from reading.memory import CAPACITY, HandwritingMemory

MAX_EXAMPLES = CAPACITY  # a memory keeps no more: the oldest would go
MAX_EXAMPLE_BYTES = 256 * 1024  # a digit's picture: a canvas export takes a few kB
MAX_EXAMPLES_BYTES = 4 * 2**20  # all of one request's examples together
MAX_EXAMPLE_PIXELS = 1_000_000  # a 1000x1000 crop: a digit needs far fewer


class ExampleRefused(ValueError):
    """Examples that cannot be used as sent; `too_large` for those over a size limit (HTTP 413,
    else 400). The message says which and why."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def check_sizes(sizes: Sequence[int]) -> None:
    """Refuse examples too many or too large, from their sizes alone, before any is opened."""
    if len(sizes) > MAX_EXAMPLES:
        raise ExampleRefused(
            f"{len(sizes)} examples were sent; at most {MAX_EXAMPLES} are read.", too_large=True
        )
    for number, size in enumerate(sizes, 1):
        if size > MAX_EXAMPLE_BYTES:
            raise ExampleRefused(
                f"Example {number} takes {math.ceil(size / 1024):,} kB, over the "
                f"{MAX_EXAMPLE_BYTES // 1024} kB limit for one example: crop it to the digit.",
                too_large=True,
            )
    if sum(sizes) > MAX_EXAMPLES_BYTES:
        raise ExampleRefused(
            f"The examples take {photo.megabytes(sum(sizes))} together, over the "
            f"{MAX_EXAMPLES_BYTES // 2**20} MB limit: send fewer or smaller ones.",
            too_large=True,
        )


def memory_of(
    classifier: Classifier, examples: Sequence[tuple[bytes, int]], work: Work | None = None
) -> HandwritingMemory:
    """A memory of the examples, (picture bytes, digit meant) each, kept in the order given;
    ExampleRefused, naming the example, for one that is no picture or holds no handwriting.
    Any other is taken as the digit the person says it is, as the page takes a label for a
    drawing it called no digit (their crossed 7, their barred 0). Reading them is counted in
    `work`, with the request's own reading."""
    check_sizes([len(data) for data, _ in examples])
    memory = HandwritingMemory()
    for number, (data, digit) in enumerate(examples, 1):
        if not 0 <= digit <= 9:
            raise ExampleRefused(f"Example {number} is labelled {digit}: a digit is 0 to 9.")
        try:
            _check_pixels(data)
            reading = read_one_digit(classifier, photo.read_upload(data, work).ink, work=work)
        except photo.PhotoBusy:
            raise
        except photo.TooManyPixels as error:
            raise ExampleRefused(f"Example {number}: {error}", too_large=True) from error
        except photo.PhotoError as error:
            raise ExampleRefused(f"Example {number}: {error}") from error
        if reading is None:
            raise ExampleRefused(f"Example {number} (a {digit}) holds no handwriting.")
        memory.add(reading, digit)
    return memory


def recalled(
    reading: OneDigitReading | NumberReading, memory: HandwritingMemory
) -> OneDigitReading | NumberReading:
    """A reading with the examples weighed in, on its one digit or each digit of its number."""
    if isinstance(reading, NumberReading):
        return recall_number(reading, memory)
    return memory.recall(reading)


def _check_pixels(data: bytes) -> None:
    """Refuse a picture of more than MAX_EXAMPLE_PIXELS from its header, before decoding."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError as error:
        raise photo.TooManyPixels(
            f"the picture holds far more than the {MAX_EXAMPLE_PIXELS:,} pixels read for one "
            "example: crop it to the digit."
        ) from error
    except (OSError, ValueError):
        return  # not a picture that opens: photo.read_upload says why
    if width * height > MAX_EXAMPLE_PIXELS:
        raise photo.TooManyPixels(
            f"the picture is {width}x{height} pixels, more than the {MAX_EXAMPLE_PIXELS:,} "
            "read for one example: crop it to the digit."
        )
