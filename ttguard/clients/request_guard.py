"""What every outgoing guard shares: which requests are Trusted Twin operations, and their check.

A client guard sees a request as its HTTP library is about to send it: a method, a URL and the
body bytes the library serialised. :class:`RequestGuard` decides whether the URL lies under the
API's base URL and names an operation; if so, it checks path, query and body with the core, as
the server would, on the very bytes that would go over the wire. A request to any other host,
or to a path that names no operation, is none of its business and goes on unchecked.

A streamed body (an iterator of chunks) is consumed through the validator no further than the
verdict needs: an oversized one is refused after the quota plus one chunk. An accepted streamed
body has been consumed, so the guard hands back its bytes (:attr:`StreamValidator.body`) for the
library to send in its place.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from urllib.parse import urlsplit

from ..core import DEFAULT_MAX_BODY, StreamValidator, resolve

__all__ = ["DEFAULT_BASE_URL", "RequestGuard"]

#: Where the official client sends its requests (``TTRESTService(tt_base=None)``).
DEFAULT_BASE_URL = "https://rest.trustedtwin.com"

_DEFAULT_PORTS = {"http": 80, "https": 443}


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


class RequestGuard:
    """Checks the outgoing requests addressed to the Trusted Twin API under ``base_url``.

    ``base_url`` is the API's root, as given to the official client's ``tt_base``
    (``https://rest.trustedtwin.com`` by default; it may carry a path prefix); ``max_body`` the
    body quota in bytes.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        if max_body < 0:
            raise ValueError(f"max_body must not be negative: {max_body}")
        scheme, host, _ = origin = _origin(base_url)
        if scheme not in _DEFAULT_PORTS or not host:
            raise ValueError(f"base_url must be an http(s) URL with a host: {base_url!r}")
        self.base_url = base_url
        self.max_body = max_body
        self._origin = origin
        self._prefix = urlsplit(base_url).path.rstrip("/")

    def validator(self, method: str, url: str, *,
                  declared_length: int | None = None) -> StreamValidator | None:
        """A validator for the request's body, or ``None`` if the request is no API operation.

        Path and query parameters are judged with the body, by ``finish()``; a
        ``declared_length`` over the quota raises :class:`~ttguard.TTError` at once.
        """
        if _origin(url) != self._origin:
            return None
        parts = urlsplit(url)
        route = resolve(method, parts.path, prefix=self._prefix)
        if route is None:
            return None
        return StreamValidator(route.operation, content_length=declared_length,
                               max_body=self.max_body, path_params=route.path_params,
                               query=parts.query)

    def check_stream(self, method: str, url: str, chunks: Iterable[bytes], *,
                     declared_length: int | None = None) -> bytes | None:
        """Check a request's body, given as chunks, as the server would.

        Raises the server's :class:`~ttguard.TTError` if it would refuse the request. Returns
        the body's bytes, ``chunks`` being consumed (up to the quota), for the caller to send in
        its place; or ``None`` if the request is no API operation and ``chunks`` was not touched.
        """
        validator = self.validator(method, url, declared_length=declared_length)
        if validator is None:
            return None
        for chunk in chunks:
            validator.feed(chunk)
        validator.finish()
        return validator.body

    async def acheck_stream(self, method: str, url: str, chunks: AsyncIterable[bytes], *,
                            declared_length: int | None = None) -> bytes | None:
        """:meth:`check_stream` for an async stream of chunks."""
        validator = self.validator(method, url, declared_length=declared_length)
        if validator is None:
            return None
        async for chunk in chunks:
            validator.feed(chunk)
        validator.finish()
        return validator.body
