"""Draw a digit and the page reads it on every stroke; tell it the digit you meant.

    streamlit run webapp.py

One page in tabs: "Draw" (canvas, answer, probabilities, what the model sees, and one click
to confirm or correct the answer; or a whole number on a wider canvas, or a photo of
handwriting; and on request, which strokes drove the answer), "History" (the labelled
drawings, accuracy, downloads) and "Model card" (how the model was built and how well it
does). Each tab is a module of `tabs/`; this file sets up the page, loads the model and
lays out the tabs, and makes the server app, which also answers the HTTP API of
`server.api`. Computing lives in `reading`, `preprocess` and `digit_model`, feedback in
`feedback`, chart specs in `tabs.charts`.
"""

from __future__ import annotations

import functools
import gc
import threading

import streamlit as st
from starlette.middleware import Middleware

import digit_model
from feedback import downloads
from server import api, deadlines, kernels, no_delay, openapi, readiness, session_log
from server.cache_clearing import CacheClearingForDevelopers
from server.reconnects import WholeRunFirst
from server.request_framing import OneBodyLength
from server.security_headers import SecurityHeaders
from server.served_model import figures, preload, shared_classifier
from server.visitor_cookie import VisitorCookie
from tabs import history, model_card
from tabs.draw import draw_section
from tabs.draw.page_head import PAGE_HEAD, SUBTITLE_KEY, TITLE_KEY

TAB_KEY = "page_tab"
TITLE = "✏️ Digit reader"
# Above the tabs, the same whatever the tab and mode (nothing under it moves), and two lines
# on a phone at most.
SUBTITLE = "Draw a digit or a number, or upload a photo of one: a small network reads each digit."


@st.cache_resource(show_spinner="Loading the digit model…")
def load_classifier(path: str) -> digit_model.Classifier:
    """The model, loaded once per server process and shared by every session, every stroke
    and the HTTP API."""
    classifier = shared_classifier(path)
    # After every run, fragment runs included, Streamlit clears Keras's session, which empties
    # TensorFlow's kernel cache: the next stroke would build the network's kernels again.
    kernels.keep_kernels_between_runs()
    # With TensorFlow loaded a full garbage collection walks ~350k objects and holds the
    # interpreter for a few hundred ms, and Python makes one now and then (Streamlit's own,
    # after every run, is turned off in .streamlit/config.toml). The objects alive now
    # (modules, the model) stay for the life of the process, so take them out of its sight.
    gc.freeze()
    return classifier


def main() -> None:
    """The page: title, the model's state, then one tab per section."""
    st.set_page_config(page_title="Digit reader", page_icon="✏️")
    session_log.log_session_start()
    # First, so that the script is in place before a canvas's own code has drawn anything.
    # One element: a style on its own would go out as a page event, and the next event (a
    # toast from a fragment run) would take it off the page.
    st.html(PAGE_HEAD, unsafe_allow_javascript=True)
    with st.container(key=TITLE_KEY):
        st.title(TITLE)
    with st.container(key=SUBTITLE_KEY):
        st.caption(SUBTITLE)
    path = digit_model.model_path()
    try:
        classifier = load_classifier(str(path))
    except digit_model.ModelUnavailable as error:
        st.error(str(error), icon="🚫")
        classifier = None

    # Switching tabs reruns the page, so a tab's content is built only while it is open and
    # History is read afresh each time it is opened. Draw is built every time: the canvas
    # keeps its drawing only while it stays on the page.
    draw_tab, history_tab, model_card_tab = st.tabs(
        ["Draw", "History", "Model card"], key=TAB_KEY, on_change="rerun"
    )
    with draw_tab:
        draw_section(classifier)
    with history_tab:
        if history_tab.open:
            history.history_section()
    with model_card_tab:
        if model_card_tab.open:
            model_card.model_card_section(path, functools.partial(figures, path))


if __name__ == "__main__":
    main()
else:
    # `streamlit run webapp.py` finds this app, serves it (the page, the HTTP API, the
    # readiness check and the History tab's downloads on one port, every response with the
    # security headers, the page with a visitor cookie for a browser that has none, and a
    # page that reconnected after its server went away run whole) and runs this file as the
    # page's script for every session. The routes find the feedback database as the page
    # does, from the environment or secrets.
    # uvicorn, which serves the app, sets no deadline for a request's headers: give it one.
    deadlines.bound_header_time()
    # Nor, on the socket Streamlit binds, does it send an answer's body without waiting.
    no_delay.send_without_delay()
    endpoints = [*api.ROUTES, *readiness.routes(st.secrets), openapi.ROUTE]
    routes = [*endpoints, *api.rest_of_api(endpoints), *downloads.routes(st.secrets)]
    app = st.App(
        __file__,
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(OneBodyLength),
            Middleware(VisitorCookie),
            Middleware(WholeRunFirst),
            Middleware(CacheClearingForDevelopers),
        ],
    )
    # TensorFlow's import and the model's load take seconds: start them while the server
    # starts, instead of on the first visit.
    # Not a daemon: the interpreter waits for it at exit, never ends TensorFlow mid-load.
    threading.Thread(target=preload, name="model-preload").start()
