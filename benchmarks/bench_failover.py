"""How long a person waits when the replica holding their page dies.

    python benchmarks/bench_failover.py --rounds 5

Two replicas of `streamlit run webapp.py` behind nginx, run with deploy/'s configuration
(devtools/replicas.py), sharing a temporary SQLite file (one machine; the replica test uses
PostgreSQL). Each round opens the page in headless Chromium, draws a digit and waits for its
answer, kills the replica that holds the session (SIGKILL, as a crash would), and times how
long until the page says it reconnected and shows the answer again; then it starts the
killed replica again for the next round.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import expect, sync_playwright

import digit_model
import tabs.draw.one_digit
from devtools.datasets import mnist
from devtools.drawing import PLACEMENTS, find_clear_digits
from devtools.page import CHROMIUM, CHROMIUM_ARGS, start_page, stop_page
from devtools.replicas import load_balancer, replica_holding
from tests.support.browser import ANSWER_MS, FIRST_ANSWER_MS, draw, expect_answer, opened_page

RETURN_S = 11
SETTINGS = {"STREAMLIT_SERVER_COOKIE_SECRET": "bench-failover-cookie-secret-0123456789"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="replicas killed, one per round")
    arguments = parser.parse_args()

    digit = find_clear_digits(digit_model.load(), *mnist("test"))[3]
    workdir = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    database = f"sqlite:///{workdir / 'feedback.db'}"
    replicas, logs = {}, {}
    for name in ("one", "two"):
        log = workdir / f"{name}.log"
        server, url = start_page(log, database, SETTINGS)
        replicas[url], logs[url] = server, log
    waits = []
    try:
        with (
            load_balancer(workdir / "nginx", list(replicas)) as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for round_number in range(1, arguments.rounds + 1):
                with opened_page(browser, url, viewport={"width": 1000, "height": 1000}) as page:
                    draw(page, digit, *PLACEMENTS[0])
                    expect_answer(page, 3, timeout=FIRST_ANSWER_MS)
                    serving = replica_holding(page, logs)
                    os.kill(replicas[serving].pid, signal.SIGKILL)
                    died = time.monotonic()
                    toast = page.get_by_test_id("stToast")  # the page's announcer says it too
                    reconnected = toast.filter(has_text=tabs.draw.one_digit.RECONNECTED)
                    expect(reconnected).to_be_visible(timeout=ANSWER_MS)
                    expect_answer(page, 3)
                    waits.append(time.monotonic() - died)
                    print(f"round {round_number}: reconnected in {waits[-1]:.2f} s", flush=True)
                # Started again on the same port, where nginx's configuration names it.
                replicas[serving].wait()
                port = int(serving.rpartition(":")[2])
                logs[serving] = workdir / f"restarted-{round_number}.log"
                replicas[serving], _ = start_page(logs[serving], database, SETTINGS, port=port)
                # nginx leaves a replica that failed out for 10 s (deploy/replicas.conf); the
                # next round starts once it is back, as a replica's next crash would.
                time.sleep(RETURN_S)
            browser.close()
    finally:
        for server in replicas.values():
            if server.poll() is None:
                stop_page(server)
    print(
        f"\nfailover over {len(waits)} rounds: median {statistics.median(waits):.2f} s, "
        f"max {max(waits):.2f} s"
    )


if __name__ == "__main__":
    main()
