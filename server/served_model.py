"""The model this server process serves: which file, loaded once and shared.

The page (through `st.cache_resource`) and the HTTP API both take their classifier from
`shared_classifier`, so one `streamlit run webapp.py` process holds one copy of the model
whichever of them asks first; `preload` asks at start-up. Once loaded, it is compiled for
every batch size it is called at (`digit_model.MAX_BATCH`), on a thread of its own. `state`
tells how that is going without waiting for anything, for the readiness endpoint: ready
once compiled, so that a load balancer sends no request that waits for a compile; and a
model file that failed to load is tried again in the background once it is there, so that
a replica nobody sends requests to becomes ready by itself. A running server keeps the
model it loaded, so `described` and `figures` describe that one, not a file written over
it since. No Streamlit here.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import math
import threading
import time
from pathlib import Path
from typing import NamedTuple

import digit_model


class ServedFile(NamedTuple):
    """A model file as it was when loaded: what answers, whatever is written over it since."""

    sha256: str
    size_bytes: int
    metrics: digit_model.ModelMetrics | None  # None when there were none or they were unreadable


_loaded: dict[str, digit_model.Classifier] = {}
_served: dict[str, ServedFile] = {}  # each loaded model file as it was when loaded
_failed: set[str] = set()  # model files whose last load failed
_warm: set[str] = set()  # model files loaded and compiled for every batch size
_tried_at: dict[str, float] = {}  # when each failed model file was last tried again
_loading = threading.Lock()
RETRY_S = 5.0  # a model file that failed to load is tried again this often, once it is there
LOAD_TRIES = 3  # loads of a model file replaced each time while it loads, before it is kept
logger = logging.getLogger(__name__)


class ModelState(enum.StrEnum):
    """How the served model is doing."""

    LOADED = "loaded"  # and compiled for every batch size it is called at
    LOADING = "loading"  # being loaded or compiled, or not tried yet (`preload` starts it)
    UNAVAILABLE = "unavailable"  # the last try failed: the file is missing or unreadable


def shared_classifier(path: str | Path | None = None) -> digit_model.Classifier:
    """The classifier for a model file, loaded on first use and then shared by every caller.

    Raises digit_model.ModelUnavailable, and loads again on the next call, when the file is
    missing or unreadable. Callers on other threads wait for a load under way.
    """
    key = _key(path)
    with _loading:
        if key not in _loaded:
            try:
                _loaded[key], _served[key] = _load(Path(key))
            except digit_model.ModelUnavailable:
                _failed.add(key)
                raise
            _failed.discard(key)
            # Not a daemon: the interpreter waits for it at exit, never ends it mid-compile.
            threading.Thread(
                target=_warm_up, args=(key, _loaded[key]), name="model-warm-up"
            ).start()
        return _loaded[key]


def _load(path: Path) -> tuple[digit_model.Classifier, ServedFile]:
    """Load a model file and describe it. A file replaced while it loads (a retrain finishing)
    is loaded again, so that the description is of the model loaded."""
    for _ in range(LOAD_TRIES):
        before = _version(path)
        classifier = digit_model.load(path)
        try:
            served = _described(path)
        except OSError as error:
            raise digit_model.ModelUnavailable(
                f"The model file {path} could not be read ({error}). "
                f"Retrain it with `{digit_model.train_command(path)}`."
            ) from error
        if _version(path) == before:
            break
    return classifier, served


def described(path: str | Path | None = None) -> ServedFile:
    """The model file that answers, as it was when loaded; before it is loaded, the file on
    disk, which is what will load. Never loads the model. OSError when there is no file."""
    return _served.get(_key(path)) or _described(Path(_key(path)))


def figures(path: str | Path | None = None) -> digit_model.ModelMetrics | None:
    """The served model's figures, None when it has none: read afresh, and kept, while the file
    on disk is still the one loaded (`train_model.py evaluate --record` rewrites them), else as
    last read. Never loads the model: unloaded, the file's own. ValueError when unreadable."""
    key = _key(path)
    served = _served.get(key)
    if served is None:
        return _current_metrics(Path(key))
    try:
        replaced = _file_digest(Path(key)) != served.sha256
    except OSError:
        replaced = True
    if replaced:
        return served.metrics
    fresh = _current_metrics(Path(key))
    _served[key] = served._replace(metrics=fresh)
    return fresh


def _version(path: Path) -> tuple[int, int] | None:
    """A file's modification time and size, None when it cannot be read."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _file_digest(path: Path) -> str:
    """The sha256 of a file, computed once per version (time and size) of it."""
    status = path.stat()
    return _digest(path, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=8)
def _digest(path: Path, modified_ns: int, size: int) -> str:
    with path.open("rb") as opened:
        return hashlib.file_digest(opened, "sha256").hexdigest()


def _current_metrics(path: Path) -> digit_model.ModelMetrics | None:
    """The figures beside a model file, parsed once per version (time and size) of their file."""
    return _metrics(path, _version(digit_model.metrics_path(path)))


@functools.lru_cache(maxsize=8)
def _metrics(path: Path, version: tuple[int, int] | None) -> digit_model.ModelMetrics | None:
    return digit_model.load_metrics(path)  # a ValueError is raised, never kept


def _described(path: Path) -> ServedFile:
    """A model file just loaded, with the figures beside it."""
    try:
        metrics = _current_metrics(path)
    except ValueError as error:
        logger.warning("The served model's figures cannot be read: %s", error)
        metrics = None
    return ServedFile(_file_digest(path), path.stat().st_size, metrics)


def _warm_up(key: str, classifier: digit_model.Classifier) -> None:
    """Compile a loaded classifier for every batch size (a few seconds, while it already
    answers), then count it ready; ready too when the compile fails, as each batch size then
    compiles on first use."""
    try:
        classifier.warm_up()
    except Exception:
        logger.exception("Compiling the model ahead failed; it compiles as it is used")
    _warm.add(key)


def state(path: str | Path | None = None) -> ModelState:
    """Whether the model file is loaded and compiled, loading or unavailable; never loads
    it, nor waits for a load under way."""
    key = _key(path)
    if key in _warm:
        return ModelState.LOADED
    if key not in _failed:
        return ModelState.LOADING
    _try_again(key)
    return ModelState.UNAVAILABLE


def _try_again(key: str) -> None:
    """Load a model file that failed before, on a thread of its own, once it is there: at most
    every RETRY_S."""
    now = time.monotonic()
    if now - _tried_at.get(key, -math.inf) < RETRY_S or not Path(key).is_file():
        return
    _tried_at[key] = now
    threading.Thread(target=_load_quietly, args=(key,), name="model-retry").start()


def _load_quietly(key: str) -> None:
    """Load a model file, leaving a failure for `state` and the page to report, and the log."""
    try:
        shared_classifier(key)
    except digit_model.ModelUnavailable as error:
        logger.warning("The model is unavailable: %s", error)


def _key(path: str | Path | None) -> str:
    """The served file's key: the path given, or the configured model's."""
    return str(path or digit_model.model_path())


def preload() -> None:
    """Load the served model now, so that neither the first visit nor, once it is compiled,
    the first number written waits for TensorFlow.

    A missing or unreadable model is left for the page to report, with its fix.
    """
    _load_quietly(_key(None))
