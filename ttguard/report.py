"""What ttguard decided, written down: disagreements with the server, and refused requests.

Shared by the adapters that see requests go by (the ASGI middleware and gateway, the client
guards); it imports the core and nothing of theirs.

* :class:`Reporter` writes **one JSON line per disagreement** between ttguard's verdict and the
  server's answer (:mod:`ttguard.core.compare`) to a file or a logger the user names: the time,
  the kind, the operation, the method, the operation's path *template*, ttguard's subcode and
  description, and the server's status, subcode, description and trace. Never a header (so
  never ``Authorization``), and never the path as sent, the query or the body unless the user
  opts in with ``include_values``: they may hold secrets and IDs.
* :func:`log_refusal` logs **one structured record per refused request** on the ``ttguard``
  logger (stdlib ``logging``), with the same fields in ``extra``; :class:`JsonFormatter` writes
  any record, those fields included, as one JSON line (``ttguard serve --log-format json``).
* :func:`settle` is what every adapter does once a checked request is over: the refusal logged,
  the verdict counted, and the verdict set beside the server's answer, if one was seen;
  :func:`check_recorders` is what it does when it is made, so that a wrong ``reporter`` or
  ``metrics`` fails there, not on the first request it would record.

Writing a record takes a lock, so one reporter serves many threads; a failure to write is
logged, never raised into the request it describes.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .core import TTError, operations
from .core.compare import Agreement, Answer, compare

if TYPE_CHECKING:  # prometheus-client is the metrics extra's, imported by whoever makes them
    from .metrics import GuardMetrics

__all__ = ["JsonFormatter", "Reporter", "check_recorders", "log_refusal", "logger", "settle"]

logger = logging.getLogger("ttguard")
#: The ``extra`` fields of ttguard's log records, which :class:`JsonFormatter` writes out.
_FIELDS = ("operation", "method", "path_template", "subcode", "description", "report_only")


def _template(operation: str) -> str:
    return operations()[operation].path


def log_refusal(error: TTError, *, operation: str | None, method: str,
                report_only: bool = False) -> None:
    """Log a refused request (``INFO``, logger ``ttguard``): what was refused and why."""
    if not logger.isEnabledFor(logging.INFO):
        return
    template = _template(operation) if operation else None
    logger.info("%s %s refused%s: %d %s", method, template or "-",
                " (report only: forwarded)" if report_only else "", error.subcode,
                error.description,
                extra={"operation": operation, "method": method, "path_template": template,
                       "subcode": error.subcode, "description": error.description,
                       "report_only": report_only})


class JsonFormatter(logging.Formatter):
    """Formats a log record as one JSON object: time, level, logger, message, ttguard's fields,
    and the exception if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        entry.update({name: getattr(record, name) for name in _FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class Reporter:
    """Writes one JSON line per disagreement between ttguard and the server.

    ``records`` is where: a path (appended to, created if missing), an open text stream, or a
    :class:`logging.Logger` (one ``WARNING`` record per line). ``include_values`` also writes
    the path as sent with its query, and the body as text (off by default).

    >>> import io
    >>> stream = io.StringIO()
    >>> reporter = Reporter(stream)
    """

    def __init__(self, records: str | Path | TextIO | logging.Logger, *,
                 include_values: bool = False) -> None:
        if not isinstance(records, (str, Path, logging.Logger)) and not _is_text_stream(records):
            # Else taken here, and failing on the first record, inside a request.
            raise TypeError(f"records is where to write: a path (str or pathlib.Path), a text "
                            f"stream or a logging.Logger, not {type(records).__name__}")
        self.include_values = include_values
        self._lock = threading.Lock()
        self._logger = records if isinstance(records, logging.Logger) else None
        self._owned = isinstance(records, (str, Path))
        self._stream: TextIO | None = None
        if isinstance(records, (str, Path)):
            self._stream = open(records, "a", encoding="utf-8")  # noqa: SIM115 (lives with self)
        elif not isinstance(records, logging.Logger):
            self._stream = records

    def record(self, kind: Agreement, *, operation: str, method: str, verdict: TTError | None,
               answer: Answer, target: str | None = None,
               body: bytes | None = None) -> dict[str, Any]:
        """Write the record of one disagreement, and return it."""
        entry: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(), "kind": kind.value,
            "operation": operation, "method": method, "path_template": _template(operation),
            "ttguard": None if verdict is None else {"subcode": verdict.subcode,
                                                     "description": verdict.description},
            "server": answer._asdict()}
        if self.include_values:
            entry["target"] = target
            entry["body"] = None if body is None else body.decode("utf-8", "replace")
        line = json.dumps(entry, ensure_ascii=False)
        try:
            with self._lock:
                if self._logger is not None:
                    self._logger.warning(line)
                elif self._stream is not None:
                    self._stream.write(line + "\n")
                    self._stream.flush()
        except (OSError, ValueError) as failure:  # a full disk, a closed stream
            logger.error("could not write a disagreement record: %s", failure)
        return entry

    def close(self) -> None:
        """Close the file this reporter opened (a stream or logger given to it stays open)."""
        if self._owned and self._stream is not None:
            self._stream.close()


def _is_text_stream(records: object) -> bool:
    # Any object with a write() will do (a test's capture, a logging handler's stream), but not
    # a binary stream: its write() refuses the str of each record.
    # A wrapper (tempfile's) is neither, but says its mode.
    return (callable(getattr(records, "write", None))
            and not isinstance(records, (io.RawIOBase, io.BufferedIOBase))
            and "b" not in str(getattr(records, "mode", "")))


def check_recorders(reporter: object, metrics: object) -> None:
    """``TypeError`` unless ``reporter`` is a :class:`Reporter` and ``metrics`` a
    :class:`ttguard.metrics.GuardMetrics`, each or both ``None``: what an adapter checks when it
    is made, since it would use them only on the requests it records."""
    if reporter is not None and not isinstance(reporter, Reporter):
        raise TypeError(f"reporter must be a ttguard.report.Reporter, e.g. "
                        f"Reporter('x.jsonl'), not {type(reporter).__name__}")
    # Looked up, not imported: prometheus-client is the metrics extra's, and GuardMetrics made
    # means ttguard.metrics imported.
    made_by = sys.modules.get("ttguard.metrics")
    if metrics is not None and (made_by is None or not isinstance(metrics, made_by.GuardMetrics)):
        raise TypeError(f"metrics must be a ttguard.metrics.GuardMetrics, e.g. "
                        f"GuardMetrics.default(), not {type(metrics).__name__}")


def settle(verdict: TTError | None, *, operation: str, method: str, report_only: bool,
           seconds: float, body_bytes: int, answer: Answer | None,
           values: Callable[[], tuple[str, bytes | None]], reporter: Reporter | None,
           metrics: GuardMetrics | None, body_judged: bool = True) -> None:
    """A checked request is over: log its refusal, count its verdict (``seconds`` in the core,
    ``body_bytes`` seen), and, if the server's ``answer`` was seen, set the two side by side:
    counted, and recorded where they disagree. ``values`` gives the request's target and body
    (``None`` if not whole) for a record with values; it is asked only then, since the target
    is built and the body copied for it: a request that is only counted pays for neither.
    ``body_judged`` false: the verdict covers the path and query alone (:func:`compare`).
    """
    if verdict is not None:
        log_refusal(verdict, operation=operation, method=method, report_only=report_only)
    if metrics is not None:
        metrics.checked(operation, verdict, seconds=seconds, body_bytes=body_bytes)
    if answer is None:
        return
    agreement = compare(verdict, answer, body_judged=body_judged)
    if metrics is not None:
        metrics.compared(operation, agreement)
    if reporter is not None and agreement.is_disagreement:
        target, body = values() if reporter.include_values else (None, None)
        reporter.record(agreement, operation=operation, method=method, verdict=verdict,
                        answer=answer, target=target, body=body)
