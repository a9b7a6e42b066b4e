"""The HTTP API that `streamlit run webapp.py` serves beside the page, for other programs.

    POST /api/predict?mode=digit|number   the image bytes (Content-Type image/png, image/jpeg
                                          or image/webp), or multipart/form-data with the
                                          image in a file field named "image"
    GET  /api/model                       which model file is serving, and its figures

These are Starlette endpoints; `webapp.py` hands ROUTES to `st.App`. A body over the limit is
refused from its Content-Length or, without one, as soon as the bytes streamed in pass the
limit. Decoding and the model run in a small pool of worker threads, never on the event loop
that also carries the page's websockets, with the classifier instance the page uses. At most
MAX_IN_FLIGHT requests are read at once; more get "busy" (503) instead of filling memory.
Every refusal is JSON: {"error": "<what is wrong and what to send>"}.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import digit_model
from reading import MODES, photo, read_image_bytes
from server import served_model

MAX_BODY_BYTES = photo.MAX_BYTES  # the image itself, as for uploads on the page...
MULTIPART_OVERHEAD = 64 * 1024  # ...plus room for a form's boundaries and part headers
MAX_IN_FLIGHT = 8  # requests read at once; each holds at most one body in memory
WORKER_THREADS = 2  # decoding and the model run on these, off the event loop
IMAGE_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/webp")
UNTYPED = "application/octet-stream"  # bytes of no declared type: the decoder tells
FORM = "multipart/form-data"
FILE_FIELD = "image"
RETRY_AFTER_S = "1"
WHAT_TO_SEND = (
    "Send the image bytes with Content-Type image/png, image/jpeg or image/webp, or "
    f'multipart/form-data with the image in a file field named "{FILE_FIELD}".'
)
NO_HANDWRITING = (
    "No handwriting found in the image. Send a picture with the digits large and dark "
    "(or light) on a plain background."
)
BUSY = "The server is reading as many images as it can right now. Try again in a moment."
MODEL_UNAVAILABLE = "The digit model is not available on this server right now. Try again later."

Result = TypeVar("Result")
logger = logging.getLogger(__name__)

_workers = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="digit-api")
_in_flight = 0  # changed only on the event loop, so no lock is needed


class RequestRefused(Exception):
    """A request the API answers with an error status and a message for the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _refusal(status: int, message: str) -> JSONResponse:
    headers = {"Retry-After": RETRY_AFTER_S} if status == 503 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _in_worker(function: Callable[..., Result], *args) -> Result:
    """Run blocking work (decoding, the model, hashing) on the API's worker threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_workers, functools.partial(function, *args))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _too_large(size: str) -> RequestRefused:
    return RequestRefused(
        413,
        f"The body is {size}; the limit is {MAX_BODY_BYTES // 2**20} MB. Send a smaller image.",
    )


def _check_declared_length(request: Request, limit: int) -> None:
    """Refuse a body whose Content-Length is over the limit before reading any of it."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not (declared.isascii() and declared.isdigit()):
        raise RequestRefused(400, f"Content-Length {declared!r} is not a number of bytes.")
    if int(declared) > limit:
        raise _too_large(f"{int(declared) / 2**20:.0f} MB")


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The body as it streams in, refused as soon as more than `limit` bytes have come."""
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise _too_large("over the limit")
        yield chunk


async def _image_bytes(request: Request) -> bytes | bytearray:
    """The image sent: the whole body, or the "image" file of a multipart form."""
    media_type = _media_type(request.headers.get("content-type"))
    if media_type in (*IMAGE_TYPES, UNTYPED):
        _check_declared_length(request, MAX_BODY_BYTES)
        body = bytearray()
        async for chunk in _limited(request.stream(), MAX_BODY_BYTES):
            body += chunk
        return body  # not copied into bytes: one body in memory per request
    if media_type != FORM:
        shown = media_type or "missing"
        raise RequestRefused(415, f"Content-Type {shown} is not supported. {WHAT_TO_SEND}")

    limit = MAX_BODY_BYTES + MULTIPART_OVERHEAD
    _check_declared_length(request, limit)
    parser = MultiPartParser(
        request.headers, _limited(request.stream(), limit), max_files=1, max_fields=16
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise RequestRefused(
            400, f"The form could not be read ({error}). {WHAT_TO_SEND}"
        ) from error
    try:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise RequestRefused(
                400, f'The form has no file field named "{FILE_FIELD}". {WHAT_TO_SEND}'
            )
        part_type = _media_type(upload.content_type)
        if part_type and part_type not in (*IMAGE_TYPES, UNTYPED):
            raise RequestRefused(415, f"The file is sent as {part_type}. {WHAT_TO_SEND}")
        if upload.size is not None and upload.size > MAX_BODY_BYTES:
            raise _too_large(f"{upload.size / 2**20:.0f} MB")
        return await upload.read()
    finally:
        await form.close()


async def predict(request: Request) -> JSONResponse:
    """POST /api/predict: read the digit, or the number, in the image sent."""
    global _in_flight
    if _in_flight >= MAX_IN_FLIGHT:
        return _refusal(503, BUSY)
    _in_flight += 1
    try:
        mode = request.query_params.get("mode", MODES[0])
        if mode not in MODES:
            raise RequestRefused(
                400, f"mode must be {' or '.join(MODES)}, not {mode!r}; digit is the default."
            )
        data = await _image_bytes(request)
        classifier = await _in_worker(served_model.shared_classifier)
        reading = await _in_worker(read_image_bytes, classifier, data, mode)
    except RequestRefused as refused:
        return _refusal(refused.status, refused.message)
    except ClientDisconnect:
        return _refusal(400, "The connection closed before the whole body arrived.")
    except photo.PhotoBusy as busy:
        return _refusal(503, str(busy))
    except photo.TooManyPixels as error:
        return _refusal(413, str(error))
    except photo.PhotoError as error:
        return _refusal(400, str(error))
    except digit_model.ModelUnavailable as error:
        logger.error("The model is unavailable: %s", error)  # the path stays in the log
        return _refusal(503, MODEL_UNAVAILABLE)
    except Exception:
        logger.exception("Reading an image sent to /api/predict failed")
        return _refusal(500, "The server failed to read this image. Try another one.")
    finally:
        _in_flight -= 1
    if reading is None:
        return _refusal(422, NO_HANDWRITING)
    return JSONResponse(reading.to_dict())


@functools.cache
def _file_digest(path: Path, modified_ns: int) -> str:
    """The sha256 of a model file, computed once per version of the file."""
    with path.open("rb") as model_file:
        return hashlib.file_digest(model_file, "sha256").hexdigest()


async def model_info(request: Request) -> JSONResponse:
    """GET /api/model: which model file answers, when it was trained, how well it reads."""
    path = digit_model.model_path()
    try:
        status = path.stat()
        digest = await _in_worker(_file_digest, path, status.st_mtime_ns)
    except OSError as error:
        logger.error("No model file to describe: %s", error)
        return _refusal(503, MODEL_UNAVAILABLE)
    try:
        metrics = digit_model.load_metrics(path)
    except ValueError:  # the model still answers; its figures are unknown
        metrics = None
    canvas = metrics and metrics.canvas
    pen = metrics and metrics.pen
    return JSONResponse(
        {
            "file": path.name,
            "sha256": digest,
            "size_bytes": status.st_size,
            "trained_at": metrics and metrics.trained_at,
            "test_accuracy": metrics and metrics.test_accuracy,
            "canvas_accuracy": canvas and canvas.accuracy,
            "pen_accuracy": pen and pen.accuracy,
            "pen_letters_flagged": pen and pen.letters_flagged,
            "calibration_error": pen and pen.calibration.ece,
        }
    )


ROUTES = [
    Route("/api/predict", predict, methods=["POST"]),
    Route("/api/model", model_info, methods=["GET"]),
]
