"""The model this server process serves: which file, loaded once and shared.

The page (through `st.cache_resource`) and the HTTP API both take their classifier from
`shared_classifier`, so one `streamlit run webapp.py` process holds one copy of the model
whichever of them asks first; `preload` asks at start-up. Once loaded, it is compiled for
every batch size it is called at, on a thread of its own. `state` tells how that is going
without loading anything, for the readiness endpoint: ready once compiled, so that a load
balancer sends no request that waits for a compile. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from pathlib import Path

import digit_model

_loaded: dict[str, digit_model.Classifier] = {}
_failed: set[str] = set()  # model files whose last load failed
_warm: set[str] = set()  # model files loaded and compiled for every batch size
_loading = threading.Lock()


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
                _loaded[key] = digit_model.load(key)
            except digit_model.ModelUnavailable:
                _failed.add(key)
                raise
            _failed.discard(key)
            threading.Thread(
                target=_warm_up, args=(key, _loaded[key]), name="model-warm-up", daemon=True
            ).start()
        return _loaded[key]


def _warm_up(key: str, classifier: digit_model.Classifier) -> None:
    """Compile a loaded classifier for every batch size it is called at (a few seconds, while
    it already answers), then count it ready."""
    classifier.warm_up()
    _warm.add(key)


def state(path: str | Path | None = None) -> ModelState:
    """Whether the model file is loaded and compiled, loading or unavailable; never loads
    it, nor waits for a load under way."""
    key = _key(path)
    if key in _warm:
        return ModelState.LOADED
    return ModelState.UNAVAILABLE if key in _failed else ModelState.LOADING


def _key(path: str | Path | None) -> str:
    """The served file's key: the path given, or the configured model's."""
    return str(path or digit_model.model_path())


def preload() -> None:
    """Load the served model now, so that neither the first visit nor, once it is compiled,
    the first number written waits for TensorFlow.

    A missing or unreadable model is left for the page to report, with its fix.
    """
    with contextlib.suppress(digit_model.ModelUnavailable):
        shared_classifier()
