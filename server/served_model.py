"""The model this server process serves: which file, loaded once and shared.

The page (through `st.cache_resource`) and the HTTP API both take their classifier from
`shared_classifier`, so one `streamlit run webapp.py` process holds one copy of the model
whichever of them asks first. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import digit_model

_loaded: dict[str, digit_model.Classifier] = {}
_loading = threading.Lock()


def shared_classifier(path: str | Path | None = None) -> digit_model.Classifier:
    """The classifier for a model file, loaded on first use and then shared by every caller.

    Raises digit_model.ModelUnavailable, and loads again on the next call, when the file is
    missing or unreadable. Callers on other threads wait for a load under way.
    """
    key = str(path or digit_model.model_path())
    with _loading:
        if key not in _loaded:
            _loaded[key] = digit_model.load(key)
        return _loaded[key]


def preload() -> None:
    """Load the served model now, so that the first visit does not wait for TensorFlow.

    A missing or unreadable model is left for the page to report, with its fix.
    """
    with contextlib.suppress(digit_model.ModelUnavailable):
        shared_classifier()
