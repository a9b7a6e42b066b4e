"""Page-test fixtures: digits drawn the way people draw, and the page served to Chromium
with its labels going to the test PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

# TensorFlow turns oneDNN's kernels on by itself only on CPUs with AVX-512 and the like; on
# others the tests' training and reading take 2.5 times as long. Set before TensorFlow loads,
# and inherited by the app servers, so that they read a drawing exactly as the tests do.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np
import pytest

import digit_model
from devtools.drawing import PLACEMENTS, Digit, find_clear_digits, find_misread_style
from devtools.page import CHROMIUM, CHROMIUM_ARGS, served_page
from preprocess import canvas_to_ink
from reading import read_digits, read_inputs, read_number, segment
from server import api, deadlines
from tests.support import data
from tests.support.data import cvl_valid, mnist, pen_unseen_sites
from tests.support.pictures import written_strokes
from training import not_digits, unipen

pytest_plugins = ["tests.support.postgres_server"]

# A doubtful letter stays doubtful drawn at each of these changes to its first placement:
# px taller, lower, further right, and the brush's px.
HESITANT_NEARBY = ((-6, 6), (-3, 3), (-3, 3), (14, 22))


@pytest.fixture(autouse=True)
def numbers_read_afresh() -> None:
    """Each test reads numbers as a new process does, with nothing kept from earlier tests
    (`reading.segment` keeps what recent ink gave): no test depends on which ran before."""
    segment.forget_recent()


@pytest.fixture(scope="module")
def few_drawings_per_style() -> Iterator[None]:
    """The figures a model is recorded with report each synthesized style on 20 redrawn test
    digits, and the coarse scans at one grid: quick to draw and read."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("training.figures.STYLE_TEST_SAMPLES", 20)
        patch.setattr("training.figures.SCAN_SIDES", (16,))
        yield


@pytest.fixture(scope="session")
def small_mnist(tmp_path_factory) -> Path:
    """MNIST with a fifth of its test digits (`data.small_mnist`), for training's commands."""
    return data.small_mnist(tmp_path_factory.mktemp("mnist"))


@pytest.fixture(scope="session")
def classifier() -> digit_model.Classifier:
    """The committed model, loaded once."""
    return digit_model.load()


@pytest.fixture(scope="session")
def clear_digits(classifier) -> dict[int, Digit]:
    """Digits whose answer is not in doubt: the page tests check that a drawing reaches the
    model and the answer reaches the screen, not the model's accuracy."""
    return find_clear_digits(classifier, *mnist("test"))


@pytest.fixture(scope="session")
def misread_style(classifier) -> tuple[Digit, tuple, tuple]:
    """A CVL writer's digit the model misreads at two placements, which one correction teaches."""
    valid = cvl_valid()
    images, digits = valid.images, valid.digits
    wrong = classifier.predict_proba(images / np.float32(255)).argmax(axis=1) != digits
    try:
        return find_misread_style(classifier, images[wrong], digits[wrong])
    except LookupError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def not_a_digit(classifier) -> Digit:
    """A crossed-out circle the model flags as no digit at every test placement."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        segments = [tuple(map(float, s)) for s in not_digits.crossed_circle(rng)]
        drawing = Digit(-1, segments)
        inks = [canvas_to_ink(drawing.image(*placement)) for placement in PLACEMENTS]
        readings = read_digits(classifier, inks)
        if not any(reading.is_digit or reading.doubtful for reading in readings):
            return drawing
    pytest.fail("the model took every crossed-out circle tried for a digit")


class Remembered:
    """An iterator's items, kept as they come: each pass gives them again from the first,
    and only a pass beyond them draws more from the iterator."""

    def __init__(self, items: Iterator):
        self._items = items
        self._seen: list = []

    def __iter__(self) -> Iterator:
        for index in itertools.count():
            if index == len(self._seen):
                try:
                    self._seen.append(next(self._items))
                except StopIteration:
                    return
            yield self._seen[index]


@pytest.fixture(scope="session")
def doubtful_letters(classifier) -> Remembered:
    """Handwritten letters the model hesitates over, found once for the session: the two
    fixtures below look through the same ones, and the search takes seconds. The data is
    loaded here, so that where it is missing every test that needs it is skipped."""
    return Remembered(_doubtful_letters(classifier, pen_unseen_sites()))


def _doubtful_letters(classifier, pen: unipen.PenCharacters) -> Iterator[Digit]:
    """Handwritten letters the model hesitates over, drawn alone at the first placement: no
    digit by its verdict, but not firmly. Few letters are doubtful: they are read in batches."""
    height, top, left = PLACEMENTS[0]
    letters = np.flatnonzero(pen.is_other)
    for start in range(0, len(letters), 500):
        drawings = [
            Digit(-1, [tuple(map(float, s)) for s in pen.segments[index]])
            for index in letters[start : start + 500]
        ]
        inks = [canvas_to_ink(drawing.image(height, top, left)) for drawing in drawings]
        for drawing, reading in zip(drawings, read_digits(classifier, inks)):
            if reading is not None and reading.doubtful and not reading.too_small:
                yield drawing


def hesitant_letters(classifier, doubtful_letters: Remembered) -> Iterator[Digit]:
    """Doubtful letters that stay doubtful drawn a little larger or smaller, a few pixels off
    and with a thinner or thicker brush. The band of doubt is narrow, and a browser's strokes
    land a pixel or two from these: a letter on its edge would be doubtful here and firmly no
    digit there."""
    height, top, left = PLACEMENTS[0]
    for drawing in doubtful_letters:
        nearby = [
            drawing.image(height + grown, top + down, left + right, brush)
            for grown, down, right, brush in itertools.product(*HESITANT_NEARBY)
        ]
        nearby_inks = [canvas_to_ink(image) for image in nearby]
        if all(r.doubtful for r in read_digits(classifier, nearby_inks)):
            yield drawing


@pytest.fixture(scope="session")
def doubtful_drawing(classifier, doubtful_letters) -> Digit:
    """A handwritten letter the model hesitates over: no digit by its verdict, but not firmly."""
    for drawing in hesitant_letters(classifier, doubtful_letters):
        return drawing
    pytest.fail("the model was firm about every letter tried")


@pytest.fixture(scope="session")
def doubtful_number(classifier, clear_digits, doubtful_letters) -> np.ndarray:
    """A clear 2 and a letter the model hesitates over, written as a number on the wide canvas:
    it splits into two pieces, and read as one digit each, the 2 is clear and the letter
    doubtful. Read by the page's script alone, never drawn by a browser: the letter needs to be
    doubtful where it is drawn only."""
    for letter in doubtful_letters:
        rgba = written_strokes([clear_digits[2].segments, letter.segments])
        pieces = read_number(classifier, canvas_to_ink(rgba)).digits
        alone = read_inputs(classifier, np.stack([piece.image for piece in pieces]))
        if (
            len(alone) == 2
            and (alone[0].is_digit, alone[0].digit) == (True, 2)
            and alone[1].doubtful
            and not pieces[1].too_small
        ):
            return rgba
    pytest.fail("no letter the model hesitates over stayed doubtful beside a 2")


@pytest.fixture(scope="session")
def feedback_database_url(postgres_server) -> str:
    """A database of its own on the test PostgreSQL server, for the served page's labels."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def client_timeout_s() -> float:
    """How long the served app waits for a request's headers, and the API for its body:
    short, so that tests of slow clients take seconds; still far longer than any test's
    request takes on loopback."""
    return 4.0


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, feedback_database_url, client_timeout_s) -> Iterator[str]:
    """The page served by Streamlit on a free loopback port, for the whole test session."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    settings = {
        deadlines.HEADERS_TIMEOUT_VARIABLE: str(client_timeout_s),
        api.BODY_TIMEOUT_VARIABLE: str(client_timeout_s),
    }
    with served_page(log, feedback_database_url, settings) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright; a missing Chromium fails the run under CI."""
    if not CHROMIUM.is_file():
        problem = (
            f"Browser tests need Chromium at {CHROMIUM}: "
            "apt-get install chromium, or set CHROMIUM_PATH"
        )
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
