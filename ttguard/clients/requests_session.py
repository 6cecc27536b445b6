"""The requests guard: :class:`GuardedSession`, a ``requests.Session`` that checks before sending.

Its transport adapter judges each *prepared* request (the method, URL and body bytes requests
would put on the wire) with :class:`~ttguard.clients.guard.RequestGuard`; a request the
Trusted Twin server would refuse raises :class:`~ttguard.TTError` from ``session.request()``
and no connection is opened. The official sync client takes one as it is::

    TTRESTService(tt_auth=key, session=GuardedSession())

Bodies as requests prepares them: bytes (``json=``, ``data=bytes``) are checked in place; a
file-like body is read (up to the quota) and an iterator consumed (up to the quota plus one
chunk), then the accepted bytes are sent in their place, framed as requests framed the
original (``Content-Length`` or chunked).
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ..core import DEFAULT_MAX_BODY
from .request_guard import DEFAULT_BASE_URL, RequestGuard, content_length

__all__ = ["GuardAdapter", "GuardedSession"]

_READ_SIZE = 65536


class GuardAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that raises the server's :class:`~ttguard.TTError` instead of sending
    a request the server would refuse."""

    def __init__(self, guard: RequestGuard, **adapter_options: Any) -> None:
        super().__init__(**adapter_options)
        self.guard = guard

    def send(self, request: requests.PreparedRequest,  # type: ignore[override]
             **send_options: Any) -> requests.Response:
        self._check(request)
        return super().send(request, **send_options)

    def _check(self, request: requests.PreparedRequest) -> None:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")  # as urllib3 sends a str
        if body is None or isinstance(body, bytes):
            chunks: Any = [body or b""]
        elif hasattr(body, "read"):
            chunks = iter(lambda: body.read(_READ_SIZE), b"")
        else:
            chunks = body
        accepted = self.guard.check_stream(
            request.method or "GET", request.url or "", chunks,
            declared_length=content_length(request.headers))
        if accepted is not None and not isinstance(body, bytes) and body is not None:
            # The original was consumed: send the very bytes it gave, framed as before.
            request.body = accepted if "Content-Length" in request.headers else [accepted]


class GuardedSession(requests.Session):
    """A ``requests.Session`` that checks every Trusted Twin request before it is sent.

    ``base_url`` is the API's root (as the official client's ``tt_base``); requests to other
    URLs go on unchecked. ``max_body`` is the body quota in bytes. ``adapter_options`` go to
    requests' ``HTTPAdapter`` (``max_retries``, ``pool_maxsize``...).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, max_body: int = DEFAULT_MAX_BODY,
                 **adapter_options: Any) -> None:
        super().__init__()
        adapter = GuardAdapter(RequestGuard(base_url, max_body=max_body), **adapter_options)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
