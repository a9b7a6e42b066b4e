"""Issue 71, finding 2: what one picture may cost the server, over real HTTP to the API's own
routes. The costliest pictures are refused before their costly part, counted in candidate
crops made and inputs read, never in time; a heavy reading runs in its own lane, and cheap
requests are answered while it is held there."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import Message

import numpy as np
import pytest
from starlette.applications import Starlette

import digit_model
import reading.segment
from devtools.costly_pictures import long_touching_number, many_digits, touching_groups
from devtools.datasets import mnist
from devtools.pictures import png
from reading import limits
from reading.__main__ import read_bytes
from server import api, heavy_work, served_model
from tests.support.http import served
from tests.support.pictures import drawn_digit

ANSWER_S = 120  # the first request waits for the server to load the model
HELD_S = 60  # the most a test waits for a reading it holds to get where it is held
OTHER_CLIENT = "127.0.0.2"  # a loopback address of its own: another machine, to the server


@pytest.fixture(scope="module")
def url():
    """The API's routes served on a loopback port, with the model the page uses."""
    with served(Starlette(routes=api.ROUTES)) as base:
        yield base


@pytest.fixture(scope="module")
def mnist_digits() -> np.ndarray:
    return mnist("test")[0]


@pytest.fixture
def counted(monkeypatch) -> dict[str, list[int]]:
    """The candidate crops made, and the size of every batch the model is called at."""
    seen: dict[str, list[int]] = {"crops": [], "batches": []}
    candidate_input, call = reading.segment.candidate_input, digit_model.Classifier._call

    def counting_input(*args):
        seen["crops"].append(1)
        return candidate_input(*args)

    def counting_call(self, images):
        seen["batches"].append(len(images))
        return call(self, images)

    monkeypatch.setattr(reading.segment, "candidate_input", counting_input)
    monkeypatch.setattr(digit_model.Classifier, "_call", counting_call)
    return seen


@pytest.fixture
def fresh_lane(monkeypatch) -> heavy_work.HeavyLane:
    """A heavy lane of its own, its budget full, and no client told to wait, for a test that
    counts on them."""
    lane = heavy_work.HeavyLane()
    monkeypatch.setattr(api, "heavy_lane", lane)
    monkeypatch.setattr(api, "waiting_clients", heavy_work.WaitingClients())
    return lane


def post_from(
    address: str, url: str, data: bytes, mode: str = "digit"
) -> tuple[int, Message, dict]:
    """POST an image to /api/predict from another loopback address, as another machine would."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=ANSWER_S, source_address=(address, 0)
    )
    try:
        connection.request("POST", f"/api/predict?mode={mode}", data, {"Content-Type": "image/png"})
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read())
    finally:
        connection.close()


def post(url: str, data: bytes, mode: str = "digit") -> tuple[int, Message, dict]:
    """POST an image to /api/predict: the status, the headers and the JSON answer."""
    request = urllib.request.Request(
        f"{url}/api/predict?mode={mode}", data, {"Content-Type": "image/png"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_S) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_the_costliest_number_picture_is_refused_before_any_crop(
    url, mnist_digits, counted, fresh_lane
):
    """60 groups of 4 touching digits: 2,800 candidate crops and 5 s of CPU before."""
    picture = touching_groups(mnist_digits, np.random.default_rng(1))
    status, _, answer = post(url, picture, "number")
    assert status == 422 and f"more than {limits.MAX_GROUPS} separate pieces" in answer["error"]
    assert counted["crops"] == []


def test_touching_digits_past_the_candidates_limit_are_refused_before_any_crop(
    url, mnist_digits, counted, fresh_lane
):
    """Few groups, but each so long that its cuts make more candidates than the limit."""
    picture = touching_groups(mnist_digits, np.random.default_rng(2), groups=24, digits=8)
    status, _, answer = post(url, picture, "number")
    assert status == 422 and f"more than {limits.MAX_CANDIDATES} tries" in answer["error"]
    assert counted["crops"] == []


def test_hundreds_of_digits_sent_as_one_digit_are_refused_before_the_number_is_read(
    url, mnist_digits, counted, fresh_lane
):
    """The several-digits check read all 300 as a number before: 1,250 crops."""
    picture = many_digits(mnist_digits, np.random.default_rng(3))
    status, _, answer = post(url, picture, "digit")
    assert status == 422 and "one digit" in answer["error"]
    assert counted["crops"] == []
    assert sum(counted["batches"]) <= 1 + len(digit_model.views(np.zeros((28, 28))))


def test_a_long_number_is_read_within_the_bounds_at_batch_sizes_compiled_ahead(
    url, mnist_digits, counted, fresh_lane
):
    """30 touching digits on the number canvas: a real number as costly as they come."""
    picture = long_touching_number(mnist_digits, np.random.default_rng(4), digits=30, touch=1.0)
    status, _, answer = post(url, picture, "number")
    assert status == 200 and len(answer["digits"]) >= 20
    assert 0 < len(counted["crops"]) <= limits.MAX_CANDIDATES
    assert max(counted["batches"]) <= digit_model.MAX_BATCH
    counted["batches"].clear()
    served_model.shared_classifier().warm_up()  # compiles every batch size up to that
    every_size = {2**power for power in range(digit_model.MAX_BATCH.bit_length())}
    assert set(counted["batches"]) == every_size


def test_the_command_line_says_why_it_reads_no_digit_in_hundreds(mnist_digits, classifier):
    said = read_bytes(classifier, many_digits(mnist_digits, np.random.default_rng(3)), False)
    assert f"more than {limits.MAX_GROUPS} separate pieces of writing" in said


def test_cheap_requests_are_answered_while_a_heavy_reading_holds_the_lane(
    url, mnist_digits, clear_digits, monkeypatch, fresh_lane
):
    """A heavy reading held in the lane: a second heavy one, from another client, is told
    when to come back, and digits drawn alone are all read meanwhile, none queued behind it."""
    entered, release = threading.Event(), threading.Event()
    first_looks = reading.segment._first_looks

    def held(classifier, images, keys):
        if len(images) > heavy_work.LIGHT_COST:
            entered.set()
            release.wait(HELD_S)
        return first_looks(classifier, images, keys)

    monkeypatch.setattr(reading.segment, "_first_looks", held)
    heavy = [long_touching_number(mnist_digits, np.random.default_rng(seed)) for seed in (5, 6)]
    digits = [png(drawn_digit(clear_digits[label], "red on white")) for label in (1, 4, 7)]
    with ThreadPoolExecutor(max_workers=1) as background:
        first = background.submit(post, url, heavy[0], "number")
        try:
            assert entered.wait(HELD_S), "the heavy reading never reached the model"
            status, headers, answer = post_from(OTHER_CLIENT, url, heavy[1], "number")
            assert status == 503 and int(headers["Retry-After"]) >= 1
            assert "Try again in" in answer["error"]
            with ThreadPoolExecutor(max_workers=6) as clients:
                answers = list(clients.map(lambda data: post(url, data)[::2], digits * 4))
            assert [status for status, _ in answers] == [200] * len(answers)
            assert [answer["digit"] for _, answer in answers] == [1, 4, 7] * 4
        finally:
            release.set()
        assert first.result()[0] == 200
    assert fresh_lane.running == 0


def test_a_client_back_before_its_retry_after_is_held_until_then_and_others_are_not(
    url, mnist_digits, clear_digits, monkeypatch, fresh_lane
):
    """Told to wait, a client that sends again sooner is held, its request unread, for what is
    left of its wait, then read; another client is read as before. Past HELD_AT_ONCE such
    requests held, one is refused at once with the seconds left."""
    heavy = long_touching_number(mnist_digits, np.random.default_rng(7))
    digit = png(drawn_digit(clear_digits[3], "red on white"))
    fresh_lane.running = heavy_work.HEAVY_AT_ONCE  # the lane taken, as by another's reading
    status, headers, _ = post_from(OTHER_CLIENT, url, heavy, "number")
    told = int(headers["Retry-After"])
    assert status == 503 and told >= 1
    fresh_lane.running = 0

    held_for, hold = [], api._held_for

    async def spied(seconds):
        held_for.append(seconds)
        await hold(seconds)

    monkeypatch.setattr(api, "_held_for", spied)
    with ThreadPoolExecutor(max_workers=1) as background:
        early = background.submit(post_from, OTHER_CLIENT, url, digit)
        status, _, answer = post(url, digit)  # another client is not held back
        assert status == 200 and answer["digit"] == 3
        status, _, answer = early.result(timeout=HELD_S)
    assert status == 200 and answer["digit"] == 3  # read once its time had come
    assert len(held_for) == 1 and 0 < held_for[0] <= told

    monkeypatch.setattr(api, "HELD_AT_ONCE", 0)
    api.waiting_clients.told_to_wait(OTHER_CLIENT, 30)
    status, headers, answer = post_from(OTHER_CLIENT, url, b"no picture at all")
    assert status == 503 and 1 <= int(headers["Retry-After"]) <= 30
    assert headers["Connection"] == "close" and "Send it again in" in answer["error"]
    assert len(held_for) == 1


def test_clients_told_to_wait_are_remembered_in_bounded_memory():
    now = [0.0]
    waiting = heavy_work.WaitingClients(remembered=3, clock=lambda: now[0])
    for index in range(5):
        waiting.told_to_wait(f"10.0.0.{index}", 10)
    assert waiting.left("10.0.0.0") == 0  # the oldest forgotten: no longer held back
    assert waiting.left("10.0.0.4") == 10
    now[0] = 9.5
    assert waiting.left("10.0.0.4") == 0.5
    now[0] = 10.0
    assert waiting.left("10.0.0.4") == 0
    assert len(waiting._until) == 2


def test_the_heavy_lane_draws_what_readings_cost_from_a_budget():
    now = [0.0]
    lane = heavy_work.HeavyLane(light_cost=100, rate=100.0, burst=1000, clock=lambda: now[0])
    with lane.reading() as cheap:
        cheap.candidates(100)  # within the light cost: never held back
    with lane.reading() as heavy:
        heavy.candidates(600)
        heavy.candidates(300)  # drawn too, as the reading goes on
        with pytest.raises(heavy_work.Busy), lane.reading() as other:
            other.candidates(101)  # the lane is taken
    with pytest.raises(heavy_work.Busy) as short, lane.reading() as later:
        later.candidates(500)  # 100 left in the budget: 4 s at 100 a second
    assert short.value.retry_after_s == 4
    now[0] = 4.0
    with lane.reading() as later:
        later.candidates(500)
    assert lane.running == 0
    with pytest.raises(limits.TooMuchWriting), lane.reading() as huge:
        huge.candidates(limits.MAX_CANDIDATES + 1)
