"""What every outgoing guard shares: which requests are Trusted Twin operations, their check,
and the comparison of the verdict with the server's answer.

A client guard sees a request as its HTTP library is about to send it: a method, a URL and the
body bytes the library serialised. :class:`RequestGuard` decides whether the URL lies under the
API's base URL and names an operation; if so, :meth:`RequestGuard.begin` opens a
:class:`GuardedRequest`, which checks path, query and body with the core, as the server would,
on the very bytes that would go over the wire. A request to any other host, or to a path that
names no operation, is none of its business and goes on unchecked.

A body under a ``Content-Encoding`` (gzip, aiohttp's ``compress=``) is not judged: the server
may or may not decode it, so only its method, path and query are (:meth:`RequestGuard.begin`).
Any other body is fed to the check as the library would send it: bytes as one chunk, a stream (an
iterator of chunks) pulled no further than the verdict needs, so an oversized one is judged
after the quota plus one chunk. The chunks taken are kept (by reference, never more than the
quota plus one chunk) and :meth:`GuardedRequest.stream` hands back what the library must send
in the stream's place: those chunks, then the rest of the original stream, pulled lazily. So an
accepted stream is sent whole, and in report-only mode any stream is, whatever the verdict.

Enforcing (the default), a refusal raises the server's :class:`~ttguard.TTError` and nothing is
sent. With ``report_only`` the verdict is reached the same way but the request goes on as if
ttguard were absent. Either way a refusal is logged (:func:`ttguard.report.log_refusal`), and
once the response is seen, :meth:`GuardedRequest.answered` sets the verdict beside the server's
answer (:mod:`ttguard.core.compare`): ``metrics`` count both, ``reporter`` records each
disagreement. Only an error's body is read, and only a small one (:func:`wants_error_body`,
:data:`~ttguard.core.compare.MAX_ERROR_BODY`); a success streams on untouched.
"""

from __future__ import annotations

import logging
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from itertools import chain
from time import perf_counter
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..core import DEFAULT_MAX_BODY, Route, StreamValidator, TTError, resolve
from ..core.compare import MAX_ERROR_BODY, read_answer
from ..core.stream import check_size
from ..core.stream import declares_encoding as encoded
from ..report import Reporter, check_recorders, log_refusal, settle

if TYPE_CHECKING:  # prometheus-client is the metrics extra's, imported by whoever makes them
    from ..metrics import GuardMetrics

__all__ = ["DEFAULT_BASE_URL", "ERROR_READ_SIZE", "GuardedRequest", "RequestGuard", "achain",
           "atake", "content_length", "declares_encoding", "take", "wants_error_body"]

#: Where the official client sends its requests (``TTRESTService(tt_base=None)``).
DEFAULT_BASE_URL = "https://rest.trustedtwin.com"

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: An error body of unknown length is read in chunks this small, so that :func:`take` passes
#: ``MAX_ERROR_BODY`` by little.
ERROR_READ_SIZE = 4096

logger = logging.getLogger("ttguard")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is no number: no origin of ours
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def content_length(headers: Mapping[str, str | bytes]) -> int | None:
    """The ``Content-Length`` a library declared, or ``None`` if it set none (or not a number)."""
    for name, value in headers.items():
        if name.lower() == "content-length":
            digits = value.strip()
            return int(digits) if digits.isdigit() else None
    return None


def declares_encoding(headers: Mapping[str, str | bytes]) -> bool:
    """Whether a request declares a ``Content-Encoding`` other than ``identity`` (gzip, or
    aiohttp's ``compress=``): then its body is not judged (:meth:`RequestGuard.begin`,
    :func:`ttguard.core.stream.declares_encoding`)."""
    return encoded(value for name, value in headers.items()
                   if name.lower() == "content-encoding")


def wants_error_body(status: int, declared_length: int | None) -> bool:
    """Whether a response's body is worth reading to know the answer: an error status, and a
    body that declares no length or one of at most ``MAX_ERROR_BODY`` bytes."""
    return status >= 400 and (declared_length is None or declared_length <= MAX_ERROR_BODY)


def take(chunks: Iterator[bytes], limit: int = MAX_ERROR_BODY) -> tuple[list[bytes], bool]:
    """Pull chunks until they hold more than ``limit`` bytes (at most ``limit`` plus the chunk
    that passes it) or end: the chunks, and whether they ended. Whoever reads a response's body
    this way hands these chunks on, then the rest."""
    taken: list[bytes] = []
    size = 0
    for chunk in chunks:
        taken.append(chunk)
        size += len(chunk)
        if size > limit:
            return taken, False
    return taken, True


async def atake(chunks: AsyncIterator[bytes],
                limit: int = MAX_ERROR_BODY) -> tuple[list[bytes], bool]:
    """:func:`take` for an async stream of chunks."""
    taken: list[bytes] = []
    size = 0
    async for chunk in chunks:
        taken.append(chunk)
        size += len(chunk)
        if size > limit:
            return taken, False
    return taken, True


async def achain(taken: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The chunks ``taken`` from an async stream, then its ``rest``: the stream whole again."""
    for chunk in taken:
        yield chunk
    async for chunk in rest:
        yield chunk


class RequestGuard:
    """Checks the outgoing requests addressed to the Trusted Twin API under ``base_url``.

    ``base_url`` is the API's root, as given to the official client's ``tt_base``
    (``https://rest.trustedtwin.com`` by default; it may carry a path prefix); ``max_body`` the
    body quota in bytes. ``report_only`` lets every request go on as if ttguard were absent,
    refusals being only logged; ``reporter`` (a :class:`~ttguard.report.Reporter`) records each
    disagreement between a verdict and the server's answer; ``metrics`` (a
    :class:`~ttguard.metrics.GuardMetrics`) counts verdicts and disagreements.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *,
                 max_body: int = DEFAULT_MAX_BODY, report_only: bool = False,
                 reporter: Reporter | None = None, metrics: GuardMetrics | None = None) -> None:
        check_size("max_body", max_body)
        check_recorders(reporter, metrics)
        scheme, host, _ = origin = _origin(base_url)
        if scheme not in _DEFAULT_PORTS or not host:
            raise ValueError(f"base_url must be an http(s) URL with a host: {base_url!r}")
        self.base_url = base_url
        self.max_body = max_body
        self.report_only = report_only
        self.reporter = reporter
        self.metrics = metrics
        self._origin = origin
        self._prefix = urlsplit(base_url).path.rstrip("/")

    def _route(self, method: str, url: str) -> Route | None:
        if _origin(url) != self._origin:
            return None
        # Not as Starlette reads it: the server is Trusted Twin's, and a trailing "/" after
        # /docs, say, may be a request it takes (the lenient reading).
        return resolve(method, urlsplit(url).path, prefix=self._prefix, as_sent=False)

    def validator(self, method: str, url: str, *,
                  declared_length: int | None = None) -> StreamValidator | None:
        """A validator for the request's body, or ``None`` if the request is no API operation.

        Path and query parameters are judged with the body, by ``finish()``; a
        ``declared_length`` over the quota raises :class:`~ttguard.TTError` at once, as does
        an ambiguous path (``400793``).
        """
        route = self._route(method, url)
        if route is None:
            return None
        return StreamValidator(route.operation, content_length=declared_length,
                               max_body=self.max_body, path_params=route.path_params,
                               query=urlsplit(url).query)

    def begin(self, method: str, url: str,
              headers: Mapping[str, str | bytes] | None = None) -> GuardedRequest | None:
        """The check of one request about to be sent, or ``None`` if it is no API operation.

        ``headers`` are the request's: its ``Content-Length`` is judged with the body. A body
        under a ``Content-Encoding`` (other than ``identity``) is not judged at all, its length
        neither: whether the server decodes it is unknown, so judging either the bytes sent or
        the bytes decoded could refuse what it accepts. The method, path and query still are.

        Enforcing, an ambiguous path raises its ``400793`` :class:`~ttguard.TTError`; in
        report-only mode it is logged and the request goes on unchecked (it names no
        operation to compare).
        """
        try:
            route = self._route(method, url)
        except TTError as error:
            log_refusal(error, operation=None, method=method, report_only=self.report_only)
            if self.report_only:
                return None
            raise
        if route is None:
            return None
        headers = headers or {}
        if declares_encoding(headers):
            check = GuardedRequest(self, method, url, route, None)
            check.leave_body()
            return check
        return GuardedRequest(self, method, url, route, content_length(headers))


class GuardedRequest:
    """The check of one outgoing request for an operation, from its body to its answer.

    Feed the body with :meth:`stream` (or :meth:`astream`) and send what it returns, or push
    it with :meth:`feed` while not :attr:`decided`, then :meth:`body_ended`. Enforcing, those
    raise the verdict of a refused request, which is then settled. Once the response is seen,
    call :meth:`answered` with its status and, if :meth:`wants_answer` and
    :func:`wants_error_body` say so, its body; if no response comes, with ``None``.
    """

    def __init__(self, guard: RequestGuard, method: str, url: str, route: Route,
                 declared_length: int | None) -> None:
        self.guard = guard
        self.operation = route.operation
        self.method = method
        parts = urlsplit(url)
        #: The path and query as sent, for a record with ``include_values``.
        self.target = parts.path + ("?" + parts.query if parts.query else "")
        self.verdict: TTError | None = None
        #: The chunks taken from the body so far, as the library gave them.
        self.taken: list[bytes] = []
        #: Whether the whole body was taken (then ``taken`` is all of it).
        self.whole = False
        #: A failure of ttguard's own while checking (report-only): no verdict to count.
        self.failed = False
        #: Whether the verdict covers the body: not when it is left unread (:meth:`leave_body`).
        self.body_judged = True
        self.seconds = 0.0
        self.received = 0
        self._settled = False
        started = perf_counter()
        try:
            self.validator = StreamValidator(
                route.operation, content_length=declared_length, max_body=guard.max_body,
                path_params=route.path_params, query=parts.query)
        except TTError as error:  # a declared length over the quota: no body needed
            self.verdict = error
        self.seconds += perf_counter() - started

    @property
    def decided(self) -> bool:
        """Whether feeding more body would change nothing: a verdict, an end, a failure, or a
        body left unread."""
        return self.verdict is not None or self.whole or self.failed or not self.body_judged

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the body as the library sends it (kept, to be sent on);
        feed no more once :attr:`decided`, and call :meth:`body_ended` after the last."""
        self.taken.append(chunk)
        self._judge(self.validator.feed, chunk)
        # The core's count: a chunk it cannot take (report-only) must not fail here instead.
        self.received = self.validator.received

    def finish(self) -> None:
        """The body ended: the verdict on the whole request (see :meth:`body_ended`)."""
        self.whole = True
        self._judge(self.validator.finish)

    def leave_body(self) -> None:
        """Judge the request without its body, which goes on unread and untouched: the path
        and query only (:attr:`body_judged` turns false). For a body the guard cannot read as
        the server would, or not without changing what is sent. Feed nothing after it."""
        if not self.decided:
            self.body_judged = False
            self._judge(self.validator.finish_without_body)

    def _judge(self, step: Callable[..., object], *arguments: object) -> None:
        started = perf_counter()
        try:
            step(*arguments)
        except TTError as error:
            self.verdict = error
        except Exception:
            if not self.guard.report_only:
                raise  # misuse (a chunk that is no bytes, a wrong length): the caller's error
            # Report-only never stands in the request's way, even when ttguard fails.
            logger.exception("%s %s: ttguard could not check the request (report only: "
                             "forwarded)", self.method, self.operation)
            self.failed = True
        finally:
            self.seconds += perf_counter() - started

    def body_ended(self) -> None:
        """No more body is fed: the verdict on the whole request if none was reached, and,
        enforcing, the refusal raised (logged and counted first)."""
        if not self.decided:
            self.finish()
        if self.verdict is not None and not self.guard.report_only:
            self.answered(None)
            raise self.verdict

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Judge a body given as chunks; return what to send in their place.

        ``chunks`` is pulled until the verdict is certain (at most the quota plus one chunk).
        Enforcing, a refusal raises here. Otherwise the chunks taken are returned, followed
        lazily by the rest of ``chunks``: the body whole, as the library would have sent it.
        """
        rest = iter(chunks)
        if not self.decided:
            for chunk in rest:
                self.feed(chunk)
                if self.decided:
                    break
        self.body_ended()
        return chain(self.taken, rest)

    async def astream(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """:meth:`stream` for an async stream of chunks."""
        rest = aiter(chunks)
        if not self.decided:
            async for chunk in rest:
                self.feed(chunk)
                if self.decided:
                    break
        self.body_ended()
        return achain(self.taken, rest)

    def wants_answer(self) -> bool:
        """Whether the response is worth reading: something to compare, and someone to tell."""
        guard = self.guard
        return not self.failed and (guard.reporter is not None or guard.metrics is not None)

    def answered(self, status: int | None, body: bytes | None = None) -> None:
        """Settle the request once: log a refusal, count the verdict, and set it beside the
        server's answer (``status``, and for an error the ``body`` read, ``None`` if unread or
        cut); ``status`` ``None``: no response was seen, nothing to compare."""
        if self._settled or self.failed:
            return
        self._settled = True
        guard = self.guard
        settle(self.verdict, operation=self.operation, method=self.method,
               report_only=guard.report_only, seconds=self.seconds, body_bytes=self.received,
               answer=None if status is None else read_answer(status, body),
               values=lambda: (self.target, b"".join(self.taken) if self.whole else None),
               reporter=guard.reporter, metrics=guard.metrics, body_judged=self.body_judged)
