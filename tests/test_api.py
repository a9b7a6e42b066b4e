"""The HTTP API over real HTTP, served by the same `streamlit run webapp.py` as the page:
every answer's shape, every refusal, oversized and hostile bodies, and requests at the same
time as a person drawing in Chromium."""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

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
from tests.support.http import served
from tests.support.pictures import (
    CELL,
    drawn_digit,
    png_claiming_size,
    sideways_with_broken_exif,
    truncated_png,
    two_lines,
    written,
    written_number,
)
from training.canvas_drawings import draw

pytestmark = [pytest.mark.postgres]

NUMBER = "2026"
FIRST_ANSWER_S = 120  # the first request may wait for the server to load the model
JUNK_BYTES = 30 * 2**20
BOUNDARY = "digit-reader-test-boundary"
API_GUIDE = REPO_ROOT / "docs" / "api.md"  # where a script author reads what each answer holds
DIGIT_FIELDS = {"digit", "confidence", "probabilities", "is_digit", "doubtful", "too_small"}


def post(
    url: str, data: bytes, content_type: str | None = "image/png", query: str = ""
) -> tuple[int, dict]:
    """POST to /api/predict: the status and the JSON answer."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(f"{url}/api/predict{query}", data, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=FIRST_ANSWER_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def form(
    data: bytes, field: str = "image", part_type: str = "image/png", **fields: str
) -> tuple[bytes, str]:
    """A multipart/form-data body with one file and these text fields, and its Content-Type."""
    head = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="digit.png"\r\n'
        f"Content-Type: {part_type}\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def two_files(data: bytes) -> bytes:
    """A multipart/form-data body with the same picture in two file fields."""
    first, _ = form(data)
    second, _ = form(data, field="other")
    return first.removesuffix(f"--{BOUNDARY}--\r\n".encode()) + second


def raw_post(url: str, headers: dict[str, str], chunks: Iterable[bytes]) -> tuple[int, dict, int]:
    """POST over a bare socket, reading the answer while the body is still being sent.

    Returns the status, the JSON answer and how many body bytes went out before it came.
    """
    address = urlsplit(url)
    connection = socket.create_connection((address.hostname, address.port), timeout=60)
    lines = ["POST /api/predict HTTP/1.1", f"Host: {address.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer: dict = {}

    def read() -> None:
        response = http.client.HTTPResponse(connection)
        response.begin()
        answer["status"], answer["body"] = response.status, json.loads(response.read())

    reader = threading.Thread(target=read)
    reader.start()
    sent = 0
    try:
        for chunk in chunks:
            if not reader.is_alive():
                break
            connection.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed the connection before the body was all sent
    reader.join(timeout=60)
    connection.close()
    return answer["status"], answer["body"], sent


def junk(total: int, chunk: int = 2**20) -> Iterable[bytes]:
    noise = np.random.default_rng(0).integers(0, 256, chunk, dtype=np.uint8).tobytes()
    for _ in range(total // chunk):
        yield noise


def chunked(pieces: Iterable[bytes]) -> Iterable[bytes]:
    """Chunked transfer encoding: a body with no Content-Length."""
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def still_serving(url: str) -> None:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{url}/api/model", timeout=10) as response:
        assert response.status == 200


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


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        (lambda d: (b"Dear diary, 2026." * 40, "image/png", ""), 400, "not a PNG, JPEG or WebP"),
        (lambda d: (truncated_png(), "image/png", ""), 400, "damaged or incomplete"),
        (lambda d: (b"", "image/png", ""), 400, "empty"),
        (lambda d: (d, "image/png", "?mode=letters"), 400, "mode must be digit or number"),
        (
            lambda d: (d, "image/png", "?Mode=number"),
            400,
            "Unknown parameter 'Mode': the only parameter is mode (mode=digit or mode=number).",
        ),
        (lambda d: (*form(d, field="picture"), ""), 400, 'no file field named "image"'),
        (lambda d: (*form(d, field="picture", image="x"), ""), 400, 'no file field named "image"'),
        (lambda d: (*form(d, mode="letters"), ""), 400, "mode must be digit or number"),
        (
            lambda d: (*form(d, Mode="number"), ""),
            400,
            "Unknown form field 'Mode': a form has the file \"image\" and may have the field "
            "mode (mode=digit or mode=number).",
        ),
        (lambda d: (*form(d, mode="number"), "?mode=digit"), 400, "mode digit and the form"),
        (lambda d: (d, "text/plain", ""), 415, "Content-Type text/plain is not supported"),
        (lambda d: (d, None, ""), 415, "application/x-www-form-urlencoded is not supported"),
        (
            lambda d: (*form(d, part_type="image/gif"), ""),
            415,
            f"The file is sent as image/gif. {api.CONVERT}",
        ),
        (
            lambda d: (*form(d, part_type="application/pdf"), ""),
            415,
            f"The file is sent as application/pdf. {api.CONVERT}",
        ),
        (lambda d: (d, "image/heic", ""), 415, f"image/heic is not supported. {api.CONVERT}"),
        (
            lambda d: (two_files(d), f"multipart/form-data; boundary={BOUNDARY}", ""),
            400,
            "Unknown file field 'other': a form has the picture to read in \"image\"",
        ),
        (lambda d: (png_claiming_size(10_000, 6_000), "image/png", ""), 413, "too many pixels"),
        (
            lambda d: (png(np.full((280, 280, 4), 255, np.uint8)), "image/png", ""),
            422,
            "No handwriting",
        ),
    ],
    ids=[
        "junk",
        "truncated",
        "empty",
        "unknown mode",
        "unknown parameter",
        "form without the image field",
        "image sent as text, not as a file (curl -F image=<file)",
        "unknown mode in a form",
        "unknown form field",
        "query and form disagree",
        "text",
        "no type: what urllib and curl -d send",
        "gif in a form",
        "pdf in a form",
        "heic",
        "two files in a form",
        "60-megapixel header",
        "blank picture",
    ],
)
def test_bad_requests_get_a_json_error_saying_what_to_send(
    app_url, clear_digits, make, status, message
):
    data, content_type, query = make(png(drawn_digit(clear_digits[1], "black on transparent")))
    answer_status, answer = post(app_url, data, content_type, query)
    assert answer_status == status
    assert set(answer) == {"error"} and message in answer["error"]


def test_a_body_without_a_content_type_is_told_what_to_send(app_url, clear_digits):
    data = png(drawn_digit(clear_digits[1], "black on transparent"))
    status, answer, _ = raw_post(app_url, {"Content-Length": str(len(data))}, [data])
    assert status == 415
    assert answer["error"] == f"The request has no Content-Type. {api.WHAT_TO_SEND}"


def test_an_oversized_body_is_refused_from_its_length_before_it_is_sent(app_url):
    """A client that asks to go ahead first (curl does, for large bodies) sends nothing."""
    headers = {
        "Content-Type": "image/png",
        "Content-Length": str(JUNK_BYTES),
        "Expect": "100-continue",
    }
    status, answer, sent = raw_post(app_url, headers, [])
    assert status == 413 and "over the 25 MB limit" in answer["error"] and sent == 0
    still_serving(app_url)


def test_urllib_sending_an_oversized_body_whole_reads_the_413(app_url):
    """urllib sends the whole body before it reads the answer: it gets the 413, not a reset."""
    status, answer = post(app_url, bytes(JUNK_BYTES))
    assert status == 413 and "over the 25 MB limit" in answer["error"]
    still_serving(app_url)


def test_an_oversized_body_without_a_length_is_refused_while_streaming(app_url):
    headers = {"Content-Type": "image/png", "Transfer-Encoding": "chunked"}
    status, answer, _ = raw_post(app_url, headers, chunked(junk(JUNK_BYTES)))
    assert status == 413 and "over the 25 MB limit" in answer["error"]
    still_serving(app_url)


def test_a_form_whose_file_is_over_the_limit_is_refused(app_url):
    body, content_type = form(bytes(api.MAX_BODY_BYTES + 1000))
    status, answer = post(app_url, body, content_type)
    assert status == 413 and "over the 25 MB limit" in answer["error"]
    still_serving(app_url)


def slow_client(url: str, data: bytes) -> socket.socket:
    """A connection that sends a request's headers and 10 bytes of its body, then stalls."""
    address = urlsplit(url)
    client = socket.create_connection((address.hostname, address.port), timeout=60)
    client.sendall(
        f"POST /api/predict HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: image/png\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data[:10]
    )
    return client


def answer_before_close(client: socket.socket) -> bytes:
    """Everything the server sends on a connection until it closes it."""
    received = b""
    while chunk := client.recv(4096):
        received += chunk
    return received


def test_slow_clients_hold_no_reading_slot_and_are_cut_off_after_the_body_timeout(
    app_url, clear_digits, client_timeout_s
):
    """As many stalled uploads as there are reading slots: others are read meanwhile, and
    each stalled one is answered 408 and closed once its body is overdue."""
    data = png(drawn_digit(clear_digits[6], "black on transparent"))
    started = time.monotonic()
    holders = [slow_client(app_url, data) for _ in range(api.MAX_IN_FLIGHT)]
    try:
        status, answer = post(app_url, data)
        assert (status, answer["digit"]) == (200, 6)
        for holder in holders:
            assert answer_before_close(holder).startswith(b"HTTP/1.1 408 ")
        # Generous slack for a busy machine; without the timeout nothing closes them at all.
        assert time.monotonic() - started < client_timeout_s + 30
    finally:
        for holder in holders:
            holder.close()
    still_serving(app_url)


def test_bodies_beyond_the_memory_set_aside_are_told_the_server_is_busy():
    """Bytes held for bodies count across requests; one more body than fits gets 503."""
    first = api._Body()
    first.take(api.MAX_HELD_BYTES - 10)
    with pytest.raises(api.RequestRefused) as refused:
        api._Body().take(11)
    assert refused.value.status == 503 and "Try again in a moment" in refused.value.message
    first.release()
    whole = api._Body()
    whole.take(api.MAX_HELD_BYTES)
    whole.release()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/predict", "POST"),
        ("PUT", "/api/predict", "POST"),
        ("POST", "/api/model", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_a_json_405_not_the_page(app_url, method, path, allowed):
    request = urllib.request.Request(
        f"{app_url}{path}", data=b"" if method != "GET" else None, method=method
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 405 and refused.value.headers["Allow"] == allowed
    assert refused.value.headers["Content-Type"] == "application/json"
    assert f"{path} answers" in json.loads(refused.value.read())["error"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/foo"), ("POST", "/api/predicts"), ("GET", "/api")]
)
def test_a_path_under_api_that_is_no_endpoint_is_a_json_404_not_the_page(app_url, method, path):
    request = urllib.request.Request(
        f"{app_url}{path}", data=b"" if method != "GET" else None, method=method
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 404
    assert refused.value.headers["Content-Type"] == "application/json"
    error = json.loads(refused.value.read())["error"]
    assert error.startswith(f"{path} is no endpoint") and "/api/predict, /api/model" in error


def test_an_error_repeats_at_most_a_few_words_of_what_was_sent(app_url, clear_digits):
    data = png(drawn_digit(clear_digits[1], "black on transparent"))
    status, answer = post(app_url, data, query="?mode=" + "x" * 70_000)
    assert status == 400 and "mode must be digit or number" in answer["error"]
    assert len(answer["error"]) < 200


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
    context = browser.new_context(viewport={"width": 1000, "height": 1000})
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
