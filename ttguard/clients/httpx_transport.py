"""The httpx guards: transports that check each request before the wrapped transport sends it.

::

    httpx.Client(transport=GuardTransport())
    httpx.AsyncClient(transport=AsyncGuardTransport())

A request the Trusted Twin server would refuse raises :class:`~ttguard.TTError` from the
client's call, and the wrapped transport never sees it: no connection is opened. The body is
read from ``request.stream``, the bytes httpx would send: given content is checked as it is; a
generator body is consumed through the core no further than the quota plus one chunk, and what
was taken is sent in its place, then the rest of the generator (still chunked, as httpx framed
it). A request httpx sends again (to follow a 307 or 308, to answer an auth challenge) comes
through the transport again and is judged again, with the body httpx would resend: given
content whole, and for a generator, ``httpx.StreamConsumed`` as without the guard.

With ``report_only`` every request goes to the wrapped transport as httpx built it. The status
of each response is set beside the verdict; a small error body is read for it (``read()``,
kept for the caller) when a reporter or metrics want it, a larger one passed on as it streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import chain
from typing import TYPE_CHECKING, cast

import httpx

from ..core import DEFAULT_MAX_BODY, TTError
from ..report import Reporter
from .request_guard import (
    DEFAULT_BASE_URL,
    GuardedRequest,
    RequestGuard,
    achain,
    atake,
    content_length,
    take,
    wants_error_body,
)

if TYPE_CHECKING:  # prometheus-client is the metrics extra's, imported by whoever makes them
    from ..metrics import GuardMetrics

__all__ = ["AsyncGuardTransport", "GuardTransport"]


class _Stream(httpx.SyncByteStream):
    """``chunks`` in the place of ``source``, which is closed with it.

    httpx iterates a request's stream again to resend it (following a 307 or 308, answering an
    auth challenge), each time through the transport, so each hop is judged anew. The second
    and later iterations are ``source``'s own: given content replays, a generator raises
    ``httpx.StreamConsumed``, exactly as without the guard; ``chunks`` (a one-shot iterator,
    partly spent by the check) could only send nothing.
    """

    def __init__(self, chunks: Iterator[bytes], source: httpx.SyncByteStream) -> None:
        self._chunks: Iterator[bytes] | None = chunks
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        chunks, self._chunks = self._chunks, None
        return iter(self._source) if chunks is None else chunks

    def close(self) -> None:
        self._source.close()


class _AsyncStream(httpx.AsyncByteStream):
    """:class:`_Stream` for async streams."""

    def __init__(self, chunks: AsyncIterator[bytes], source: httpx.AsyncByteStream) -> None:
        self._chunks: AsyncIterator[bytes] | None = chunks
        self._source = source

    def __aiter__(self) -> AsyncIterator[bytes]:
        chunks, self._chunks = self._chunks, None
        return aiter(self._source) if chunks is None else chunks

    async def aclose(self) -> None:
        await self._source.aclose()


def _begin(guard: RequestGuard, request: httpx.Request) -> GuardedRequest | None:
    return guard.begin(request.method, str(request.url), request.headers)


class GuardTransport(httpx.BaseTransport):
    """Wraps ``transport`` (default ``httpx.HTTPTransport()``) with the server's checks.

    Give the wrapped transport what you would give the client: httpx hands a client's
    ``verify``, ``cert``, ``http2``, ``limits`` and proxy settings (``proxy=``, the
    environment's) to the transport it makes, never to one it is given. And give the client
    no ``proxy=`` nor ``mounts=``: httpx sends what they match through their own transports,
    around this one, unchecked. So, for a proxy::

        httpx.Client(transport=GuardTransport(httpx.HTTPTransport(verify=ctx, proxy=url)))

    ``base_url`` is the API's root; requests to other URLs go on unchecked. ``max_body`` is the
    body quota in bytes. ``report_only`` sends every request as if ttguard were absent and only
    logs refusals; ``reporter`` records each disagreement with the server's answer, ``metrics``
    counts verdicts and disagreements (see :class:`~.request_guard.RequestGuard`).
    """

    def __init__(self, transport: httpx.BaseTransport | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, max_body: int = DEFAULT_MAX_BODY,
                 report_only: bool = False, reporter: Reporter | None = None,
                 metrics: GuardMetrics | None = None) -> None:
        self.transport = transport if transport is not None else httpx.HTTPTransport()
        self.guard = RequestGuard(base_url, max_body=max_body, report_only=report_only,
                                  reporter=reporter, metrics=metrics)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check = _begin(self.guard, request)
        if check is None:
            return self.transport.handle_request(request)
        source = cast(httpx.SyncByteStream, request.stream)  # a sync client's request
        try:
            request.stream = _Stream(check.stream(source), source)
        except TTError as verdict:
            del check  # a traceback through a frame holding the check (and its verdict): a cycle
            raise verdict.with_traceback(None) from None
        try:
            response = self.transport.handle_request(request)
        except BaseException:
            check.answered(None)
            raise
        body = None
        if check.wants_answer() and wants_error_body(response.status_code,
                                                     content_length(response.headers)):
            raw = cast(httpx.SyncByteStream, response.stream)
            chunks = iter(raw)
            try:
                taken, ended = take(chunks)
                if ended:
                    raw.close()
                    response.stream = httpx.ByteStream(b"".join(taken))
                    body = response.read()  # kept: the client's read() returns it
                else:
                    response.stream = _Stream(chain(taken, chunks), raw)
            except httpx.HTTPError:
                raw.close()
                check.answered(response.status_code)  # cut short: unreadable, and the caller's
                raise
        check.answered(response.status_code, body)
        return response

    def close(self) -> None:
        self.transport.close()


class AsyncGuardTransport(httpx.AsyncBaseTransport):
    """:class:`GuardTransport` for ``httpx.AsyncClient``; wraps ``httpx.AsyncHTTPTransport()``
    (given the client's options in the same way: ``httpx.AsyncHTTPTransport(proxy=url)``)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, max_body: int = DEFAULT_MAX_BODY,
                 report_only: bool = False, reporter: Reporter | None = None,
                 metrics: GuardMetrics | None = None) -> None:
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self.guard = RequestGuard(base_url, max_body=max_body, report_only=report_only,
                                  reporter=reporter, metrics=metrics)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check = _begin(self.guard, request)
        if check is None:
            return await self.transport.handle_async_request(request)
        source = cast(httpx.AsyncByteStream, request.stream)  # an async client's request
        try:
            request.stream = _AsyncStream(await check.astream(source), source)
        except TTError as verdict:
            del check  # as in GuardTransport.handle_request
            raise verdict.with_traceback(None) from None
        try:
            response = await self.transport.handle_async_request(request)
        except BaseException:
            check.answered(None)
            raise
        body = None
        if check.wants_answer() and wants_error_body(response.status_code,
                                                     content_length(response.headers)):
            raw = cast(httpx.AsyncByteStream, response.stream)
            chunks = aiter(raw)
            try:
                taken, ended = await atake(chunks)
                if ended:
                    await raw.aclose()
                    response.stream = httpx.ByteStream(b"".join(taken))
                    body = await response.aread()  # kept: the client's aread() returns it
                else:
                    response.stream = _AsyncStream(achain(taken, chunks), raw)
            except httpx.HTTPError:
                await raw.aclose()
                check.answered(response.status_code)  # cut short: unreadable, and the caller's
                raise
        check.answered(response.status_code, body)
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()
