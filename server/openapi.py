"""The HTTP API described in OpenAPI 3.1, from the constants its routes use, so that a generic
client (a code generator, Swagger UI, Postman) can call it: served at GET /api/openapi.json,
and written into the documentation site by `devtools.api_reference`.

The schemas of its answers, and the helpers that write them, are in `server.openapi_schemas`.
tests/test_openapi.py holds the server to the document: every route the app serves is in
it with its methods, and real answers of each, refusals included, have a documented status
and headers and a body its schema accepts (no field left out: `additionalProperties` is
false throughout).
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import JSONResponse

from feedback import downloads
from feedback.database import RETRY_AFTER_S
from feedback.visitor import VISITOR_COOKIE
from reading import MODES, limits, photo
from reading import examples as sent_examples
from server import api, readiness
from server.openapi_schemas import (
    MB,
    MODES_TEXT,
    NO_STORE,
    RETRY_AFTER_TEXT,
    SCHEMAS,
    TEXT,
    header,
    json_answer,
    refusal,
    schema_ref,
)

PATH = "/api/openapi.json"
OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"  # this API's own version: raised when an answer changes shape
DOWNLOAD_PATH = downloads.routes({})[0].path  # read from the route, as the app serves it
# The order in which a path's operations are written, and the methods OpenAPI knows.
METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


MODE_PARAMETER = {
    "name": api.MODE_FIELD,
    "in": "query",
    "required": False,
    "description": f"Read one digit or a whole number: {MODES_TEXT}. It may go in a form's "
    "field instead (not both with different values). Any other query parameter is refused "
    "with 400, so that a misspelt `Mode` does not read a number as one digit.",
    "schema": {"type": "string", "enum": list(MODES), "default": MODES[0]},
}

IMAGE_TYPES_TEXT = ", ".join(f"`{media_type}`" for media_type in api.IMAGE_TYPES)
PREDICT_BODY = {
    "required": True,
    "description": f"The image, at most {photo.MAX_MB} MB: its bytes as the body, typed as one "
    f"of {IMAGE_TYPES_TEXT} or `{api.UNTYPED}`; or a `{api.FORM}` form with the image in the "
    f"file field `{api.FILE_FIELD}` (curl: `-F {api.FILE_FIELD}=@digit.png`). The body must "
    f"arrive whole within {api.DEFAULT_BODY_TIMEOUT_S:g} s of the request's headers (or as "
    f"many seconds as the server's `{api.BODY_TIMEOUT_VARIABLE}` says). A form may also carry "
    "examples of the writer's digits to read with, as the page reads with a person's labels: "
    f"each a picture of one digit in a file field named `example_<digit>` (curl: "
    f"`-F example_7=@my_seven.png`), repeated as often as wanted, at most "
    f"{sent_examples.MAX_EXAMPLES} of them, each at most "
    f"{sent_examples.MAX_EXAMPLE_BYTES // 1024} kB and "
    f"{sent_examples.MAX_EXAMPLE_PIXELS / 1e6:g} megapixels, "
    f"{sent_examples.MAX_EXAMPLES_BYTES // MB} MB together. They weigh in on this reading only "
    "and are not kept.",
    "content": {
        **{
            media_type: {"schema": {"type": "string", "contentMediaType": media_type}}
            for media_type in (*api.IMAGE_TYPES, api.UNTYPED)
        },
        api.FORM: {
            "schema": {
                "type": "object",
                "properties": {
                    api.FILE_FIELD: {
                        "type": "string",
                        "description": "The picture, sent as a file.",
                    },
                    api.MODE_FIELD: {
                        "type": "string",
                        "enum": list(MODES),
                        "description": "The mode, when it is not in the query.",
                    },
                },
                "patternProperties": {
                    "^example_[0-9]$": {
                        "type": "string",
                        "description": "A picture of one of the writer's digits, the digit "
                        "named by the field; the field may be repeated.",
                    }
                },
                "required": [api.FILE_FIELD],
                "additionalProperties": False,
            },
            "encoding": {
                api.FILE_FIELD: {"contentType": ", ".join((*api.IMAGE_TYPES, api.UNTYPED))}
            },
        },
    },
}

PREDICT_RESPONSES = {
    "200": json_answer(
        {"oneOf": [schema_ref("OneDigitReading"), schema_ref("NumberReading")]},
        "The reading: one digit (`mode=digit`, the default) or a number (`mode=number`).",
    ),
    "400": refusal(
        "The body is not a PNG, JPEG or WebP, or it is damaged, cut off, empty, animated, "
        f"under {photo.MIN_SIDE} px or a thin strip; `mode` is not {MODES_TEXT}, or is sent "
        "twice with different values, or the query and the form ask for different modes; a "
        "query parameter or form field other than `mode` is sent; a form has no file field "
        f"`{api.FILE_FIELD}` (curl's `-F {api.FILE_FIELD}=<file` sends the file as text) or "
        "more than one, a file field other than it and `example_<digit>`, an example sent as "
        "text, or an example that is no picture or holds no handwriting; the connection closed "
        "before the body was in."
    ),
    "408": refusal(
        "The body did not arrive whole in time (see the request body); the connection is closed."
    ),
    "413": refusal(
        f"The body is over {photo.MAX_MB} MB, judged from its `Content-Length` or, sent "
        f"without one, as soon as {photo.MAX_MB} MB have streamed in; or the picture's header "
        f"declares more than {photo.MAX_PIXELS / 1e6:g} megapixels "
        f"({photo.MAX_WEBP_PIXELS / 1e6:g} for WebP), refused before decoding; or a form's "
        "examples are too many or too large (see the request body). A client that "
        "sent `Expect: 100-continue` is answered before it sends the body; any other has the "
        f"rest of its body read and thrown away, up to {api.DRAIN_LIMIT_BYTES // MB} MB, so "
        "that it can read this answer. The connection is then closed."
    ),
    "415": refusal(
        "No `Content-Type`, or one the API does not read (`curl -d` sends "
        "`application/x-www-form-urlencoded`), or a form's file (the picture or an example) "
        "declared as another type; a picture in another format (`image/gif`, `image/heic`, "
        "`application/pdf`) is told to be converted to PNG, JPEG or WebP. Or a body sent "
        "compressed (a `Content-Encoding` other than `identity`): the three formats are "
        "compressed already, so the body is read only as it is.",
        {
            "Accept-Encoding": header(
                "`identity`, to a body sent compressed: the one content coding read.",
                {"type": "string", "const": "identity"},
                required=False,
            )
        },
    ),
    "422": refusal(
        "No handwriting found in the picture; or, with `mode=number`, two or more lines of "
        "writing one above another: send each line as a picture of its own. Or, in either "
        f"mode, more writing than one picture may hold: over {limits.MAX_GROUPS} separate "
        f"pieces of writing, a number of over {limits.MAX_DIGITS} digits, or strokes touching "
        f"so much that finding the digits would take over {limits.MAX_CANDIDATES} tries: send "
        "one number (or one digit) per picture, cropped close to it."
    ),
    "500": refusal("Reading this picture failed on the server: try another one."),
    "503": refusal(
        f"Busy: {api.MAX_IN_FLIGHT} received images are being read already, the bodies being "
        f"received hold {api.MAX_HELD_BYTES // MB} MB between them, or no decoding slot freed "
        f"up within {photo.DECODE_WAIT_S:g} s; or the picture is costly to read (a photo, a "
        "long number) and the server is reading another such picture, or has read its share "
        "of them lately; or the client was told to wait, sent again before its "
        f"`Retry-After` had passed, and {api.HELD_AT_ONCE} such requests are held already "
        "(one within the limit is held, unread, until the wait has passed, then read). These "
        "carry `Retry-After`: 1 s, or for a costly picture the seconds until its share has "
        "room for it, or those left of the client's wait. Or the model file is missing or "
        "unreadable, with no `Retry-After`: that waits for whoever runs the server (a body "
        "that is no picture still gets its 400 first).",
        {
            "Retry-After": header(
                RETRY_AFTER_TEXT,
                {"type": "integer", "minimum": int(api.RETRY_503_AFTER_S)},
                required=False,
            )
        },
    ),
}

DOWNLOAD_PARAMETERS = [
    {
        "name": "token",
        "in": "path",
        "required": True,
        "description": "The link's token, as the History tab gives it.",
        "schema": {"type": "string", "pattern": f"^{downloads.TOKEN.pattern}$"},
    },
    {
        "name": "file_name",
        "in": "path",
        "required": True,
        "description": "Which file: the labels as CSV, or as NumPy arrays in an .npz.",
        "schema": {"type": "string", "enum": [downloads.CSV_NAME, downloads.NPZ_NAME]},
    },
    {
        "name": VISITOR_COOKIE,
        "in": "cookie",
        "required": True,
        "description": "The visitor cookie of the browser whose History tab showed the link: "
        "the page sets it, and a browser sends it back by itself.",
        "schema": {"type": "string"},
    },
]

PATHS = {
    api.PREDICT_PATH: {
        "post": {
            "operationId": "predict",
            "tags": ["Reading"],
            "summary": "Read the digit, or the number, in a picture",
            "description": "Reads a picture the way the page's photo mode does: a PNG, JPEG or "
            "WebP with any background and ink colours. A canvas export or another digital "
            "drawing is read like the canvas; a photo or scan of paper has its lighting "
            "evened out first.",
            "parameters": [MODE_PARAMETER],
            "requestBody": PREDICT_BODY,
            "responses": PREDICT_RESPONSES,
        }
    },
    api.MODEL_INFO_PATH: {
        "get": {
            "operationId": "modelInfo",
            "tags": ["Model"],
            "summary": "Which model answers, and how well it reads",
            "responses": {
                "200": json_answer(schema_ref("ModelInfo"), "The model serving, and its figures."),
                "503": refusal("The model file is missing or unreadable."),
            },
        }
    },
    readiness.PATH: {
        "get": {
            "operationId": "readiness",
            "tags": ["Server"],
            "summary": "Whether this server is ready for visitors",
            "description": "For a load balancer's or an orchestrator's readiness check: ready "
            "once the model is loaded and compiled and the feedback database answers. Every "
            "wait is bounded.",
            "responses": {
                "200": json_answer(schema_ref("Ready"), "Ready.", {"Cache-Control": NO_STORE}),
                "503": json_answer(
                    schema_ref("NotReady"),
                    "Not ready; the fields say which part.",
                    {
                        "Cache-Control": NO_STORE,
                        "Retry-After": header(
                            RETRY_AFTER_TEXT, {"type": "integer", "const": RETRY_AFTER_S}
                        ),
                    },
                ),
            },
        }
    },
    PATH: {
        "get": {
            "operationId": "openapi",
            "tags": ["Server"],
            "summary": "This document",
            "responses": {
                "200": json_answer(
                    {"type": "object", "required": ["openapi", "info", "paths"]},
                    f"The API described in OpenAPI {OPENAPI_VERSION}.",
                )
            },
        }
    },
    DOWNLOAD_PATH: {
        "get": {
            "operationId": "download",
            "tags": ["Downloads"],
            "summary": "Download labelled drawings behind a link from the History tab",
            "description": "The History tab hands out a link to one visitor's labels (or, to "
            "the app's owner, everyone's); it works for "
            f"{downloads.LINK_LIFETIME_S // 60} minutes after the tab last showed it, on any "
            "replica of the app, and only in the browser the tab was open in (with its "
            "visitor cookie). The file streams straight from the database.",
            "parameters": DOWNLOAD_PARAMETERS,
            "responses": {
                "200": {
                    "description": "The file, as an attachment.",
                    "headers": {
                        "Content-Disposition": header(
                            "`attachment` with the file's name.", {"type": "string"}
                        ),
                        "Cache-Control": NO_STORE,
                    },
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        api.UNTYPED: {
                            "schema": {"type": "string", "description": "NumPy's .npz archive."}
                        },
                    },
                },
                "404": {
                    "description": "The link is unknown or has expired, or the file is neither "
                    "of the two: open the History tab again for a fresh one.",
                    "content": {TEXT: {"schema": {"type": "string"}}},
                },
                "403": {
                    "description": "The request has no visitor cookie, or another browser's: "
                    "the link works only in the browser whose History tab showed it (not in "
                    "another browser, with curl, or opened from a message).",
                    "headers": {"Cache-Control": NO_STORE},
                    "content": {TEXT: {"schema": {"type": "string"}}},
                },
                "503": {
                    "description": "The feedback database is unavailable right now.",
                    "headers": {
                        "Retry-After": header(
                            RETRY_AFTER_TEXT, {"type": "integer", "const": RETRY_AFTER_S}
                        )
                    },
                    "content": {TEXT: {"schema": {"type": "string"}}},
                },
            },
        }
    },
}

REST_OF_API_RESPONSES = {
    "UnknownPath": refusal(
        "`/api`, or a path under it that is no endpoint here: the message names the endpoints."
    ),
    "MethodNotAllowed": refusal(
        "A path of this document under `/api` asked with a method it does not list.",
        {"Allow": header("The methods the path answers, as listed here.", {"type": "string"})},
    ),
}

DESCRIPTION = (
    "The HTTP API that `streamlit run webapp.py` serves beside the page, on the same port "
    "(8501 unless set otherwise) and in the same process. Every refusal under `/api` is "
    'JSON, `{"error": "..."}`, saying what is wrong and what to send: a path under `/api` '
    "that is none of these answers 404 (`UnknownPath`), and a path of this document under "
    "`/api` asked with a method it does not list answers 405 with `Allow` "
    "(`MethodNotAllowed`). A path that answers GET also answers HEAD, with the same status "
    "and headers and no body."
)


def _head(get: dict) -> dict:
    """The HEAD operation of a GET: the same status and headers, no body."""
    responses = {
        status: {key: value for key, value in response.items() if key != "content"}
        for status, response in get["responses"].items()
    }
    return {
        **get,
        "operationId": f"{get['operationId']}Head",
        "summary": f"{get['summary']}: the status and headers only",
        "responses": responses,
    }


@functools.cache
def document() -> dict:
    """The OpenAPI document of the API: its paths, with a HEAD beside every GET."""
    paths = {
        path: {**operations, "head": _head(operations["get"])}
        if "get" in operations
        else dict(operations)
        for path, operations in PATHS.items()
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Digit reader", "version": API_VERSION, "description": DESCRIPTION},
        "tags": [
            {"name": "Reading", "description": "Digits and numbers in pictures."},
            {"name": "Model", "description": "The model that answers."},
            {"name": "Server", "description": "The server itself."},
            {"name": "Downloads", "description": "The labels people gave on the page."},
        ],
        "paths": {path: _in_order(operations) for path, operations in paths.items()},
        "components": {"schemas": SCHEMAS, "responses": REST_OF_API_RESPONSES},
    }


def _in_order(operations: dict) -> dict:
    return {method: operations[method] for method in METHODS if method in operations}


async def _serve(request: Request) -> JSONResponse:
    return JSONResponse(document())


ROUTE = api.api_route(PATH, "GET", _serve)
