"""Local tooling shared by the tests and the benchmarks: data sets, drawn digits and numbers,
what the canvas sends, pictures, the page served for a real browser, simulated sessions,
replicas behind nginx, timing and /proc's CPU and memory figures, and the API reference
written from the OpenAPI document. Not part of the app."""

from digit_model import REPO_ROOT

__all__ = ["REPO_ROOT"]
