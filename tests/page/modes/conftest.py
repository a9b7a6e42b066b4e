"""The fixtures of the page's modes beyond one digit: the page under AppTest and a stand-in
canvas that hands each canvas, by key, a drawing of its own."""

from tests.support.page_modes import app, canvas  # noqa: F401 (fixtures)
