"""Local tooling shared by the tests and the benchmarks: data sets, drawn digits and numbers,
pictures, and the page served for a real browser. Not part of the app."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
