"""What one HTTP request for a digit costs: POST /api/predict on loopback beside the same
reading in process.

    python benchmarks/bench_api.py [--requests 200]

Starts `streamlit run webapp.py` on a free loopback port (labels to a scratch SQLite file),
then sends canvas-style drawings of MNIST test digits, 280x280 PNGs, one after another,
timing each from opening the connection (or sending the first byte) to the JSON parsed:
once with a new connection per request, as curl and urllib do, and once over one keep-alive
connection, as an HTTP session does. The baseline in the same run: `reading.read_image_bytes`
on the same PNGs in this process, which is the work the server does for each request
(decode, ink, 28x28 input, model).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_beyond import report

import digit_model
from devtools.datasets import mnist
from devtools.page import served_page
from devtools.pictures import png
from devtools.timing import timed
from reading import read_image_bytes
from training.canvas_drawings import random_drawings

WARM_UP = 5


def post_timings(url: str, pictures: list[bytes], requests: int, keep_alive: bool) -> list[float]:
    """Milliseconds per POST /api/predict; any answer but 200 stops it."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    times = []
    for index in range(WARM_UP + requests):
        data = pictures[index % len(pictures)]
        started = time.perf_counter()
        if not keep_alive:
            connection.close()  # the next request opens a new connection
        connection.request("POST", "/api/predict", data, {"Content-Type": "image/png"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"POST /api/predict answered {response.status}: {answer}")
        if index >= WARM_UP:
            times.append(elapsed)
    connection.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    images, labels = mnist("test")
    pictures = [png(rgba) for rgba, _, _ in random_drawings(images[:50], labels[:50], seed=5)]
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "server.log"
        with served_page(log, f"sqlite:///{scratch}/feedback.db") as url:
            fresh = post_timings(url, pictures, args.requests, keep_alive=False)
            kept = post_timings(url, pictures, args.requests, keep_alive=True)
    classifier = digit_model.load()
    in_process = timed(
        lambda picture: read_image_bytes(classifier, picture), pictures, args.requests
    )

    rows = {
        "POST /api/predict, new connection each": fresh,
        "POST /api/predict, one keep-alive conn.": kept,
        "baseline: read_image_bytes in process": in_process,
    }
    print(f"{os.cpu_count()} CPUs, {args.requests} runs")
    report(rows)


if __name__ == "__main__":
    main()
