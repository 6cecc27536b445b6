"""Prometheus metrics of the guards, with ``prometheus-client`` (the ``metrics`` extra).

:class:`GuardMetrics` holds, registered in one registry (the default one unless told):

* ``ttguard_requests_total{operation, verdict}``: requests checked, ``verdict`` being
  ``accepted`` or the refusing subcode;
* ``ttguard_disagreements_total{operation, kind}``: verdicts set beside the server's answer
  that did not agree (:class:`ttguard.core.compare.Agreement`);
* ``ttguard_check_duration_seconds`` and ``ttguard_body_size_bytes``: histograms of the time
  the core spent on a request and of the body bytes it saw;
* ``ttguard_upstream_latency_seconds``: the gateway's wait for the upstream's response head.

Labels are operation names, subcodes and kinds only, never a path as sent: their number is
bounded by the catalogue, whatever the traffic. An application that serves the default
registry (``prometheus_client.make_asgi_app()`` at its own ``/metrics``) exposes them;
``ttguard serve --metrics-port`` serves them, summed over its workers (prometheus-client's
multiprocess mode).

Every checked request adds to the first and the two histograms after it. prometheus-client's
counter and histograms take a lock for each number they add: five a request, 3.6 us of it in the
middleware in front of a body-parsing app. So a process on its own keeps these three in plain
numbers under one lock (:class:`_CheckTally`, a collector read at scrape time: 1.6 us). A
collector of its own is not summed across processes, so in multiprocess mode (the environment
names ``PROMETHEUS_MULTIPROC_DIR`` when prometheus-client is imported, as in the workers of
``ttguard serve --workers``) they are prometheus-client's objects (:class:`_CheckObjects`).
Both expose the same samples, but for the objects' ``_created`` times.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator
from functools import cache
from typing import Any, Protocol

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, values
    from prometheus_client.metrics_core import (
        CounterMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
    from prometheus_client.utils import floatToGoString
except ImportError as error:  # the extra is not installed: say which one
    raise ImportError(f"ttguard.metrics needs prometheus-client: pip install 'ttguard[metrics]' "
                      f"({error})") from error

from .core import TTError
from .core.compare import Agreement

__all__ = ["GuardMetrics"]

_SECONDS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
_BYTES = (0, 256, 1024, 4096, 16384, 65536, 262144)
_UPSTREAM_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The metrics of the checks: name, help, and the buckets of each histogram.
_REQUESTS = ("ttguard_requests", "Requests checked, by operation and verdict (accepted or the "
             "refusing subcode).")
_VERDICT_LABELS = ("operation", "verdict")
_CHECK_SECONDS = ("ttguard_check_duration_seconds", "Time the core spent checking one request.",
                  _SECONDS)
_BODY_BYTES = ("ttguard_body_size_bytes", "Body bytes the core saw of one request.", _BYTES)


class _Checks(Protocol):
    """The counter of requests and the histograms of their checks, as the guards add to them."""

    def add(self, operation: str, subcode: int | None, seconds: float, body_bytes: int) -> None:
        """Count one request (``subcode`` None: accepted), its time and its body size."""


def _verdict(subcode: int | None) -> str:
    return "accepted" if subcode is None else str(subcode)


class _CheckObjects:
    """The checks' metrics as prometheus-client's objects, which its multiprocess mode sums."""

    def __init__(self, registry: CollectorRegistry) -> None:
        name, documentation = _REQUESTS
        self._requests = Counter(name, documentation, _VERDICT_LABELS, registry=registry)
        self._seconds, self._bytes = (
            Histogram(name, documentation, buckets=buckets, registry=registry)
            for name, documentation, buckets in (_CHECK_SECONDS, _BODY_BYTES))
        # Each labelled child, once: labels() takes a lock and builds a key on every call,
        # and the labels' values are bounded by the catalogue.
        self._children: dict[tuple[str, int | None], Any] = {}

    def add(self, operation: str, subcode: int | None, seconds: float, body_bytes: int) -> None:
        counter = self._children.get((operation, subcode))
        if counter is None:
            counter = self._children[operation, subcode] = self._requests.labels(
                operation, _verdict(subcode))
        counter.inc()
        self._seconds.observe(seconds)
        self._bytes.observe(body_bytes)


class _Histogram:
    """A histogram in plain numbers: the count in each bucket (not cumulative), and the sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: over every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Add one value (under its owner's lock). A value on a bound counts in its bucket
        ("le"): the first bound not below it."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def family(self, name: str, documentation: str) -> HistogramMetricFamily:
        """Its samples, as prometheus-client's :class:`Histogram` exposes them."""
        total, buckets = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += count
            buckets.append((floatToGoString(bound), total))  # type: ignore[no-untyped-call]
        return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=self.sum)


class _CheckTally:
    """The checks' metrics in plain numbers under one lock, read by the registry at scrape time
    (a collector): one lock a request, where prometheus-client's objects take five."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, int | None], int] = {}
        self._seconds = _Histogram(_CHECK_SECONDS[2])
        self._bytes = _Histogram(_BODY_BYTES[2])
        registry.register(self)

    def add(self, operation: str, subcode: int | None, seconds: float, body_bytes: int) -> None:
        key = operation, subcode
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            self._seconds.observe(seconds)
            self._bytes.observe(body_bytes)

    def collect(self) -> Iterator[Metric]:
        """The samples, as prometheus-client's objects expose them (but for their ``_created``
        times)."""
        with self._lock:
            requests = CounterMetricFamily(*_REQUESTS, labels=_VERDICT_LABELS)
            for (operation, subcode), count in self._requests.items():
                requests.add_metric((operation, _verdict(subcode)), count)
            histograms = (self._seconds.family(*_CHECK_SECONDS[:2]),
                          self._bytes.family(*_BODY_BYTES[:2]))
        yield requests
        yield from histograms

    def describe(self) -> Iterator[Metric]:
        """The metrics' names, for the registry's check that no two collectors share one."""
        yield CounterMetricFamily(*_REQUESTS, labels=_VERDICT_LABELS)
        for name, documentation, _ in (_CHECK_SECONDS, _BODY_BYTES):
            yield HistogramMetricFamily(name, documentation)


def _summed_across_processes() -> bool:
    """Whether prometheus-client is in multiprocess mode: whether its objects keep their values
    in files (chosen on its import, from the environment), not in memory."""
    return values.ValueClass is not values.MutexValue


class GuardMetrics:
    """The guards' metrics, registered in ``registry``; :meth:`default` gives the one shared
    instance on the default registry.

    A registry takes each metric once: a second ``GuardMetrics`` on the same registry (the
    default one, say, after :meth:`default`) is a ``ValueError``.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        try:
            self._checks: _Checks = (_CheckObjects(registry) if _summed_across_processes()
                                     else _CheckTally(registry))
            self.disagreements = Counter(
                "ttguard_disagreements", "Verdicts that did not agree with the server's answer, "
                "by operation and kind.", ["operation", "kind"], registry=registry)
            self.upstream_seconds = Histogram(
                "ttguard_upstream_latency_seconds", "The gateway's wait for the upstream's "
                "response head.", buckets=_UPSTREAM_SECONDS, registry=registry)
        except ValueError as duplicate:  # prometheus-client's DuplicateTimeseries
            raise ValueError(
                "the ttguard metrics are already registered in this registry: share one "
                "GuardMetrics (GuardMetrics.default() for prometheus-client's default registry) "
                "or give each a CollectorRegistry of its own") from duplicate
        self._kinds: dict[tuple[str, Agreement], Any] = {}

    @staticmethod
    @cache
    def default() -> GuardMetrics:
        """The instance registered in prometheus-client's default registry."""
        return GuardMetrics()

    def checked(self, operation: str, verdict: TTError | None, *, seconds: float,
                body_bytes: int) -> None:
        """Count one checked request with its verdict, time and body size."""
        self._checks.add(operation, None if verdict is None else verdict.subcode, seconds,
                         body_bytes)

    def compared(self, operation: str, agreement: Agreement) -> None:
        """Count a comparison with the server's answer, if it found a disagreement."""
        if agreement.is_disagreement:
            counter = self._kinds.get((operation, agreement))
            if counter is None:
                counter = self._kinds[operation, agreement] = self.disagreements.labels(
                    operation, agreement.value)
            counter.inc()
