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
"""

from __future__ import annotations

from functools import cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from .core import TTError
from .core.compare import Agreement

__all__ = ["GuardMetrics"]

_SECONDS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
_BYTES = (0, 256, 1024, 4096, 16384, 65536, 262144)
_UPSTREAM_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GuardMetrics:
    """The guards' metrics, registered in ``registry``; :meth:`default` gives the one shared
    instance on the default registry (a registry refuses the same metric twice)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.requests = Counter(
            "ttguard_requests", "Requests checked, by operation and verdict (accepted or the "
            "refusing subcode).", ["operation", "verdict"], registry=registry)
        self.disagreements = Counter(
            "ttguard_disagreements", "Verdicts that did not agree with the server's answer, "
            "by operation and kind.", ["operation", "kind"], registry=registry)
        self.check_seconds = Histogram(
            "ttguard_check_duration_seconds", "Time the core spent checking one request.",
            buckets=_SECONDS, registry=registry)
        self.body_bytes = Histogram(
            "ttguard_body_size_bytes", "Body bytes the core saw of one request.",
            buckets=_BYTES, registry=registry)
        self.upstream_seconds = Histogram(
            "ttguard_upstream_latency_seconds", "The gateway's wait for the upstream's "
            "response head.", buckets=_UPSTREAM_SECONDS, registry=registry)
        # Each labelled child, once: labels() takes a lock and builds a key on every call,
        # and the labels' values are bounded by the catalogue.
        self._verdicts: dict[tuple[str, int | None], Any] = {}
        self._kinds: dict[tuple[str, Agreement], Any] = {}

    @staticmethod
    @cache
    def default() -> GuardMetrics:
        """The instance registered in prometheus-client's default registry."""
        return GuardMetrics()

    def checked(self, operation: str, verdict: TTError | None, *, seconds: float,
                body_bytes: int) -> None:
        """Count one checked request with its verdict, time and body size."""
        subcode = None if verdict is None else verdict.subcode
        counter = self._verdicts.get((operation, subcode))
        if counter is None:
            counter = self._verdicts[operation, subcode] = self.requests.labels(
                operation, "accepted" if subcode is None else str(subcode))
        counter.inc()
        self.check_seconds.observe(seconds)
        self.body_bytes.observe(body_bytes)

    def compared(self, operation: str, agreement: Agreement) -> None:
        """Count a comparison with the server's answer, if it found a disagreement."""
        if agreement.is_disagreement:
            counter = self._kinds.get((operation, agreement))
            if counter is None:
                counter = self._kinds[operation, agreement] = self.disagreements.labels(
                    operation, agreement.value)
            counter.inc()
