"""The model this server process serves: which file, loaded once and shared.

The page (through `st.cache_resource`) and the HTTP API both take their classifier from
`shared_classifier`, so one `streamlit run webapp.py` process holds one copy of the model
whichever of them asks first. `state` tells how that is going without loading anything, for
the readiness endpoint. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from pathlib import Path

import digit_model

_loaded: dict[str, digit_model.Classifier] = {}
_failed: set[str] = set()  # model files whose last load failed
_loading = threading.Lock()


class ModelState(enum.StrEnum):
    """How the served model is doing."""

    LOADED = "loaded"
    LOADING = "loading"  # being loaded, or not tried yet (the server starts it at start-up)
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
        return _loaded[key]


def state(path: str | Path | None = None) -> ModelState:
    """Whether the model file is loaded, loading or unavailable; never loads it, nor waits
    for a load under way."""
    key = _key(path)
    if key in _loaded:
        return ModelState.LOADED
    return ModelState.UNAVAILABLE if key in _failed else ModelState.LOADING


def _key(path: str | Path | None) -> str:
    """The served file's key: the path given, or the configured model's."""
    return str(path or digit_model.model_path())


def preload() -> None:
    """Load the served model now, and compile the batch sizes numbers are read at, so that
    neither the first visit nor the first number written waits for TensorFlow.

    A missing or unreadable model is left for the page to report, with its fix.
    """
    with contextlib.suppress(digit_model.ModelUnavailable):
        shared_classifier().warm_up()
