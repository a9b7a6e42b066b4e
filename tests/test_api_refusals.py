"""The HTTP API's refusals over real HTTP: a bad request told what to send, in JSON; oversized
bodies refused from their length or while they stream; stalled clients cut off; a wrong
method or path answered as the API, not the page. The server serves on after each."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

import numpy as np
import pytest

from devtools.pictures import png
from server import api
from tests.support.api import BOUNDARY, answer_before_close, form, post, slow_client
from tests.support.pictures import drawn_digit, png_claiming_size, truncated_png

pytestmark = [pytest.mark.postgres]

JUNK_BYTES = 30 * 2**20


def two_files(data: bytes, second_field: str = "other") -> bytes:
    """A multipart/form-data body with the same picture in two file fields."""
    first, _ = form(data)
    second, _ = form(data, field=second_field)
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
        (
            lambda d: (two_files(d, "image"), f"multipart/form-data; boundary={BOUNDARY}", ""),
            400,
            'The form holds 2 files named "image": send one picture per request.',
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
        "two pictures in a form",
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


@pytest.mark.parametrize(
    "codings", [["gzip"], ["Identity", " GZIP "], ["identity, gzip"]], ids=["gzip", "two", "list"]
)
def test_a_compressed_body_is_told_to_come_as_it_is(app_url, clear_digits, codings):
    """A picture sent gzipped would read as no picture at all: the answer names the coding,
    however the header is spelt or repeated."""
    data = gzip.compress(png(drawn_digit(clear_digits[1], "black on transparent")))
    address = urlsplit(app_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.putrequest("POST", api.PREDICT_PATH)
    connection.putheader("Content-Type", "image/png")
    connection.putheader("Content-Length", str(len(data)))
    for coding in codings:
        connection.putheader("Content-Encoding", coding)
    connection.endheaders(data)
    answer = connection.getresponse()
    assert answer.status == 415 and answer.getheader("Accept-Encoding") == "identity"
    error = json.loads(answer.read())["error"]
    connection.close()
    assert error.endswith(f"is not read. {api.UNCOMPRESSED}") and "gzip" in error


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
