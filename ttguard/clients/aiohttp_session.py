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
async iterator, a file) is written into the core no further than the quota plus one chunk, and
when accepted its bytes are sent in its place.
"""

from __future__ import annotations

from typing import Any, cast

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from aiohttp.payload import BytesPayload

from ..core import DEFAULT_MAX_BODY, StreamValidator
from .request_guard import DEFAULT_BASE_URL, RequestGuard, content_length

__all__ = ["guard_middleware", "guarded_client_session"]


class _IntoValidator:
    """The one method of a stream writer that payloads call: each chunk goes to the core."""

    def __init__(self, validator: StreamValidator) -> None:
        self.validator = validator

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.validator.feed(chunk)


def guard_middleware(base_url: str = DEFAULT_BASE_URL, *,
          max_body: int = DEFAULT_MAX_BODY) -> ClientMiddlewareType:
    """A client middleware refusing, as the server would, the requests it would refuse.

    ``base_url`` is the API's root; requests to other URLs go on unchecked. ``max_body`` is
    the body quota in bytes.
    """
    request_guard = RequestGuard(base_url, max_body=max_body)

    async def ttguard_middleware(request: aiohttp.ClientRequest,
                                 handler: ClientHandlerType) -> aiohttp.ClientResponse:
        validator = request_guard.validator(
            request.method, str(request.url), declared_length=content_length(request.headers))
        if validator is not None:
            payload = request.body
            if payload:
                await payload.write(cast(AbstractStreamWriter, _IntoValidator(validator)))
            validator.finish()
            if payload and not isinstance(payload, BytesPayload):
                # A stream is spent once written: send the bytes it gave.
                await request.update_body(validator.body)
        return await handler(request)

    return ttguard_middleware


def guarded_client_session(base_url: str = DEFAULT_BASE_URL, *,
                           max_body: int = DEFAULT_MAX_BODY,
                           **session_options: Any) -> aiohttp.ClientSession:
    """An ``aiohttp.ClientSession`` whose requests pass :func:`guard_middleware` first.

    ``session_options`` go to ``aiohttp.ClientSession``; middlewares given there run after
    the guard.
    """
    middlewares = (guard_middleware(base_url, max_body=max_body),
                   *session_options.pop("middlewares", ()))
    return aiohttp.ClientSession(middlewares=middlewares, **session_options)
