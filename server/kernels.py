"""TensorFlow's kernels kept from one script run to the next, which Streamlit would clear.

After every script run, fragment runs included, Streamlit calls `keras.backend.clear_session()`
for apps that build a model in their script. That empties TensorFlow's kernel cache and
collects garbage, so the next stroke's network call builds its kernels again: about 4 ms of
a stroke's server work of 9. The page builds no model in its script (the one model is loaded
once per process and shared), so there is nothing for that clean-up to free.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import script_runner


def keep_kernels_between_runs() -> None:
    """Stop Streamlit clearing Keras's session, and with it TensorFlow's kernels, after each
    script run. Idempotent."""
    script_runner._clean_problem_modules = _keep_kernels


def _keep_kernels() -> None:
    """Streamlit's clean-up after a script run, in this app: Keras's session is left as it is,
    and the page draws no matplotlib figures to close."""
