"""GET /api/ready over real HTTP: ready only once the model is loaded and compiled and the
feedback database answers, 503 saying which part is not (a model loading or missing, a
PostgreSQL server frozen or stopped), and never left waiting."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

import digit_model
from devtools.page import SERVER_START_SECONDS
from feedback import database as feedback_database
from feedback import settings as feedback_settings
from server import readiness, served_model
from tests.support.http import eventually, request, served

pytestmark = [pytest.mark.postgres]

READY = {"ready": True, "model": "loaded", "database": "ready"}
# After an outage the store answers "unavailable" for its retry period before asking again.
RECOVERY_S = feedback_database.RETRY_AFTER_S + 20
LOAD_S = 120  # loading and compiling the model take about 12 s alone


def test_the_served_app_is_ready_once_its_model_is_loaded(app_url):
    # /_stcore/health answered already; the model may still be loading.
    status, headers, body = eventually(f"{app_url}{readiness.PATH}", 200, SERVER_START_SECONDS)
    assert status == 200 and json.loads(body) == READY
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    status, _, body = request(f"{app_url}{readiness.PATH}", method="HEAD")
    assert status == 200 and body == b""
    status, headers, body = request(f"{app_url}{readiness.PATH}", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert "answers GET only" in json.loads(body)["error"]


@pytest.fixture
def ready_url(postgres_server, monkeypatch) -> Iterator[str]:
    """The readiness route served on its own, with a feedback database of its own."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv(feedback_settings.URL_VARIABLES[0], postgres_server.create_database())
    with served(Starlette(routes=readiness.routes({}))) as url:
        yield f"{url}{readiness.PATH}"


def answer(url: str) -> tuple[int, dict, dict]:
    status, headers, body = request(url)
    return status, headers, json.loads(body)


def test_not_ready_while_the_model_is_not_loaded_and_which_part_is_said(
    ready_url, tmp_path, monkeypatch
):
    path = tmp_path / "model.keras"
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(path))
    status, headers, body = answer(ready_url)  # not tried yet: the server loads it at start
    assert status == 503 and headers["retry-after"] == str(feedback_database.RETRY_AFTER_S)
    assert body == {"ready": False, "model": "loading", "database": "ready"}
    with pytest.raises(digit_model.ModelUnavailable):
        served_model.shared_classifier()
    assert answer(ready_url)[2]["model"] == "unavailable"

    # The file is put back: asked for readiness alone, with no request to read anything, the
    # server loads it, and is ready only once it is compiled for a number's batch sizes.
    path.write_bytes(digit_model.DEFAULT_PATH.read_bytes())
    compiling = threading.Event()
    warm_up = digit_model.Classifier.warm_up

    def held_warm_up(classifier: digit_model.Classifier) -> None:
        compiling.wait()
        warm_up(classifier)

    monkeypatch.setattr(digit_model.Classifier, "warm_up", held_warm_up)
    deadline = time.monotonic() + LOAD_S
    while (state := answer(ready_url))[2]["model"] == "unavailable":
        assert time.monotonic() < deadline, "the model file put back was not loaded"
        time.sleep(0.5)
    status, _, body = state
    assert status == 503 and body == {"ready": False, "model": "loading", "database": "ready"}
    compiling.set()
    status, _, body = eventually(ready_url, 200, LOAD_S)
    assert status == 200 and json.loads(body) == READY


@pytest.mark.parametrize("outage", ["frozen", "stopped"])
def test_not_ready_while_the_database_is_frozen_or_stopped_and_ready_again_after(
    ready_url, postgres_server, outage
):
    served_model.shared_classifier()
    assert json.loads(eventually(ready_url, 200, LOAD_S)[2]) == READY
    if outage == "frozen":
        with postgres_server.frozen():
            status, headers, body = answer(ready_url)  # within the wait: no hanging
    else:
        postgres_server.stop()
        try:
            status, headers, body = answer(ready_url)
        finally:
            postgres_server.start()
    assert status == 503 and headers["retry-after"] == str(feedback_database.RETRY_AFTER_S)
    assert body == {"ready": False, "model": "loaded", "database": "unavailable"}
    status, _, body = eventually(ready_url, 200, RECOVERY_S)
    assert status == 200 and json.loads(body) == READY
