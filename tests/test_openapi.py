"""The OpenAPI document at GET /api/openapi.json, held to the server it describes, over real
HTTP: a valid OpenAPI 3.1 document; every route the app serves in it with its methods; and
real answers of each route, readings and refusals, with a status its operation lists, the
headers it requires and a JSON body its schema accepts (the schemas allow no other field).
The reference in docs/ is what `devtools.api_reference` writes from the document now."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.applications import Starlette
from starlette.routing import Route

import digit_model
import webapp
from devtools import api_reference
from devtools.pictures import png
from feedback import database as feedback_database
from feedback import downloads
from feedback import settings as feedback_settings
from feedback.store import FeedbackStore
from feedback.visitor import VISITOR_COOKIE, labels_id, new_visitor_id
from server import api, openapi, openapi_schemas, readiness
from tests.support.api import FIRST_ANSWER_S, form, slow_client
from tests.support.http import eventually, served
from tests.support.pictures import drawn_digit, png_claiming_size, two_lines, written

pytestmark = [pytest.mark.postgres]

DOCUMENT_URI = "urn:digit-reader:openapi"
Answer = tuple[int, dict[str, str], bytes]
# HTTP's own methods, and one of a client's own (a token HTTP allows and Starlette lists nowhere).
METHODS_TRIED = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PURGE"]


@pytest.fixture(scope="module")
def spec(app_url) -> dict:
    """The document as the served app answers it."""
    status, headers, body = exchange(f"{app_url}{openapi.PATH}")
    assert (status, headers["content-type"]) == (200, openapi_schemas.JSON)
    return json.loads(body)


def exchange(
    url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None
) -> Answer:
    """The status, headers (names in lower case) and body of one request; refusals included."""
    request = urllib.request.Request(url, data, headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=FIRST_ANSWER_S) as answer:
            return answer.status, lower_case(answer.headers), answer.read()
    except urllib.error.HTTPError as refusal:
        return refusal.code, lower_case(refusal.headers), refusal.read()


def lower_case(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def escaped(key: str) -> str:
    """A key as a JSON pointer's segment."""
    return key.replace("~", "~0").replace("/", "~1")


def pointed(spec: dict, pointer: str) -> dict:
    """What a JSON pointer into the document points at."""
    node = spec
    for segment in pointer.lstrip("/").split("/"):
        node = node[segment.replace("~1", "/").replace("~0", "~")]
    return node


def conforms(spec: dict, path: str, method: str, answer: Answer) -> None:
    """Hold one real answer to its operation: the status is listed, and the answer is as that
    response says."""
    status = str(answer[0])
    responses = spec["paths"][path][method.lower()]["responses"]
    assert status in responses, f"{method} {path} answered {status}: not in the document"
    holds_to(spec, f"/paths/{escaped(path)}/{method.lower()}/responses/{status}", answer, method)


def holds_to(spec: dict, pointer: str, answer: Answer, method: str) -> None:
    """Hold an answer to the response at `pointer`: its required headers present, every
    documented header's value as its schema says, the content type listed, a JSON body
    valid under its schema; to a HEAD, no body at all."""
    response = pointed(spec, pointer)
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = pointed(spec, pointer)
    _, headers, body = answer
    for name, header in response.get("headers", {}).items():
        value = headers.get(name.lower())
        assert value is not None or not header["required"], f"no {name} header"
        if value is not None:
            schema = header["schema"]
            valid(spec, schema, int(value) if schema.get("type") == "integer" else value)
    if method == "HEAD":
        assert body == b""
        return
    media_type = headers["content-type"].split(";")[0]
    assert media_type in response["content"], f"{media_type} is not documented at {pointer}"
    if media_type == openapi_schemas.JSON:
        schema_pointer = f"{pointer}/content/{escaped(media_type)}/schema"
        valid(spec, {"$ref": f"{DOCUMENT_URI}#{schema_pointer}"}, json.loads(body))


def valid(spec: dict, schema: dict, instance: object) -> None:
    """Validate with JSON Schema 2020-12, OpenAPI 3.1's dialect, resolving references into
    the document."""
    registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(spec))
    Draft202012Validator(schema, registry=registry).validate(instance)


def served_endpoints() -> list[Route]:
    """The routes the app serves (webapp.py's list), less the rest of /api: those answer 404
    and 405, documented as the responses every path under /api may get."""
    return [route for route in webapp.routes if route.path not in api.REST_OF_API]


def test_the_document_served_is_valid_openapi_3_1_and_the_one_the_code_builds(spec):
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert spec["openapi"].startswith("3.1.")
    assert spec == json.loads(json.dumps(openapi.document()))


def test_every_route_the_app_serves_is_in_the_document_with_its_methods(spec):
    described = {
        path: {method.upper() for method in item if method in openapi.METHODS}
        for path, item in spec["paths"].items()
    }
    assert described == {route.path: route.methods for route in served_endpoints()}


def test_other_methods_and_paths_under_api_get_the_documented_405_and_404(app_url, spec):
    refusals = "/components/responses"
    for route in served_endpoints():
        if not route.path.startswith("/api/"):
            continue  # only /api has refusals of its own; the page's routes answer the rest
        allowed = ", ".join(sorted(method.upper() for method in spec["paths"][route.path]))
        for method in sorted(set(METHODS_TRIED) - route.methods):
            answer = exchange(f"{app_url}{route.path}", method)
            assert (answer[0], answer[1]["allow"]) == (405, allowed)
            holds_to(spec, f"{refusals}/MethodNotAllowed", answer, method)
    for method, path in [("GET", "/api"), ("GET", "/api/foo"), ("POST", "/api/predicts")]:
        answer = exchange(f"{app_url}{path}", method)
        assert answer[0] == 404
        holds_to(spec, f"{refusals}/UnknownPath", answer, method)


def test_readings_and_refusals_of_predict_are_as_documented(app_url, clear_digits, spec):
    digit = png(drawn_digit(clear_digits[7], "black on transparent"))
    blank = png(np.full((280, 280, 4), 255, np.uint8))
    requests = [
        ("", digit, "image/png", 200),
        ("", png(written(clear_digits, "37")), "image/png", 200),  # several_digits: "37"
        ("?mode=number", png(written(clear_digits, "3.75")), "image/png", 200),  # a mark
        ("?mode=number", *form(digit), 200),
        ("", b"Dear diary, 2026." * 40, "image/png", 400),
        ("?Mode=number", digit, "image/png", 400),
        ("", *form(digit, field="picture"), 400),
        ("", png_claiming_size(10_000, 6_000), "image/png", 413),
        ("", digit, "text/plain", 415),
        ("", *form(digit, part_type="image/gif"), 415),
        ("", blank, "image/png", 422),
        ("?mode=number", png(two_lines(clear_digits, "12", "34")), "image/png", 422),
    ]
    for query, data, content_type, status in requests:
        answer = exchange(
            f"{app_url}{api.PREDICT_PATH}{query}", "POST", data, {"Content-Type": content_type}
        )
        assert answer[0] == status, (query, content_type, answer)
        conforms(spec, api.PREDICT_PATH, "POST", answer)


def test_a_body_that_does_not_arrive_in_time_gets_the_documented_408(app_url, clear_digits, spec):
    client = slow_client(app_url, png(drawn_digit(clear_digits[6], "black on transparent")))
    try:
        response = http.client.HTTPResponse(client)
        response.begin()
        answer = response.status, lower_case(dict(response.getheaders())), response.read()
    finally:
        client.close()
    assert answer[0] == 408
    conforms(spec, api.PREDICT_PATH, "POST", answer)


def test_the_model_readiness_and_document_answers_are_as_documented(app_url, spec):
    eventually(f"{app_url}{readiness.PATH}", 200, FIRST_ANSWER_S)
    for path in (api.MODEL_INFO_PATH, readiness.PATH, openapi.PATH):
        for method in ("GET", "HEAD"):
            answer = exchange(f"{app_url}{path}", method)
            assert answer[0] == 200, (method, path)
            conforms(spec, path, method, answer)


@pytest.fixture
def missing_model(postgres_server, tmp_path, monkeypatch) -> Iterator[str]:
    """The API's routes and the readiness route served in this process, with no model file
    where the model should be and a feedback database of their own."""
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(tmp_path / "model.keras"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv(feedback_settings.URL_VARIABLES[0], postgres_server.create_database())
    with served(Starlette(routes=[*api.ROUTES, *readiness.routes({})])) as url:
        yield url


def test_without_a_model_each_route_answers_the_documented_503(missing_model, spec):
    picture = png(np.zeros((280, 280), np.uint8))
    answers = [
        (api.PREDICT_PATH, "POST", picture),
        (api.MODEL_INFO_PATH, "GET", None),
        (readiness.PATH, "GET", None),
        (readiness.PATH, "HEAD", None),
    ]
    for path, method, data in answers:
        answer = exchange(f"{missing_model}{path}", method, data, {"Content-Type": "image/png"})
        assert answer[0] == 503, (method, path)
        conforms(spec, path, method, answer)


def test_downloads_answer_as_documented(app_url, spec, feedback_database_url, postgres_server):
    path = openapi.DOWNLOAD_PATH
    # A link issued on the app's database by another replica, as the History tab issues one to
    # a visitor: to the labels of the browser's visitor cookie, shown to that browser.
    visitor = new_visitor_id()
    mine = labels_id(visitor)
    store = FeedbackStore(feedback_database.create_engine(feedback_database_url))
    try:
        token = downloads.links_for(store).issue(mine, mine)
    finally:
        store.engine.dispose()
    own_cookie = {"Cookie": f"{VISITOR_COOKIE}={visitor}"}
    another_cookie = {"Cookie": f"{VISITOR_COOKIE}={new_visitor_id()}"}
    links = [
        (token, downloads.CSV_NAME, own_cookie, 200),
        (token, downloads.NPZ_NAME, own_cookie, 200),
        (token, downloads.CSV_NAME, {}, 403),
        (token, downloads.NPZ_NAME, another_cookie, 403),
        (token, "other.txt", own_cookie, 404),
        ("unknown", downloads.CSV_NAME, own_cookie, 404),
    ]
    for link_token, file_name, cookie, status in links:
        for method in ("GET", "HEAD"):
            link = f"{app_url}/{downloads.path(link_token, file_name)}"
            answer = exchange(link, method, headers=cookie)
            assert answer[0] == status, (method, file_name, cookie)
            conforms(spec, path, method, answer)


def test_a_download_while_the_database_is_frozen_gets_the_documented_503(
    spec, postgres_server, monkeypatch
):
    database = postgres_server.create_database()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv(feedback_settings.URL_VARIABLES[0], database)
    store = FeedbackStore(feedback_database.create_engine(database))
    try:
        token = downloads.links_for(store).issue("visitor-a", "visitor-a")
    finally:
        store.engine.dispose()
    with served(Starlette(routes=downloads.routes({}))) as url, postgres_server.frozen():
        answer = exchange(f"{url}/{downloads.path(token, downloads.CSV_NAME)}")
    assert answer[0] == 503
    conforms(spec, openapi.DOWNLOAD_PATH, "GET", answer)


def test_the_reference_in_the_docs_is_what_the_document_writes_now():
    for path, text in api_reference.written().items():
        assert path.read_text() == text, f"{path.name} is out of date: {api_reference.COMMAND}"
