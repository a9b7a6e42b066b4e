"""The HTTP API over real HTTP, served by the same `streamlit run webapp.py` as the page:
every answer's shape, the model it names, and requests at the same time as a person drawing
in Chromium. Refusals of bad, oversized and hostile requests: tests/test_api_refusals.py."""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from starlette.applications import Starlette

import digit_model
import tabs.draw.shared
from devtools import REPO_ROOT
from devtools.drawing import PLACEMENTS
from devtools.page import drawing_surface, wait_until_drawable
from devtools.pictures import encoded, png
from server import api, served_model
from tests.support import event_loop
from tests.support.api import FIRST_ANSWER_S, form, post
from tests.support.browser import DESKTOP
from tests.support.http import served
from tests.support.pictures import (
    CELL,
    drawn_digit,
    sideways_with_broken_exif,
    two_lines,
    written,
    written_number,
)
from training.canvas_drawings import draw

pytestmark = [pytest.mark.postgres]

NUMBER = "2026"
API_GUIDE = REPO_ROOT / "docs" / "api.md"  # where a script author reads what each answer holds
DIGIT_FIELDS = {"digit", "confidence", "probabilities", "is_digit", "doubtful", "too_small"}


def test_a_digit_answer_has_its_shape(app_url, clear_digits):
    status, answer = post(app_url, png(drawn_digit(clear_digits[7], "black on transparent")))
    assert status == 200
    assert set(answer) == DIGIT_FIELDS | {"several_digits"}
    assert answer["digit"] == 7 and answer["is_digit"] is True and answer["too_small"] is False
    assert answer["doubtful"] is False and answer["several_digits"] is None
    assert len(answer["probabilities"]) == 10
    assert sum(answer["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert answer["confidence"] == max(answer["probabilities"]) == answer["probabilities"][7]


@pytest.mark.parametrize("setup", ["black on white", "white on black", "black on transparent"])
def test_the_ten_digits_are_read_in_three_colour_set_ups(app_url, clear_digits, setup):
    for label, digit in clear_digits.items():
        if setup == "black on white":  # what the page's canvas sends
            rgba = digit.image(*PLACEMENTS[0])
        else:
            rgba = draw(digit.segments, *PLACEMENTS[0], 18, setup)
        status, answer = post(app_url, png(rgba))
        assert (status, answer["digit"]) == (200, label)


def test_digits_scanned_in_the_cells_of_a_form_are_read(app_url, clear_digits):
    for label, digit in clear_digits.items():
        scan = draw(digit.segments, 150, 65, 65, 14, "navy on cream")
        border = np.zeros(scan.shape[:2], bool)
        border[20:260, 20:260] = True
        border[24:256, 24:256] = False
        scan[border] = (40, 40, 40, 255)  # the cell's printed border, 4 px
        status, answer = post(app_url, png(scan))
        assert (status, answer["digit"], answer["is_digit"]) == (200, label, True)


def test_a_number_sent_as_one_digit_is_pointed_out(app_url, clear_digits):
    """A script that sends 37 without mode=number learns that it holds two digits."""
    picture = png(written(clear_digits, "37"))
    status, answer = post(app_url, picture)
    assert (status, answer["several_digits"]) == (200, "37")
    status, answer = post(app_url, picture, query="?mode=number")
    assert (status, answer["number"]) == (200, "37")


def test_a_drawn_number_is_read_with_each_digit_and_its_box(app_url, clear_digits):
    rgba = written_number(clear_digits, NUMBER, "black on transparent")
    status, answer = post(app_url, png(rgba), query="?mode=number")
    assert status == 200
    assert set(answer) == {"number", "confidence", "digits", "marks"}
    assert answer["number"] == NUMBER and answer["marks"] == []
    assert answer["confidence"] == pytest.approx(
        np.prod([d["confidence"] for d in answer["digits"]])
    )
    for cell, digit in enumerate(answer["digits"]):
        assert set(digit) == DIGIT_FIELDS | {"box"}
        assert digit["digit"] == int(NUMBER[cell])
        left, top, right, bottom = digit["box"]
        assert cell * CELL <= left < right <= (cell + 1) * CELL and 0 <= top < bottom <= 280


def test_two_lines_of_writing_get_no_number_but_a_reason(app_url, clear_digits):
    """12 above 34 would read as 53, each digit joined with the one under it."""
    picture = png(two_lines(clear_digits, "12", "34"))
    status, answer = post(app_url, picture, query="?mode=number")
    assert (status, answer) == (422, {"error": api.several_lines(2)})
    assert "Send each line as an image of its own, upright." in answer["error"]
    status, answer = post(app_url, picture)  # as one digit: no number of two lines offered
    assert (status, answer["several_digits"]) == (200, None)


def test_a_point_in_a_number_is_read_where_it_is_written(app_url, clear_digits):
    status, answer = post(app_url, png(written(clear_digits, "3.75")), query="?mode=number")
    assert (status, answer["number"]) == (200, "3.75")
    (point,) = answer["marks"]
    three, seven = (digit["box"] for digit in answer["digits"][:2])
    assert (point["mark"], point["after"]) == (".", 1)
    assert three[2] < point["box"][0] < point["box"][2] < seven[0]


def test_a_minus_sign_is_read_before_the_number(app_url, clear_digits):
    status, answer = post(app_url, png(written(clear_digits, "-42")), query="?mode=number")
    assert (status, answer["number"]) == (200, "-42")
    (minus,) = answer["marks"]
    left, top, _, bottom = answer["digits"][0]["box"]
    assert (minus["mark"], minus["after"]) == ("-", 0)
    assert minus["box"][2] < left  # before the 4, half way up it
    assert abs((minus["box"][1] + minus["box"][3]) / 2 - (top + bottom) / 2) < 0.2 * (bottom - top)


def test_a_picture_whose_exif_has_a_tag_of_the_wrong_type_is_read_upright(app_url, clear_digits):
    digit = Image.fromarray(drawn_digit(clear_digits[7], "white on black"))
    status, answer = post(app_url, sideways_with_broken_exif(digit, "PNG"))
    assert (status, answer["digit"]) == (200, 7)


@pytest.mark.parametrize(
    ("content_type", "format"), [("image/x-png", "PNG"), ("image/pjpeg", "JPEG")]
)
def test_a_picture_sent_under_an_older_name_of_its_type_is_read(
    app_url, clear_digits, content_type, format
):
    digit = Image.fromarray(drawn_digit(clear_digits[4], "white on black")).convert("RGB")
    data = encoded(digit, format)
    assert post(app_url, data, content_type) == post(app_url, data, f"image/{format.lower()}")
    status, answer = post(app_url, *form(data, part_type=content_type))
    assert (status, answer["digit"]) == (200, 4)


def test_a_multipart_form_is_read_like_the_bare_image(app_url, clear_digits):
    data = png(drawn_digit(clear_digits[4], "white on black"))
    body, content_type = form(data)
    assert post(app_url, body, content_type) == post(app_url, data)
    body, content_type = form(data, part_type="application/octet-stream")
    status, answer = post(app_url, body, content_type)
    assert (status, answer["digit"]) == (200, 4)


def test_a_form_may_choose_the_mode_in_a_field_as_curl_F_sends_it(app_url, clear_digits):
    data = png(written_number(clear_digits, NUMBER, "black on transparent"))
    status, answer = post(app_url, *form(data, mode="number"))
    assert (status, answer["number"]) == (200, NUMBER)
    assert post(app_url, *form(data, mode="number"), query="?mode=number") == (status, answer)


def test_the_model_endpoint_says_which_model_answers(app_url):
    with urllib.request.urlopen(f"{app_url}/api/model", timeout=30) as response:
        info = json.loads(response.read())
    model_file = digit_model.DEFAULT_PATH
    metrics = digit_model.load_metrics(model_file)
    assert info["file"] == model_file.name
    assert info["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert info["size_bytes"] == model_file.stat().st_size
    assert info["trained_at"] == metrics.trained_at
    assert info["test_accuracy"] == metrics.test_accuracy
    assert info["canvas_accuracy"] == metrics.canvas.accuracy
    assert info["pen_accuracy"] == metrics.pen.accuracy
    assert info["pen_letters_flagged"] == metrics.pen.letters_flagged
    assert info["calibration_error"] == metrics.pen.calibration.ece
    (row,) = (line for line in API_GUIDE.read_text().splitlines() if "| `GET /api/model` |" in line)
    assert [name for name in info if f"`{name}`" not in row] == []  # each field is explained


def test_the_model_endpoint_reads_the_metrics_again_once_they_are_rewritten(tmp_path, monkeypatch):
    model_file = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_file)
    metrics_file = digit_model.metrics_path(model_file)
    shutil.copy(digit_model.metrics_path(digit_model.DEFAULT_PATH), metrics_file)
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_file))

    def described() -> dict:
        return json.loads(event_loop.run(api.model_info(None)).body)

    assert described()["test_accuracy"] == digit_model.load_metrics().test_accuracy
    retrained = json.loads(metrics_file.read_text()) | {"test_accuracy": 0.5}
    metrics_file.write_text(json.dumps(retrained))
    assert described()["test_accuracy"] == 0.5
    metrics_file.write_text("{ cut short")
    answer = described()
    assert answer["test_accuracy"] is None and answer["file"] == "model.keras"
    metrics_file.write_text(json.dumps(retrained | {"test_accuracy": 0.25}))
    assert described()["test_accuracy"] == 0.25


def test_the_model_endpoint_describes_the_model_loaded_not_one_written_over_it(
    tmp_path, monkeypatch
):
    """A running server keeps the model it loaded: figures rewritten for that file show (as
    `evaluate --record` writes them), but a retrain that writes over the file and its figures
    does not change which model answers, so /api/model still describes that one."""
    model_file = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_file)
    metrics_file = digit_model.metrics_path(model_file)
    shutil.copy(digit_model.metrics_path(digit_model.DEFAULT_PATH), metrics_file)
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_file))
    loaded = hashlib.sha256(model_file.read_bytes()).hexdigest()
    figures = json.loads(metrics_file.read_text())

    def described(url: str) -> dict:
        with urllib.request.urlopen(f"{url}/api/model", timeout=FIRST_ANSWER_S) as response:
            return json.loads(response.read())

    with served(Starlette(routes=api.ROUTES)) as url:
        served_model.shared_classifier()  # the server has loaded the model and answers with it
        assert described(url)["test_accuracy"] == figures["test_accuracy"]
        metrics_file.write_text(json.dumps(figures | {"test_accuracy": 0.77}))
        recorded = described(url)
        model_file.write_bytes(model_file.read_bytes() + b"retrained")
        metrics_file.write_text(json.dumps(figures | {"test_accuracy": 0.5}))
        after = described(url)
    assert recorded["test_accuracy"] == 0.77
    assert hashlib.sha256(model_file.read_bytes()).hexdigest() != loaded
    assert after == recorded
    assert after["sha256"] == loaded
    assert after["size_bytes"] == digit_model.DEFAULT_PATH.stat().st_size


@pytest.mark.browser
def test_requests_at_the_same_time_as_a_person_drawing_all_read_right(
    app_url, browser, clear_digits
):
    """Six programs post digits while a person draws on the page: every answer is right."""
    pictures = [
        (label, png(drawn_digit(digit, "red on white"))) for label, digit in clear_digits.items()
    ]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(app_url)
    wait_until_drawable(page, timeout_ms=FIRST_ANSWER_S * 1000)
    shown = (
        page.get_by_test_id("stMetric")
        .filter(has_text="Prediction")
        .get_by_test_id("stMetricValue")
    )
    with ThreadPoolExecutor(max_workers=6) as programs:
        answers = [programs.submit(post, app_url, data) for _, data in pictures * 6]
        for label in (3, 8, 5):
            page.get_by_role("button", name=tabs.draw.shared.CLEAR_TEXT, exact=True).click()
            page.wait_for_timeout(300)
            clear_digits[label].trace(page, drawing_surface(page), *PLACEMENTS[0])
            expect(shown).to_have_text(str(label), timeout=30_000)
        results = [answer.result() for answer in answers]
    context.close()
    assert [(status, body["digit"]) for status, body in results] == [
        (200, label) for label, _ in pictures * 6
    ]


def test_a_missing_model_is_503_without_retry_every_second_once_the_picture_is_checked(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(tmp_path / "model.keras"))
    with served(Starlette(routes=api.ROUTES)) as url:
        request = urllib.request.Request(
            f"{url}/api/predict", png(np.zeros((280, 280), np.uint8)), {"Content-Type": "image/png"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=FIRST_ANSWER_S)
        with pytest.raises(urllib.error.HTTPError) as described:
            urllib.request.urlopen(f"{url}/api/model", timeout=FIRST_ANSWER_S)
        # A body that is no picture is the sender's to mend, whether the model is there or not.
        status, answer = post(url, b"Dear diary, 2026." * 40)
        assert status == 400 and "not a PNG, JPEG or WebP" in answer["error"]
    for answer in (refused.value, described.value):
        assert answer.code == 503 and "Retry-After" not in answer.headers
        assert json.loads(answer.read())["error"] == api.MODEL_UNAVAILABLE
