"""What the page takes from its WebSocket (issue 71): the canvas's picture only as the PNG a
canvas of its size sends, checked before anything is decoded, and messages no larger than
`server.maxMessageSize`, refused before they are held. The real-server tests send the
attacks over the page's own WebSocket and read the server's peak memory from /proc."""

from __future__ import annotations

import asyncio
import json
import urllib.parse

import numpy as np
import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

import preprocess
from devtools import canvas_json
from devtools.attacks import (
    blank_png,
    canvas_value,
    listening_pid,
    peak_resident_mib,
    reset_peak_resident,
)
from devtools.canvas_json import Drawing
from devtools.drawing import PLACEMENTS
from devtools.pictures import encoded, png
from devtools.simulated_sessions import DrawingSession
from preprocess import CANVAS_SIZE, CanvasRefused, canvas_pixels, check_canvas_png
from tabs.draw.number import NUMBER_CANVAS_WIDTH
from tests.support import event_loop

BOMB_SIDE = 9000  # a 334 kB PNG that decodes to 324 MB; the page took 883 MB to read it
MAX_GROWTH_MIB = 100  # what a refused attack may add to the server's peak memory, at most
OVERSIZED_MB = 100  # a message far over the limit, and under Streamlit's default of 200 MB
# More than both canvases send with as many strokes on each as a label keeps (512 kB).
LARGE_DRAWING_MB = 2
ANSWER_TIMEOUT_S = 120


def canvas_like(width: int, seed: int = 0) -> np.ndarray:
    """An RGBA picture the size of a canvas `width` px wide, with something drawn on it."""
    rng = np.random.default_rng(seed)
    rgba = np.full((CANVAS_SIZE, width, 4), 255, np.uint8)
    rgba[100:180, 50:90, :3] = rng.integers(0, 255, (80, 40, 3), dtype=np.uint8)
    return rgba


# --- the check, without a server --------------------------------------------------------


@pytest.mark.parametrize("width", [CANVAS_SIZE, NUMBER_CANVAS_WIDTH])
def test_each_canvas_png_is_decoded_to_its_pixels(width):
    rgba = canvas_like(width)
    assert np.array_equal(canvas_pixels(png(rgba), width), rgba)


@pytest.mark.parametrize(
    "size", [(BOMB_SIDE, BOMB_SIDE), (CANVAS_SIZE + 1, CANVAS_SIZE), (CANVAS_SIZE, 2 * CANVAS_SIZE)]
)
def test_a_png_of_any_other_size_is_refused_before_it_is_decoded(size, monkeypatch):
    def never_decoded(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(preprocess.Image, "open", never_decoded)
    with pytest.raises(CanvasRefused, match=f"{size[0]}x{size[1]}"):
        canvas_pixels(blank_png(*size), CANVAS_SIZE)


def test_a_png_with_a_second_header_claiming_another_size_is_refused_undecoded(monkeypatch):
    # Pillow sizes the picture by the last header before the pixels, not the first.
    canvas, bomb = blank_png(CANVAS_SIZE, CANVAS_SIZE), blank_png(BOMB_SIDE, BOMB_SIDE)
    header_end = len(preprocess.PNG_SIGNATURE) + 8 + 13 + 4  # length, type, 13 bytes, CRC
    forged = canvas[:header_end] + bomb[len(preprocess.PNG_SIGNATURE) :]
    check_canvas_png(forged, CANVAS_SIZE)  # the first header alone looks like the canvas's

    def never_decoded(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(np, "asarray", never_decoded)
    with pytest.raises(CanvasRefused, match=f"{BOMB_SIDE}x{BOMB_SIDE}"):
        canvas_pixels(forged, CANVAS_SIZE)


def test_the_wide_canvas_takes_only_its_own_size():
    check_canvas_png(blank_png(NUMBER_CANVAS_WIDTH, CANVAS_SIZE), NUMBER_CANVAS_WIDTH)
    with pytest.raises(CanvasRefused):
        check_canvas_png(blank_png(CANVAS_SIZE, CANVAS_SIZE), NUMBER_CANVAS_WIDTH)


@pytest.mark.parametrize(
    "picture",
    [
        png(canvas_like(CANVAS_SIZE)[..., :3]),  # RGB
        png(canvas_like(CANVAS_SIZE)[..., 0]),  # grey
        encoded(Image.fromarray(canvas_like(CANVAS_SIZE)[..., :3]), "JPEG"),
        b"",
        preprocess.PNG_SIGNATURE,
        preprocess.PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR\x00\x00\x01\x18",  # cut off
    ],
    ids=["rgb", "grey", "jpeg", "empty", "signature-alone", "header-cut-off"],
)
def test_anything_but_an_8_bit_rgba_png_is_refused(picture):
    with pytest.raises(CanvasRefused):
        canvas_pixels(picture, CANVAS_SIZE)


@pytest.mark.parametrize("damage", ["cut-off", "garbled"])
def test_a_damaged_png_with_the_canvas_header_is_refused(damage):
    picture = bytearray(png(canvas_like(CANVAS_SIZE)))
    if damage == "cut-off":
        picture = picture[: len(picture) // 2]
    else:
        picture[60:200] = bytes(140)
    with pytest.raises(CanvasRefused):
        canvas_pixels(bytes(picture), CANVAS_SIZE)


# --- over the page's real WebSocket -----------------------------------------------------


def server_pid(app_url: str) -> int:
    return listening_pid(urllib.parse.urlsplit(app_url).port)


def alerts(messages) -> list[str]:
    """The text of every error, warning and notice a script run showed."""
    bodies = []
    for message in messages:
        if message.WhichOneof("type") == "delta":
            element = message.delta.new_element
            if element.WhichOneof("type") == "alert":
                bodies.append(element.alert.body)
    return bodies


async def normal_stroke(session: DrawingSession, clear_digits) -> str | None:
    """A 7 drawn as a person draws it: what the page answers."""
    seven = clear_digits[7]
    value = canvas_json.canvas_value(seven, PLACEMENTS[0])
    answer = await asyncio.wait_for(session.stroke(Drawing(7, value)), ANSWER_TIMEOUT_S)
    assert answer.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
    return answer.prediction


@pytest.mark.postgres
def test_a_canvas_png_claiming_9000_pixels_square_is_refused_unread(app_url, clear_digits):
    pid = server_pid(app_url)
    bomb = Drawing(-1, canvas_value(blank_png(BOMB_SIDE, BOMB_SIDE)))

    async def attack() -> tuple[float, list[str], str, str | None]:
        session = DrawingSession(app_url)
        try:
            await session.open()
            before = peak_resident_mib(pid)
            reset_peak_resident(pid)
            messages, status = await asyncio.wait_for(
                session.run(session.stroke_state(bomb)), ANSWER_TIMEOUT_S
            )
            growth = peak_resident_mib(pid) - before
            return growth, alerts(messages), status, await normal_stroke(session, clear_digits)
        finally:
            await session.close()

    growth, shown, status, then_answered = event_loop.run(attack())
    assert growth < MAX_GROWTH_MIB, f"the server grew by {growth:.0f} MiB"
    assert status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
    assert any(f"{BOMB_SIDE}x{BOMB_SIDE}" in text for text in shown), shown
    assert then_answered == "7"


@pytest.mark.postgres
def test_a_message_over_the_limit_closes_the_connection_before_it_is_held(app_url, clear_digits):
    pid = server_pid(app_url)
    oversized = Drawing(-1, canvas_value(b"", padding=OVERSIZED_MB * 10**6))

    async def attack() -> tuple[float, int | None, str | None]:
        attacker, person = DrawingSession(app_url), DrawingSession(app_url)
        try:
            await attacker.open()
            await person.open()
            message = attacker.stroke_state(oversized)
            before = peak_resident_mib(pid)
            reset_peak_resident(pid)
            code = None
            try:
                await attacker.socket.send(message.SerializeToString())
                await asyncio.wait_for(attacker.socket.recv(), ANSWER_TIMEOUT_S)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            growth = peak_resident_mib(pid) - before
            return growth, code, await normal_stroke(person, clear_digits)
        finally:
            await attacker.close()
            await person.close()

    growth, code, then_answered = event_loop.run(attack())
    assert code == CloseCode.MESSAGE_TOO_BIG
    assert growth < OVERSIZED_MB / 4, f"the server grew by {growth:.0f} MiB"
    assert then_answered == "7"


@pytest.mark.postgres
def test_a_drawing_message_larger_than_people_send_is_still_answered(app_url, clear_digits):
    seven = json.loads(canvas_json.canvas_value(clear_digits[7], PLACEMENTS[0]))
    seven["drawing"]["raw"]["padding"] = "x" * LARGE_DRAWING_MB * 10**6
    large = Drawing(7, json.dumps(seven))

    async def draw() -> str | None:
        session = DrawingSession(app_url)
        try:
            await session.open()
            answer = await asyncio.wait_for(session.stroke(large), ANSWER_TIMEOUT_S)
            assert answer.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
            return answer.prediction
        finally:
            await session.close()

    assert event_loop.run(draw()) == "7"
