"""The httpx guards: transports that check each request before the wrapped transport sends it.

::

    httpx.Client(transport=GuardTransport())
    httpx.AsyncClient(transport=AsyncGuardTransport())

A request the Trusted Twin server would refuse raises :class:`~ttguard.TTError` from the
client's call, and the wrapped transport never sees it: no connection is opened. The body is
read from ``request.stream``, the bytes httpx would send: given content is checked as it is; a
generator body is consumed through the core no further than the quota plus one chunk, and when
accepted its bytes are sent in its place (still chunked, as httpx framed it).
"""

from __future__ import annotations

from typing import cast

import httpx

from ..core import DEFAULT_MAX_BODY
from .request_guard import DEFAULT_BASE_URL, RequestGuard, content_length

__all__ = ["AsyncGuardTransport", "GuardTransport"]


class GuardTransport(httpx.BaseTransport):
    """Wraps ``transport`` (default ``httpx.HTTPTransport()``) with the server's checks.

    ``base_url`` is the API's root; requests to other URLs go on unchecked. ``max_body`` is the
    body quota in bytes.
    """

    def __init__(self, transport: httpx.BaseTransport | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.transport = transport if transport is not None else httpx.HTTPTransport()
        self.guard = RequestGuard(base_url, max_body=max_body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        accepted = self.guard.check_stream(
            request.method, str(request.url), cast(httpx.SyncByteStream, request.stream),
            declared_length=content_length(request.headers))
        if accepted is not None:
            request.stream = httpx.ByteStream(accepted)
        return self.transport.handle_request(request)

    def close(self) -> None:
        self.transport.close()


class AsyncGuardTransport(httpx.AsyncBaseTransport):
    """:class:`GuardTransport` for ``httpx.AsyncClient``; wraps ``httpx.AsyncHTTPTransport()``."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self.guard = RequestGuard(base_url, max_body=max_body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        accepted = await self.guard.acheck_stream(
            request.method, str(request.url), cast(httpx.AsyncByteStream, request.stream),
            declared_length=content_length(request.headers))
        if accepted is not None:
            request.stream = httpx.ByteStream(accepted)
        return await self.transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.transport.aclose()
