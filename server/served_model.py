"""The model this server process serves: which file, loaded once and shared.

The page (through `st.cache_resource`) and the HTTP API both take their classifier from
`shared_classifier`, so one `streamlit run webapp.py` process holds one copy of the model
whichever of them asks first; `preload` asks at start-up. Once loaded, it is compiled for
the batch sizes a number of up to 16 digits is read at, on a thread of its own. `state`
tells how that is going without waiting for anything, for the readiness endpoint: ready
once compiled, so that a load balancer sends no request that waits for a compile; and a
model file that failed to load is tried again in the background once it is there, so that
a replica nobody sends requests to becomes ready by itself. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import threading
import time
from pathlib import Path

import digit_model

_loaded: dict[str, digit_model.Classifier] = {}
_failed: set[str] = set()  # model files whose last load failed
_warm: set[str] = set()  # model files loaded and compiled for a number's batch sizes
_tried_at: dict[str, float] = {}  # when each failed model file was last tried again
_loading = threading.Lock()
RETRY_S = 5.0  # a model file that failed to load is tried again this often, once it is there
logger = logging.getLogger(__name__)


class ModelState(enum.StrEnum):
    """How the served model is doing."""

    LOADED = "loaded"  # and compiled for the batch sizes a number is read at
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
                _loaded[key] = digit_model.load(key)
            except digit_model.ModelUnavailable:
                _failed.add(key)
                raise
            _failed.discard(key)
            # Not a daemon: the interpreter waits for it at exit, never ends it mid-compile.
            threading.Thread(
                target=_warm_up, args=(key, _loaded[key]), name="model-warm-up"
            ).start()
        return _loaded[key]


def _warm_up(key: str, classifier: digit_model.Classifier) -> None:
    """Compile a loaded classifier for a number's batch sizes (a few seconds, while it already
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
    """Load a model file, leaving a failure for `state` and the page to report."""
    with contextlib.suppress(digit_model.ModelUnavailable):
        shared_classifier(key)


def _key(path: str | Path | None) -> str:
    """The served file's key: the path given, or the configured model's."""
    return str(path or digit_model.model_path())


def preload() -> None:
    """Load the served model now, so that neither the first visit nor, once it is compiled,
    the first number written waits for TensorFlow.

    A missing or unreadable model is left for the page to report, with its fix.
    """
    _load_quietly(_key(None))
