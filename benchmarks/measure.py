"""Measuring: the median time of repeated runs, and the peak memory of one run."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

#: Each timed repeat runs the function often enough to last about this long.
REPEAT_SECONDS = 0.05


def _calibrated(function: Callable[[], Any], budget: float) -> int:
    """How many calls make one repeat of about ``budget`` seconds, after a warm-up as long.

    Caches, lazy imports and the interpreter's specialisation settle in the warm-up, not in
    the figures.
    """
    calls, started = 0, time.perf_counter()
    while calls == 0 or time.perf_counter() - started < budget:
        function()
        calls += 1
    once = (time.perf_counter() - started) / calls
    return max(1, int(budget / max(once, 1e-9)))


def medians(functions: Sequence[Callable[[], Any]], *, repeat: int = 7,
            budget: float = REPEAT_SECONDS) -> list[float]:
    """The median time of one call of each function, in seconds.

    The functions' repeats take turns, so that drift on the machine (this one is a shared VM)
    touches every figure of a comparison alike.
    """
    numbers = [_calibrated(function, budget) for function in functions]
    timings: list[list[float]] = [[] for _ in functions]
    for _ in range(repeat):
        for function, number, times in zip(functions, numbers, timings, strict=True):
            gc.collect()
            started = time.perf_counter()
            for _ in range(number):
                function()
            times.append((time.perf_counter() - started) / number)
    return [statistics.median(times) for times in timings]


def median_seconds(function: Callable[[], Any], *, repeat: int = 7,
                   budget: float = REPEAT_SECONDS) -> float:
    """The median time of one call of ``function``, in seconds."""
    return medians([function], repeat=repeat, budget=budget)[0]


def peak_bytes(function: Callable[[], Any]) -> int:
    """The peak of Python-allocated memory (tracemalloc) during one call, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
