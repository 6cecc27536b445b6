"""Shared test helpers."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from ttguard import TTError

# CI runs on a loaded 2-core box: no property test may fail because an example, or drawing
# one, took longer there than on an idle machine. Each test's own @settings adds to this.
settings.register_profile("busy-machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("busy-machine")


def verdict(error: pytest.ExceptionInfo[TTError]) -> tuple[int, int, str]:
    """The parts of a TTError a test compares: status, subcode, description."""
    return error.value.status, error.value.subcode, error.value.description


#: A verdict as a test compares it: subcode and description, or None for an acceptance.
Answer = tuple[int, str] | None


def answer(error: TTError | None) -> Answer:
    """The parts of a returned verdict a test compares: subcode and description."""
    return None if error is None else (error.subcode, error.description)


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    """``body`` cut at each of ``cuts`` (taken modulo its length plus one): a chunking of it."""
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    edges = [0, *points, len(body)]
    return [body[start:end] for start, end in itertools.pairwise(edges)]


def cyclic_garbage(action: Callable[[], object], *kinds: type) -> list[object]:
    """The objects of ``kinds`` among the garbage the cyclic collector finds after ``action``:
    what reference counting alone did not free. Other threads of this process may add theirs
    meanwhile: pick ``kinds`` that only the action makes."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        action()
        gc.collect()
        return [found for found in gc.garbage if isinstance(found, kinds)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
