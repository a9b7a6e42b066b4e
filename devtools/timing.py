"""How every benchmark times a call and sums up the times: one warm-up rule, one p90."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence


def timed(
    call: Callable, inputs: Sequence, runs: int | None = None, warm_up: int = 5
) -> list[float]:
    """Milliseconds of each of `runs` calls of `call` (default: one per input), cycling over
    `inputs`, after `warm_up` untimed calls that compile and fill caches."""
    for item in inputs[:warm_up]:
        call(item)
    times = []
    for run in range(len(inputs) if runs is None else runs):
        item = inputs[run % len(inputs)]
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def timed_in_turn(
    calls: dict[str, tuple[Callable, Sequence, int]], warm_up: int = 5
) -> dict[str, list[float]]:
    """Milliseconds of each named call, (call, inputs, runs), timed in turn round after round
    rather than one call's runs after another's: a call with fewer runs is timed in evenly
    spaced rounds. Every call then meets the same moments of a machine whose speed drifts
    from one second to the next, so their figures compare within the run."""
    for call, inputs, _ in calls.values():
        for item in inputs[:warm_up]:
            call(item)
    rounds = max(runs for _, _, runs in calls.values())
    times: dict[str, list[float]] = {name: [] for name in calls}
    for turn in range(rounds):
        for name, (call, inputs, runs) in calls.items():
            if (turn + 1) * runs // rounds == turn * runs // rounds:
                continue  # not this call's round
            item = inputs[len(times[name]) % len(inputs)]
            started = time.perf_counter()
            call(item)
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def p50_p90(times: Sequence[float]) -> tuple[float, float]:
    """The median and the 90th percentile of `times`, in their unit; NaN for no times."""
    if not times:
        return math.nan, math.nan
    if len(times) == 1:
        return times[0], times[0]
    return statistics.median(times), statistics.quantiles(times, n=10)[-1]
