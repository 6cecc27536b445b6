"""The requests guard: :class:`GuardedSession`, a ``requests.Session`` that checks before sending.

Its transport adapter judges each *prepared* request (the method, URL and body bytes requests
would put on the wire) with :class:`~ttguard.clients.request_guard.RequestGuard`; a request the
Trusted Twin server would refuse raises :class:`~ttguard.TTError` from ``session.request()``
and no connection is opened. The official sync client takes one as it is::

    TTRESTService(tt_auth=key, session=GuardedSession())

Bodies as requests prepares them, judged as the bytes urllib3 sends (text as UTF-8): bytes,
bytearray, memoryview or str (``json=``, ``data=``) are checked in place; a file-like body,
binary or text, is read (up to the quota) and sent from where it was if it can seek; an
iterator of bytes or str (or a file that cannot seek) is consumed up to the quota plus one
chunk, then what was taken is sent in its place, followed by the rest of the original, framed
as requests framed it (``Content-Length`` or chunked).

With ``report_only`` every request is sent as requests would send it without the guard. The
status of each response is set beside the verdict; an error's small body is read for it
(``response.content``, kept for the caller) when a reporter or metrics want it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

from ..core import DEFAULT_MAX_BODY, TTError
from ..report import Reporter
from .request_guard import (
    DEFAULT_BASE_URL,
    ERROR_READ_SIZE,
    GuardedRequest,
    RequestGuard,
    content_length,
    take,
    wants_error_body,
)

if TYPE_CHECKING:  # prometheus-client is the metrics extra's, imported by whoever makes them
    from ..metrics import GuardMetrics

__all__ = ["GuardAdapter", "GuardedSession"]

_READ_SIZE = 65536


class _Replayed:
    """A response's raw stream whose first chunks were read already: they come first.

    requests reads a raw object without ``stream`` with ``read(size)`` (any size back is fine).
    """

    def __init__(self, chunks: Iterator[bytes], raw: Any) -> None:
        self._chunks = chunks
        self._raw = raw

    def read(self, size: int | None = None, **_: Any) -> bytes:
        return next(self._chunks, b"")

    def close(self) -> None:
        self._raw.close()

    def release_conn(self) -> None:
        self._raw.release_conn()


class GuardAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that raises the server's :class:`~ttguard.TTError` instead of sending
    a request the server would refuse (in report-only mode, sends it and logs the refusal)."""

    def __init__(self, guard: RequestGuard, **adapter_options: Any) -> None:
        super().__init__(**adapter_options)
        self.guard = guard

    def send(self, request: requests.PreparedRequest,  # type: ignore[override]
             **send_options: Any) -> requests.Response:
        try:
            check = self._check(request)
        except TTError as verdict:
            # Raised afresh from here: through the frames that hold the check, which keeps its
            # verdict, the traceback would close a cycle only the cyclic collector frees.
            raise verdict.with_traceback(None) from None
        if check is None:
            return super().send(request, **send_options)
        try:
            response = super().send(request, **send_options)
        except BaseException:
            check.answered(None)
            raise
        try:
            body = _error_body(response) if check.wants_answer() else None
        except requests.RequestException:
            check.answered(response.status_code)  # cut short: unreadable, and the caller's
            raise
        check.answered(response.status_code, body)
        return response

    def _check(self, request: requests.PreparedRequest) -> GuardedRequest | None:
        check = self.guard.begin(request.method or "GET", request.url or "", request.headers)
        if check is None:
            return None
        # The body as urllib3 sends it (urllib3.util.request.body_to_chunks, then
        # HTTPConnection.request): a file read in chunks, a str or anything with the buffer
        # protocol as one chunk, else an iterable's chunks; text encoded as UTF-8.
        body: Any = request.body
        if check.decided:  # from its headers alone: the body is neither read nor replaced
            check.body_ended()
        elif hasattr(body, "read"):
            start = _position(body)
            try:
                sent = check.stream(map(_encoded, _read(body)))
            finally:
                # A file that can seek is sent itself, from where it was, as requests would
                # (which may also rewind it, to follow a redirect); refused, it is left there.
                if start is not None:
                    body.seek(start)
            if start is None:
                request.body = sent
        elif body is None or _one_chunk(body):
            check.stream([b"" if body is None else _encoded(body)])  # sent as it is
        else:
            # The original is consumed up to the verdict: send what was taken, then the rest,
            # under the framing requests chose (the headers are left as they are).
            request.body = check.stream(map(_encoded, body))
        return check


def _one_chunk(body: Any) -> bool:
    """Whether urllib3 sends ``body`` as a single chunk: a str, or any object with the buffer
    protocol (bytes, bytearray, memoryview, an array: :func:`_encoded` gives the core its
    bytes)."""
    if isinstance(body, str):
        return True
    try:
        memoryview(body)
    except TypeError:
        return False
    return True


def _encoded(chunk: Any) -> Any:
    """A chunk as urllib3 puts it on the wire: a str as its UTF-8 bytes, any other buffer as its
    bytes (an array's items may be wider), anything else as is, for the core to name."""
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytes, bytearray)):
        return chunk
    try:
        return memoryview(chunk).cast("B")
    except TypeError:
        return chunk


def _read(file: Any) -> Iterator[Any]:
    """A file body's chunks, ``bytes`` or, from a text file, ``str``, until one is empty."""
    while chunk := file.read(_READ_SIZE):
        yield chunk


def _position(body: Any) -> int | None:
    """Where a file body stands, if it can seek back there."""
    try:
        return int(body.tell()) if body.seekable() else None
    except (AttributeError, OSError):
        return None


def _error_body(response: requests.Response) -> bytes | None:
    """A small error body, read and kept in the response for its caller; else ``None``."""
    declared = content_length(response.headers)
    if not wants_error_body(response.status_code, declared):
        return None
    if declared is not None:
        return response.content
    chunks = response.iter_content(ERROR_READ_SIZE)
    taken, ended = take(chunks)
    if ended:
        response._content = b"".join(taken)  # what .content would have kept
        return response.content
    response.raw = _Replayed(chain(taken, chunks), response.raw)
    return None


class GuardedSession(requests.Session):
    """A ``requests.Session`` that checks every Trusted Twin request before it is sent.

    ``base_url`` is the API's root (as the official client's ``tt_base``); requests to other
    URLs go on unchecked. ``max_body`` is the body quota in bytes. ``report_only`` sends every
    request as if ttguard were absent and only logs refusals; ``reporter`` records each
    disagreement with the server's answer, ``metrics`` counts verdicts and disagreements (see
    :class:`~ttguard.clients.request_guard.RequestGuard`). ``adapter_options`` go to requests'
    ``HTTPAdapter`` (``max_retries``, ``pool_maxsize``...).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, max_body: int = DEFAULT_MAX_BODY,
                 report_only: bool = False, reporter: Reporter | None = None,
                 metrics: GuardMetrics | None = None, **adapter_options: Any) -> None:
        super().__init__()
        guard = RequestGuard(base_url, max_body=max_body, report_only=report_only,
                             reporter=reporter, metrics=metrics)
        adapter = GuardAdapter(guard, **adapter_options)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
