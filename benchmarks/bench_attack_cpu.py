"""Issue 71, finding 2: what the costliest pictures an attacker can make take from everyone
else. Normal API clients alone, then beside attackers.

    python benchmarks/bench_attack_cpu.py [--seconds 25] [--clients 4] [--attackers 2]

Starts `streamlit run webapp.py` on a free loopback port (labels to a scratch SQLite file)
and waits until /api/ready says ready. Each normal client sends digits drawn alone (280x280
canvas PNGs of MNIST test digits) to POST /api/predict one after another over a keep-alive
connection, and one simulated person draws on the page's one-digit canvas, a stroke a
second, over its WebSocket (`devtools.simulated_sessions`). They run `--seconds` alone, then
as long again while each attacker sends, back to back and without heeding Retry-After, the
costliest pictures of `devtools.costly_pictures`, each of other digits so that nothing read
before is reused: many groups of touching digits and a 30-digit number of touching digits
in number mode, and 300 digits sent as one digit. Attackers connect from a loopback address
of their own (ATTACKER_ADDRESS), as other machines would: the server tells clients apart by
address, and holds back one that ignores its Retry-After.

Prints, for each run, the normal clients' answers (and the share of those they got alone)
with their p50 and p99, the page's stroke answers with their p50 and p99, and what the
attackers got back, by status. The target: at least 80 % of the answers kept, and a p99
under 500 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from devtools.canvas_json import simulated_drawings
from devtools.costly_pictures import long_touching_number, many_digits, touching_groups
from devtools.datasets import mnist
from devtools.page import served_page
from devtools.pictures import png
from devtools.simulated_sessions import Load
from training.canvas_drawings import random_drawings

PICTURES_EACH = 6  # costly pictures of each kind an attacker cycles through
READY_S = 300  # the most the server may take to load and compile the model
STROKE_INTERVAL_S = 1.0  # the simulated person's pace on the page
ATTACKER_ADDRESS = "127.0.0.2"  # where attackers connect from; normal clients from 127.0.0.1


class Client(threading.Thread):
    """One program sending pictures over a keep-alive connection until told to stop: the
    status and milliseconds of each answer."""

    def __init__(
        self,
        url: str,
        requests: list[tuple[bytes, str]],
        stop: threading.Event,
        source: str = "127.0.0.1",
    ):
        super().__init__(daemon=True)
        self.address = urlsplit(url)
        self.requests, self.stop, self.source = requests, stop, source
        self.answers: list[tuple[int, float]] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection(
            self.address.hostname, self.address.port, 120, source_address=(self.source, 0)
        )
        index = 0
        while not self.stop.is_set():
            data, mode = self.requests[index % len(self.requests)]
            index += 1
            started = time.perf_counter()
            try:
                connection.request(
                    "POST", f"/api/predict?mode={mode}", data, {"Content-Type": "image/png"}
                )
                response = connection.getresponse()
                json.loads(response.read())
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()  # the next request opens a new connection
                status = 0
            self.answers.append((status, (time.perf_counter() - started) * 1000))
        connection.close()


def percentiles(milliseconds: list[float]) -> str:
    if not milliseconds:
        return "p50 -, p99 -"
    p50, p99 = np.percentile(milliseconds, [50, 99])
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"


def attack_pictures(images: np.ndarray, seed: int) -> list[tuple[bytes, str]]:
    """An attacker's pictures, the three kinds in turn, each of other digits."""
    rng = np.random.default_rng(seed)
    pictures = []
    for _ in range(PICTURES_EACH):
        pictures.append((touching_groups(images, rng), "number"))
        pictures.append((long_touching_number(images, rng, digits=30, touch=1.0), "number"))
        pictures.append((many_digits(images, rng), "digit"))
    return pictures


def run(url: str, seconds: float, normal: list, attacks: list, load: Load) -> dict:
    """Normal clients (and attackers) for `seconds`: what each got back."""
    stop = threading.Event()
    clients = [Client(url, requests, stop) for requests in normal]
    attackers = [Client(url, requests, stop, ATTACKER_ADDRESS) for requests in attacks]
    start = time.perf_counter()
    for client in clients + attackers:
        client.start()
    time.sleep(seconds)
    stop.set()
    end = time.perf_counter()
    for client in clients + attackers:
        client.join(timeout=120)
    answers = [answer for client in clients for answer in client.answers]
    return {
        "answered": [ms for status, ms in answers if status == 200],
        "refused": Counter(status for status, _ in answers if status != 200),
        "attacks": Counter(status for client in attackers for status, _ in client.answers),
        "strokes": [answer.seconds * 1000 for answer in load.between(start, end)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--attackers", type=int, default=2)
    args = parser.parse_args()

    images, labels = mnist("test")
    digits = [png(rgba) for rgba, _, _ in random_drawings(images[:40], labels[:40], seed=5)]
    normal = [[(data, "digit") for data in digits[k:] + digits[:k]] for k in range(args.clients)]
    attacks = [attack_pictures(images, seed) for seed in range(args.attackers)]

    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "server.log"
        with served_page(log, f"sqlite:///{scratch}/feedback.db") as url:
            deadline = time.monotonic() + READY_S
            while time.monotonic() < deadline:
                connection = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port)
                connection.request("GET", "/api/ready")
                if connection.getresponse().status == 200:
                    break
                time.sleep(1)
            load = Load(url, simulated_drawings(60, seed=7), STROKE_INTERVAL_S, seed=7)
            try:
                load.grow_to(1)
                alone = run(url, args.seconds, normal, [], load)
                attacked = run(url, args.seconds, normal, attacks, load)
            finally:
                load.close()

    print(
        f"{os.cpu_count()} CPUs; {args.clients} normal clients, {args.seconds:g} s each run; "
        f"{args.attackers} attackers"
    )
    for name, result in (("alone", alone), ("attacked", attacked)):
        kept = len(result["answered"]) / max(1, len(alone["answered"]))
        print(
            f"{name:>9}: {len(result['answered'])} answers ({kept:.0%} of alone), "
            f"{percentiles(result['answered'])}; other answers {dict(result['refused'])}; "
            f"page strokes {len(result['strokes'])}, {percentiles(result['strokes'])}"
        )
    print(f"attackers got: {dict(attacked['attacks'])}")


if __name__ == "__main__":
    main()
