"""Local tooling shared by the tests and the benchmarks: data sets, drawn digits and numbers,
pictures, and the page served for a real browser. Not part of the app."""

from digit_model import REPO_ROOT

__all__ = ["REPO_ROOT"]
