"""The aiohttp guard: a client middleware that checks each request before it is sent.

::

    guarded_client_session()                                # a session with the guard
    aiohttp.ClientSession(middlewares=[guard_middleware()])  # the guard in a session of yours

aiohttp (3.12 or newer) runs client middlewares on the built request before it opens a
connection, so a request the Trusted Twin server would refuse raises
:class:`~ttguard.TTError` from ``session.request()`` and nothing is sent. The official async
client takes the session as it is: ``TTAsyncRESTService(tt_auth=key,
session=guarded_client_session())``.

The body is the payload aiohttp serialised (``json=`` gives its bytes). A streamed payload (an
async iterator, a file) is written into the core no further than the quota plus one chunk.
Bytes and seekable files are written again from their start when sent; a stream that cannot be
(an async iterator, a pipe) is sent as the chunks taken, then its rest, framed as aiohttp
framed it. Only those payloads, whose write can stop at the verdict and go on exactly, are
judged: any other (a multipart writer, whose write would start over) is sent unread, and the
verdict covers the method, path and query alone. That can only miss a refusal (then the
server's own answer comes back), never refuse what the server would accept.

With ``report_only`` every request is sent as aiohttp would send it without the guard. The
status of each response is set beside the verdict; a small error body is read for it
(``await response.read()``, kept for the caller) when a reporter or metrics want it.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from aiohttp.payload import AsyncIterablePayload, BytesPayload, IOBasePayload, Payload

from ..core import DEFAULT_MAX_BODY, TTError
from ..report import Reporter
from .request_guard import (
    DEFAULT_BASE_URL,
    ERROR_READ_SIZE,
    GuardedRequest,
    RequestGuard,
    atake,
    wants_error_body,
)

if TYPE_CHECKING:  # prometheus-client is the metrics extra's, imported by whoever makes them
    from ..metrics import GuardMetrics

__all__ = ["guard_middleware", "guarded_client_session"]


class _Decided(Exception):
    """Stops a payload writing into the check once the verdict is certain."""


class _IntoCheck:
    """The one method of a stream writer that payloads call: each chunk goes to the check."""

    def __init__(self, check: GuardedRequest) -> None:
        self.check = check

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        # A copy: a payload may reuse its buffer, and the chunk is kept to be sent on.
        self.check.feed(bytes(chunk))
        if self.check.decided:
            raise _Decided


#: The payloads whose write, stopped once the verdict is certain, still sends the body exactly:
#: bytes and a file that can seek are written again from their start, a file that cannot seek
#: and an async iterable go on from where the check stopped. A multipart writer would start
#: over (its boundary and first parts again), and a payload class of one's own is unknown.
_RESUMABLE = (BytesPayload, IOBasePayload, AsyncIterablePayload)


class _Replay(Payload):
    """What a spent stream payload gave the check, then what it has left to give.

    Spent once written, as the payload it stands for: aiohttp then refuses to follow a redirect
    with it (``ClientPayloadError``) as it would without the guard, where sending it again
    would send the chunks taken alone.
    """

    def __init__(self, taken: list[bytes], rest: Payload | None, size: int | None) -> None:
        super().__init__(taken)
        self._taken = taken
        self._rest = rest
        self._size = size

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self._rest is not None:  # as aiohttp's own stream payloads: not all at hand
            raise TypeError("Unable to decode - the rest of the stream is not read yet.")
        return b"".join(self._taken).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        self._consumed = True
        for chunk in self._taken:
            await writer.write(chunk)
        if self._rest is not None:
            await self._rest.write(writer)


async def _error_body(response: aiohttp.ClientResponse) -> bytes | None:
    """A small error body, read and kept in the response for its caller; else ``None``."""
    if response.content_length is not None:
        return await response.read()
    taken, ended = await atake(response.content.iter_chunked(ERROR_READ_SIZE))
    # Hand the bytes taken back to the stream, ahead of its rest: aiohttp offers no other
    # way to look at a body of unknown length and leave it whole for the caller.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        response.content.unread_data(b"".join(taken))
    return await response.read() if ended else None


def guard_middleware(base_url: str = DEFAULT_BASE_URL, *,
                     max_body: int = DEFAULT_MAX_BODY, report_only: bool = False,
                     reporter: Reporter | None = None,
                     metrics: GuardMetrics | None = None) -> ClientMiddlewareType:
    """A client middleware refusing, as the server would, the requests it would refuse.

    ``base_url`` is the API's root; requests to other URLs go on unchecked. ``max_body`` is
    the body quota in bytes. ``report_only`` sends every request as if ttguard were absent
    and only logs refusals; ``reporter`` records each disagreement with the server's answer,
    ``metrics`` counts verdicts and disagreements (see :class:`~.request_guard.RequestGuard`).
    """
    request_guard = RequestGuard(base_url, max_body=max_body, report_only=report_only,
                                 reporter=reporter, metrics=metrics)

    async def ttguard_middleware(request: aiohttp.ClientRequest,
                                 handler: ClientHandlerType) -> aiohttp.ClientResponse:
        check = request_guard.begin(request.method, str(request.url), request.headers)
        if check is None:
            return await handler(request)
        payload = request.body
        if payload and not isinstance(payload, _RESUMABLE):
            check.leave_body()
        elif payload and not check.decided:
            with contextlib.suppress(_Decided):
                await payload.write(cast(AbstractStreamWriter, _IntoCheck(check)))
        try:
            check.body_ended()
        except TTError as verdict:
            del check  # a traceback through a frame holding the check (and its verdict): a cycle
            raise verdict.with_traceback(None) from None
        if payload and payload.consumed:
            await request.update_body(_Replay(check.taken, None if check.whole else payload,
                                              payload.size))
        try:
            response = await handler(request)
        except BaseException:
            check.answered(None)
            raise
        body = None
        if check.wants_answer() and wants_error_body(response.status, response.content_length):
            try:
                body = await _error_body(response)
            except aiohttp.ClientError:
                check.answered(response.status)  # cut short: unreadable, and the caller's
                raise
        check.answered(response.status, body)
        return response

    return ttguard_middleware


def guarded_client_session(base_url: str = DEFAULT_BASE_URL, *,
                           max_body: int = DEFAULT_MAX_BODY, report_only: bool = False,
                           reporter: Reporter | None = None,
                           metrics: GuardMetrics | None = None,
                           **session_options: Any) -> aiohttp.ClientSession:
    """An ``aiohttp.ClientSession`` whose requests pass :func:`guard_middleware` first.

    ``session_options`` go to ``aiohttp.ClientSession``; middlewares given there run after
    the guard.
    """
    middlewares = (guard_middleware(base_url, max_body=max_body, report_only=report_only,
                                    reporter=reporter, metrics=metrics),
                   *session_options.pop("middlewares", ()))
    return aiohttp.ClientSession(middlewares=middlewares, **session_options)
