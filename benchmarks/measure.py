"""Measuring: the median time of repeated runs, and the peak memory of one run."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

#: Each timed repeat runs the function often enough to last about this long.
REPEAT_SECONDS = 0.05


def median_seconds(function: Callable[[], Any], *, repeat: int = 7,
                   budget: float = REPEAT_SECONDS) -> float:
    """The median over ``repeat`` repeats of one call's time, in seconds.

    A warm-up of about one repeat comes first: caches, lazy imports and the interpreter's
    specialisation settle there, not in the figures.
    """
    calls, started = 0, time.perf_counter()
    while calls == 0 or time.perf_counter() - started < budget:
        function()
        calls += 1
    once = (time.perf_counter() - started) / calls
    number = max(1, int(budget / max(once, 1e-9)))
    timings = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        for _ in range(number):
            function()
        timings.append((time.perf_counter() - started) / number)
    return statistics.median(timings)


def peak_bytes(function: Callable[[], Any]) -> int:
    """The peak of Python-allocated memory (tracemalloc) during one call, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
