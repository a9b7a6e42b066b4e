"""The HTTP API that `streamlit run webapp.py` serves beside the page, for other programs.

    POST /api/predict?mode=digit|number   the image bytes (Content-Type image/png, image/jpeg
                                          or image/webp), or multipart/form-data with the
                                          image in a file field named "image" (and the
                                          mode, if not in the query, in a field "mode"),
                                          and examples of the person's digits to read
                                          with in files named example_<digit>
    GET  /api/model                       which model file is serving, and its figures
    GET  /api/ready                       whether this server is ready: see `readiness`
    GET  /api/openapi.json                this API described in OpenAPI 3.1: see `openapi`

These are Starlette endpoints; `webapp.py` hands ROUTES to `st.App`, and after them and the
other routes under /api, `rest_of_api`: a JSON 405 for an endpoint's path asked with a method
it does not answer, a JSON 404 for /api and any other path under it. A body must arrive
whole within BODY_TIMEOUT_S of its request's headers, or the request is answered 408 and its
connection closed, so a slow client holds nothing for long. A body over the limit is refused
from its Content-Length or, without one, as soon as the bytes streamed in pass the limit;
the rest is read and discarded first (up to DRAIN_LIMIT_BYTES), so a client that sends its
whole body before reading the answer reads the 413 rather than a reset connection. Bodies
being received take memory, not reading slots: all of them together hold at most
MAX_HELD_BYTES. Once a body is in, it takes one of MAX_IN_FLIGHT reading slots, or gets
"busy" (503). Decoding and the model run in a small pool of worker threads, never on the
event loop that also carries the page's websockets, with the classifier instance the page
uses. A reading's work is counted as it goes: past the limits of one picture it is refused
(422, `reading.limits`), and a costly one runs in a heavy lane under a budget, or gets 503
with the seconds to wait (`heavy_work`), so that it never holds up cheap ones: the pool has
a thread more than cheap readings need for each heavy one at a time. Every refusal is JSON:
{"error": "<what is wrong and what to send>"}.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, TypeVar

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

import digit_model
from reading import MODES, NumberReading, photo, read_photo
from reading import examples as sent_examples
from reading.limits import TooMuchWriting
from server import heavy_work, served_model
from server.deadlines import seconds_setting

PREDICT_PATH, MODEL_INFO_PATH = "/api/predict", "/api/model"
REST_OF_API = ("/api", "/api/{path:path}")  # the paths `rest_of_api` answers
MAX_BODY_BYTES = photo.MAX_BYTES  # the image itself, as for uploads on the page...
MULTIPART_OVERHEAD = 64 * 1024  # ...plus room for a form's boundaries and part headers
MAX_IN_FLIGHT = 8  # requests whose body is in, decoded and read at once...
MAX_HELD_BYTES = MAX_IN_FLIGHT * MAX_BODY_BYTES  # ...and the body bytes held for all requests
DRAIN_LIMIT_BYTES = 4 * MAX_BODY_BYTES  # the most of a refused body read and discarded
BODY_TIMEOUT_VARIABLE = "DIGIT_API_BODY_TIMEOUT_S"
DEFAULT_BODY_TIMEOUT_S = 20.0  # 25 MB in this time takes 10 Mbit/s; a phone photo, far less
BODY_TIMEOUT_S = seconds_setting(BODY_TIMEOUT_VARIABLE, DEFAULT_BODY_TIMEOUT_S)
ECHO_CHARS = 40  # the most of a value sent that an error message repeats back
WORKER_THREADS = 2  # decoding and the model run on these, off the event loop, for cheap
# readings; and one more for each heavy reading at a time
# The three formats read, under their names and the older ones some programs still send.
IMAGE_TYPES = ("image/png", "image/x-png", "image/jpeg", "image/jpg", "image/pjpeg", "image/webp")
UNTYPED = "application/octet-stream"  # bytes of no declared type: the decoder tells
FORM = "multipart/form-data"
FILE_FIELD = "image"
EXAMPLE_FIELD = "example_{digit}"  # a form's file of the person's handwriting, by its digit
EXAMPLE_FIELDS = {EXAMPLE_FIELD.format(digit=digit): digit for digit in range(10)}
MODE_FIELD = "mode"  # the query parameter, or the form field, that chooses digit or number
QUERY_PARAMETER, FORM_FIELD = "parameter", "form field"  # where a mode was sent, in messages
RETRY_503_AFTER_S = "1"  # a request answered 503 as busy may come again this soon
HELD_AT_ONCE = 32  # requests of clients back before their Retry-After, held unread at once
TOO_SOON = (
    "You were told to wait before sending another picture (Retry-After), and sent one sooner "
    "while the server was holding {held} others that did the same: it was not read. Send it "
    "again in {seconds} s."
)
WHAT_TO_SEND = (
    "Send the image bytes with Content-Type image/png, image/jpeg or image/webp, or "
    f'multipart/form-data with the image in a file field named "{FILE_FIELD}".'
)
# Said of a body sent compressed (Content-Encoding): the formats read are compressed already.
UNCOMPRESSED = "Send the picture as it is: PNG, JPEG and WebP are compressed already."
# Said of a picture in another format: how to send it is known, its format is not read.
CONVERT = (
    "The API reads PNG, JPEG and WebP: convert the picture to one of those and send it as "
    "image/png, image/jpeg or image/webp."
)
NO_HANDWRITING = (
    "No handwriting found in the image. Send a picture with the digits large and dark "
    "(or light) on a plain background."
)
BUSY = "The server is reading as many images as it can right now. Try again in a moment."
MODEL_UNAVAILABLE = "The digit model is not available on this server right now. Try again later."

Result = TypeVar("Result")
logger = logging.getLogger(__name__)

_workers = ThreadPoolExecutor(
    max_workers=WORKER_THREADS + heavy_work.HEAVY_AT_ONCE, thread_name_prefix="digit-api"
)
heavy_lane = heavy_work.HeavyLane()  # costly readings, one at a time under a budget
waiting_clients = heavy_work.WaitingClients()  # those told to wait, until they may send again
# Changed only on the event loop, so no lock is needed.
_in_flight = 0
_held = 0  # requests held until their client's wait has passed
_held_bytes = 0


class RequestRefused(Exception):
    """A request the API answers with an error status and a message for the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLarge(RequestRefused):
    """A body over the limit; `unread` when none of it was read (refused from its length)."""

    def __init__(self, size: int | None, unread: bool) -> None:
        """`size`: what the body declared, None for one that streamed past the limit."""
        shown = "over" if size is None else f"{photo.megabytes(size)}, over"
        super().__init__(
            413, f"The body is {shown} the {photo.MAX_MB} MB limit. Send a smaller image."
        )
        self.unread = unread


def _refusal(
    status: int, message: str, close: bool = False, retry_after: str = RETRY_503_AFTER_S
) -> JSONResponse:
    headers = {"Retry-After": retry_after} if status == 503 else {}
    if close:  # the body, or what is left of it, will not be read
        headers["Connection"] = "close"
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _model_unavailable() -> JSONResponse:
    """503 without Retry-After: a missing or unreadable model file waits for whoever runs the
    server, not for a second."""
    return JSONResponse({"error": MODEL_UNAVAILABLE}, status_code=503)


class _Sent(NamedTuple):
    """What a request sent: the image, the mode its form asked for (None: not in a form), and
    the person's examples in it, (picture, digit meant) each."""

    image: bytes | bytearray
    form_mode: str | None = None
    examples: tuple[tuple[bytes, int], ...] = ()


def _mode_in(values: Iterable[tuple[str, str]], where: str) -> str | None:
    """The mode that query parameters or a form's text fields ask for, None when they name
    none; a 400 for a name other than mode (a misspelt `Mode` would read a number as one
    digit) or a mode other than digit and number."""
    values = list(values)
    unknown = sorted({name for name, _ in values} - {MODE_FIELD})
    if unknown:
        known = (
            f"the only {where} is {MODE_FIELD}"
            if where == QUERY_PARAMETER
            else f'a form has the file "{FILE_FIELD}" and may have the field {MODE_FIELD}'
        )
        choices = " or ".join(f"{MODE_FIELD}={mode}" for mode in MODES)
        raise RequestRefused(400, f"Unknown {where} {_echo(unknown[0])!r}: {known} ({choices}).")
    modes = {value for _, value in values}
    if len(modes) > 1:
        raise RequestRefused(400, f"Send {MODE_FIELD} once, {' or '.join(MODES)}.")
    mode = modes.pop() if modes else None
    if mode is not None and mode not in MODES:
        raise RequestRefused(
            400, f"mode must be {' or '.join(MODES)}, not {_echo(mode)!r}; digit is the default."
        )
    return mode


def _echo(value: str) -> str:
    """A value the sender gave, cut short: an error names it, never repeats a megabyte of it."""
    return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"


async def _in_worker(function: Callable[..., Result], *args) -> Result:
    """Run blocking work (decoding, the model, hashing) on the API's worker threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_workers, functools.partial(function, *args))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _declared_length(request: Request) -> int | None:
    """The body's Content-Length, None without one; a 400 when it is not a number."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not (declared.isascii() and declared.isdigit()):
        raise RequestRefused(400, f"Content-Length {_echo(declared)!r} is not a number of bytes.")
    return int(declared)


def _check_declared_length(request: Request, limit: int) -> None:
    """Refuse a body whose Content-Length is over the limit before reading any of it."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise BodyTooLarge(declared, unread=True)


class _Body:
    """How much of one request's body has come: the bytes held, counted against
    MAX_HELD_BYTES for all requests, and whether it has all arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.complete = False

    def take(self, size: int) -> None:
        """Count `size` more bytes, or refuse the request as busy when memory is spoken for."""
        global _held_bytes
        if _held_bytes + size > MAX_HELD_BYTES:
            raise RequestRefused(503, BUSY)
        _held_bytes += size
        self.count += size

    def release(self) -> None:
        """The request is answered: its bytes are no longer held."""
        global _held_bytes
        _held_bytes -= self.count
        self.count = 0


async def _limited(stream: AsyncIterator[bytes], limit: int, body: _Body) -> AsyncIterator[bytes]:
    """The body as it streams in, refused as soon as more than `limit` bytes have come."""
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(None, unread=False)
        body.take(len(chunk))
        yield chunk
    body.complete = True


async def _drain(request: Request, body: _Body) -> None:
    """Read and discard what is left of a refused body, up to DRAIN_LIMIT_BYTES.

    A client that sends its whole body before it reads the answer (urllib, say) gets
    "connection reset" instead of the answer when the server closes with its body unread.
    """
    if (_declared_length(request) or 0) > DRAIN_LIMIT_BYTES:
        return  # answered at once: reading that much would only help the sender
    drained = 0
    while not body.complete and drained <= DRAIN_LIMIT_BYTES:
        message = await request.receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        body.complete = not message.get("more_body", False)


async def _sent(request: Request, body: _Body) -> _Sent:
    """The image sent: the whole body, or the "image" file of a multipart form and the mode
    its other field asks for."""
    media_type = _media_type(request.headers.get("content-type"))
    if media_type in (*IMAGE_TYPES, UNTYPED):
        _check_declared_length(request, MAX_BODY_BYTES)
        data = bytearray()
        async for chunk in _limited(request.stream(), MAX_BODY_BYTES, body):
            data += chunk
        return _Sent(data)  # not copied into bytes: one body in memory per request
    if media_type != FORM:
        problem = (
            f"Content-Type {_echo(media_type)} is not supported"
            if media_type
            else "The request has no Content-Type"
        )
        fix = CONVERT if media_type.startswith("image/") else WHAT_TO_SEND
        raise RequestRefused(415, f"{problem}. {fix}")

    limit = MAX_BODY_BYTES + sent_examples.MAX_EXAMPLES_BYTES + MULTIPART_OVERHEAD
    _check_declared_length(request, limit)
    parser = MultiPartParser(
        request.headers,
        _limited(request.stream(), limit, body),
        max_files=1 + sent_examples.MAX_EXAMPLES,
        max_fields=16,
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        if str(error).startswith("Too many files"):
            raise RequestRefused(
                413,
                f"The form holds more files than one picture to read and at most "
                f"{sent_examples.MAX_EXAMPLES} examples: send fewer examples, and one picture.",
            ) from error
        problem = f"The form could not be read ({str(error).rstrip('.')})"
        raise RequestRefused(400, f"{problem}. {WHAT_TO_SEND}") from error
    try:
        # An image sent as text (curl -F image=<file) is left for the file's own check below.
        fields = [
            (name, value)
            for name, value in form.multi_items()
            if isinstance(value, str) and name != FILE_FIELD
        ]
        as_text = [name for name, _ in fields if name in EXAMPLE_FIELDS]
        if as_text:
            raise RequestRefused(
                400,
                f"The example {as_text[0]!r} is sent as text, not as a file "
                f"(curl: -F {as_text[0]}=@file sends it as a file).",
            )
        form_mode = _mode_in(fields, FORM_FIELD)
        pictures = [
            value
            for name, value in form.multi_items()
            if name == FILE_FIELD and isinstance(value, UploadFile)
        ]
        if len(pictures) > 1:
            raise RequestRefused(
                400,
                f'The form holds {len(pictures)} files named "{FILE_FIELD}": send one picture '
                "per request.",
            )
        upload = pictures[0] if pictures else None
        if upload is None:
            raise RequestRefused(
                400,
                f'The form has no file field named "{FILE_FIELD}" (curl: -F {FILE_FIELD}=@file). '
                f"{WHAT_TO_SEND}",
            )
        _check_part_type(upload, "The file")
        if upload.size is not None and upload.size > MAX_BODY_BYTES:
            raise BodyTooLarge(upload.size, unread=False)
        return _Sent(await upload.read(), form_mode, await _examples_in(form))
    finally:
        await form.close()


def _check_part_type(upload: UploadFile, said_as: str) -> None:
    """A 415 for a form's file declared as a type that is not read (a PDF, a GIF), naming it
    `said_as`: the form is as it should be, the file in it is what is not read."""
    part_type = _media_type(upload.content_type)
    if part_type and part_type not in (*IMAGE_TYPES, UNTYPED):
        raise RequestRefused(415, f"{said_as} is sent as {_echo(part_type)}. {CONVERT}")


async def _examples_in(form: FormData) -> tuple[tuple[bytes, int], ...]:
    """The person's examples a form holds: files named example_<digit>, in the order sent;
    a 400 for any other file, a 415 for one declared as a type that is not read, a 413 for
    too many or too large."""
    files = [
        (name, value)
        for name, value in form.multi_items()
        if isinstance(value, UploadFile) and name != FILE_FIELD
    ]
    unknown = [name for name, _ in files if name not in EXAMPLE_FIELDS]
    if unknown:
        raise RequestRefused(
            400,
            f"Unknown file field {_echo(unknown[0])!r}: a form has the picture to read in "
            f'"{FILE_FIELD}" and may have examples of your digits in fields named '
            f"{EXAMPLE_FIELD.format(digit='<digit>')} (curl: -F {EXAMPLE_FIELD.format(digit=7)}"
            "=@my_seven.png).",
        )
    for number, (_, upload) in enumerate(files, 1):
        _check_part_type(upload, f"Example {number}")
    try:
        sent_examples.check_sizes([upload.size or 0 for _, upload in files])
    except sent_examples.ExampleRefused as refused:
        raise RequestRefused(413, str(refused)) from refused
    return tuple([(await upload.read(), EXAMPLE_FIELDS[name]) for name, upload in files])


async def predict(request: Request) -> JSONResponse:
    """POST /api/predict: read the digit, or the number, in the image sent."""
    try:  # refused before the body is read
        query_mode = _mode_in(request.query_params.multi_items(), QUERY_PARAMETER)
    except RequestRefused as refused:
        return _refusal(refused.status, refused.message)
    codings = [
        coding.strip().lower()
        for header in request.headers.getlist("content-encoding")
        for coding in header.split(",")
    ]
    if set(codings) - {"", "identity"}:  # a compressed body would read as no picture at all
        said = _echo(", ".join(coding for coding in codings if coding))
        response = _refusal(415, f"Content-Encoding {said} is not read. {UNCOMPRESSED}")
        response.headers["Accept-Encoding"] = "identity"
        return response
    client = request.client.host if request.client else ""
    if (wait := waiting_clients.left(client)) > 0:
        if _held >= HELD_AT_ONCE:
            seconds = math.ceil(wait)
            message = TOO_SOON.format(held=HELD_AT_ONCE, seconds=seconds)
            return _refusal(503, message, close=True, retry_after=str(seconds))
        await _held_for(wait)
    body = _Body()
    try:
        sent = await _received(request, body)
        if isinstance(sent, JSONResponse):
            return sent
        if query_mode and sent.form_mode and query_mode != sent.form_mode:
            return _refusal(
                400,
                f"The query asks for mode {query_mode} and the form for {sent.form_mode}: "
                "send one.",
            )
        mode = query_mode or sent.form_mode or MODES[0]
        return await _read(sent.image, mode, sent.examples, client)
    finally:
        body.release()


async def _held_for(seconds: float) -> None:
    """Wait out the rest of a client's wait, its request unread: no CPU, no memory but the
    connection's, and it is read once its time has come."""
    global _held
    _held += 1
    try:
        await asyncio.sleep(seconds)
    finally:
        _held -= 1


async def _received(request: Request, body: _Body) -> _Sent | JSONResponse:
    """The image sent, in whole within BODY_TIMEOUT_S; or the refusal to answer instead."""
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            try:
                return await _sent(request, body)
            except BodyTooLarge as refused:
                waits_for_go_ahead = request.headers.get("expect", "").lower() == "100-continue"
                if not (refused.unread and waits_for_go_ahead):
                    await _drain(request, body)
                return _refusal(refused.status, refused.message, close=True)
    except TimeoutError:
        return _refusal(
            408,
            f"The body did not arrive within {BODY_TIMEOUT_S:g} s of the request's headers. "
            "Send the whole image at once.",
            close=True,
        )
    except RequestRefused as refused:
        return _refusal(refused.status, refused.message)
    except ClientDisconnect:
        return _refusal(400, "The connection closed before the whole body arrived.")


async def _read(
    data: bytes | bytearray,
    mode: str,
    examples: tuple[tuple[bytes, int], ...] = (),
    client: str = "",
) -> JSONResponse:
    """The reading of a received image, with the person's examples weighed in when any were
    sent, in one of MAX_IN_FLIGHT slots; 503 when none is free. A `client` told to wait by
    the heavy lane is remembered until it may send again."""
    global _in_flight
    if _in_flight >= MAX_IN_FLIGHT:
        return _refusal(503, BUSY)
    _in_flight += 1
    try:
        with heavy_lane.reading() as work:
            # The picture first: a file that is no picture gets 400 even while the model is away.
            picture = await _in_worker(photo.read_upload, data, work)
            classifier = await _in_worker(served_model.shared_classifier)
            reading = await _in_worker(read_photo, classifier, picture, mode, work)
            if examples and reading is not None:
                memory = await _in_worker(sent_examples.memory_of, classifier, examples, work)
                reading = sent_examples.recalled(reading, memory)
    except heavy_work.Busy as busy:
        waiting_clients.told_to_wait(client, busy.retry_after_s)
        return _refusal(503, str(busy), retry_after=str(busy.retry_after_s))
    except TooMuchWriting as refused:
        return _refusal(422, str(refused))
    except sent_examples.ExampleRefused as refused:
        return _refusal(413 if refused.too_large else 400, str(refused))
    except photo.PhotoBusy as busy:
        return _refusal(503, str(busy))
    except photo.TooManyPixels as error:
        return _refusal(413, str(error))
    except photo.PhotoError as error:
        return _refusal(400, str(error))
    except digit_model.ModelUnavailable as error:
        logger.error("The model is unavailable: %s", error)  # the path stays in the log
        return _model_unavailable()
    except Exception:
        logger.exception("Reading an image sent to /api/predict failed")
        return _refusal(500, "The server failed to read this image. Try another one.")
    finally:
        _in_flight -= 1
    if reading is None:
        return _refusal(422, NO_HANDWRITING)
    if isinstance(reading, NumberReading) and reading.several_lines:
        return _refusal(422, several_lines(reading.lines))
    return JSONResponse(reading.to_dict())


def several_lines(lines: int) -> str:
    """Why a picture of several lines of writing gets no number, and what to send instead."""
    return (
        f"The image holds {lines} lines of writing, one above another, and a number is read "
        "from one line. Send each line as an image of its own, upright."
    )


async def model_info(request: Request) -> JSONResponse:
    """GET /api/model: which model answers (the file as it was loaded, whatever has been
    written over it since, or the one that will load), when it was trained, how well it reads."""
    try:
        served = await _in_worker(served_model.described)
    except OSError as error:
        logger.error("No model file to describe: %s", error)
        return _model_unavailable()
    try:
        metrics = await _in_worker(served_model.figures)
    except ValueError:  # the model still answers; its figures are unknown
        metrics = None
    canvas = metrics and metrics.canvas
    pen = metrics and metrics.pen
    return JSONResponse(
        {
            "file": digit_model.model_path().name,
            "sha256": served.sha256,
            "size_bytes": served.size_bytes,
            "trained_at": metrics and metrics.trained_at,
            "test_accuracy": metrics and metrics.test_accuracy,
            "canvas_accuracy": canvas and canvas.accuracy,
            "pen_accuracy": pen and pen.accuracy,
            "pen_letters_flagged": pen and pen.letters_flagged,
            "calibration_error": pen and pen.calibration.ece,
        }
    )


def api_route(
    path: str, method: str, endpoint: Callable[[Request], Awaitable[JSONResponse]]
) -> Route:
    """A route of the API answering `method` (and HEAD with GET); the routes of
    `rest_of_api` answer its path's other methods with a JSON 405."""
    return Route(path, endpoint, methods=[method])


ROUTES = [
    api_route(PREDICT_PATH, "POST", predict),
    api_route(MODEL_INFO_PATH, "GET", model_info),
]


def rest_of_api(endpoints: list[Route]) -> list[Route]:
    """The routes, after the API's endpoints, that answer the rest of /api with JSON, not with
    the page's HTML and 200: an endpoint's path asked with another method, 405 naming the
    methods it answers; any other path, 404 naming the endpoints.

    An endpoint leaves the methods it does not answer to the routes after it, which end with
    the page's own, answering anything: these come before those.
    """
    paths = ", ".join(route.path for route in endpoints)

    async def answer(request: Request) -> JSONResponse:
        for route in endpoints:
            matched, _ = route.matches(request.scope)
            if matched is Match.PARTIAL:  # the endpoint's path, another method
                answered = " or ".join(sorted(route.methods - {"HEAD"}))
                response = _refusal(405, f"{request.url.path} answers {answered} only.")
                response.headers["Allow"] = ", ".join(sorted(route.methods))
                return response
        return _refusal(
            404, f"{_echo(request.url.path)} is no endpoint of this API. It has {paths}."
        )

    class AnyMethod:
        """`answer` as an ASGI app: Starlette routes every method to it, those it does not list
        (TRACE, a client's own) too, which a function's route would leave to the page."""

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            response = await answer(Request(scope, receive))
            await response(scope, receive, send)

    return [Route(path, AnyMethod()) for path in REST_OF_API]
