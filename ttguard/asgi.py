"""The ASGI adapter: :class:`GuardMiddleware` answers bad requests as the Trusted Twin server would.

Put it in front of any ASGI application (a Starlette or FastAPI app, a proxy, a bare callable)
and each HTTP request for a Trusted Twin operation is checked by the sans-IO core before the
application sees it. A request the server would refuse is answered here, with the server's
status and body (``application/json``, ``{"subcode", "trace", "description"}``), and never
reaches the application; a request the server would accept reaches it unchanged.

Operations, per HTTP request, in this order:

1. **Framing**: a request with both ``Content-Length`` and ``Transfer-Encoding`` is
   ``400793 corrupted_request``, whatever its path (RFC 9112 6.1: a server may refuse it, and
   a proxy behind this application might read the body's end elsewhere than this server did).
2. **Route**: the method and the path as sent (``raw_path``, after ``prefix``), in their
   canonical form (:func:`ttguard.core.routes.canonical_path`: ``/tw%69ns`` and ``/x/../twins``
   are ``/twins``), name an operation, or the request passes through untouched (with
   ``reject_unknown``: ``404 not_found``). So does a request for an operation outside
   ``operations``. A target that readers may take for different operations is
   ``400793 corrupted_request``.
3. **Authorization** (with ``require_authorization``): no ``Authorization`` header is
   ``401 unauthorized``, before any body is read.
4. **Declared size**: a ``Content-Length`` over the quota is ``400141 quota_violation``, before
   any body is read; a malformed one is ``400793 corrupted_request`` (see :func:`declared_length`).
5. **Body**: each ``http.request`` message is fed to a :class:`~ttguard.core.StreamValidator` as
   it arrives; the message that passes the quota, or brings a certain UTF-8 error, is answered
   at once and nothing more is read. At the end of the body the core judges JSON syntax, then
   path, query and body against the operation's schema, in the server's order.
6. **Forward**: the application is called with a ``receive`` that first replays the body, byte
   for byte, as one ``http.request`` message (``more_body`` false), then hands on whatever the
   server sends next (``http.disconnect``).

A failure of the middleware itself (not of the application) is answered with the server's
``500 internal_error`` body and logged with its cause on the ``ttguard`` logger, never with a
bare 500.

Non-HTTP scopes (``lifespan``, ``websocket``) pass through untouched. A client that disconnects
before its body ends gets no answer (there is nobody to answer) and the application is not
called; the middleware starts no task, so nothing outlives the request.

Goals:

* **The server's verdict, no other.** Every rejection is the core's :class:`~ttguard.core.TTError`
  (or one of the documented answers above), so the middleware and the server agree.
* **Early and bounded.** A request is refused in the message that makes the verdict certain; the
  rest of an oversized body is left to the ASGI server, which discards it. At most
  ``max_body`` bytes of a body are held, in the core, and replayed from there.
* **Invisible on success.** The application receives the very bytes the client sent, the same
  scope, and the server's own ``send``.

Complexity: routing costs one step per path segment; each body byte is copied once into the
core's buffer (replayed from there) and checked in linear time; a request is answered after
O(``max_body``) bytes at most, whatever its size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, MutableMapping
from typing import Any
from urllib.parse import quote

from .core import DEFAULT_MAX_BODY, StreamValidator, Subcode, TTError
from .core import operations as known_operations
from .core.routes import route_path

__all__ = [
    "ASGIApp",
    "GuardMiddleware",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "check_framing",
    "declared_length",
    "encoded_path",
    "internal_error",
    "send_error",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: ASGI request headers: ``(name, value)`` byte pairs, names lowercased.
Headers = Iterable[tuple[bytes, bytes]]

#: The server's words for a missing ``Authorization`` header (its status-code page's example).
AUTHORIZATION_NOT_PROVIDED = "Authorization header not provided."
#: The status-code page's wording of a 404; it prints no example for ``404653``.
NOT_FOUND = "The requested resource does not exist."
#: ttguard's words: the server's are unknown, as is the subcode it gives (see declared_length).
INVALID_CONTENT_LENGTH = "Content-Length header is not valid."
#: ttguard's words, as above.
CONFLICTING_FRAMING = "Content-Length and Transfer-Encoding must not both be given."
#: The status-code page's wording of a 500; it prints no example for its subcodes.
INTERNAL_ERROR = ("The server encountered an internal error and was not able to complete "
                  "the request.")

logger = logging.getLogger("ttguard")


def internal_error(cause: BaseException) -> TTError:
    """The server's ``500 internal_error`` for a failure of ttguard's own, logged with its cause.

    The log record carries the trace the client gets, to find one from the other.
    """
    error = TTError(Subcode.INTERNAL_ERROR, INTERNAL_ERROR)
    logger.error("internal error, answered %d, trace %s", error.subcode, error.trace,
                 exc_info=cause)
    return error


async def send_error(send: Send, error: TTError) -> None:
    """Answer with the server's response to ``error``: its status and its JSON error body.

    An answer given before the request's body ended asks for no ``Connection: close``: closing
    a socket that still holds unread body bytes resets the connection, and the client may lose
    the answer with it. The ASGI server reads and discards what is left of the body instead
    (uvicorn does), holding none of it; a client that reads the answer early stops sending.
    """
    body = json.dumps(error.to_dict()).encode("utf-8")
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode("ascii"))]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def check_framing(headers: Headers) -> None:
    """Refuse a request framed two ways: ``Content-Length`` and ``Transfer-Encoding`` both.

    The ASGI server reads such a body by its transfer coding; anyone who reads it by its length
    instead (a proxy further on) finds another end, and the bytes after it become a request
    of their own. RFC 9112 6.1 lets a server refuse it; a guard must.
    """
    names = {name for name, _ in headers}
    if b"content-length" in names and b"transfer-encoding" in names:
        raise TTError(Subcode.CORRUPTED_REQUEST, CONFLICTING_FRAMING)


def declared_length(headers: Headers, max_body: int) -> int | None:
    """The body size a request declares in ``Content-Length``, or ``None`` if it declares none.

    As RFC 9112 reads it: a ``Transfer-Encoding`` overrides any ``Content-Length``, and repeated
    values (in one header or several) count as one when they all agree. Anything else (not
    decimal digits, a sign, values that disagree) is ``400793 corrupted_request``: an HTTP
    server or proxy refuses such a request with a bare 400 before the API sees it, so the
    server's own body for it is unknown, and this subcode is the one it names for a request
    that cannot be read. A length with more digits than ``max_body`` is returned as
    ``max_body + 1``: over the quota whatever its value, and never handed to ``int()``, which
    refuses very long digit strings.
    """
    declared: list[bytes] = []
    for name, value in headers:
        # ASGI servers give header names in lowercase.
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            declared.append(value)
    if not declared:
        return None
    values = {part.strip() for value in declared for part in value.split(b",")}
    if len(values) > 1 or not next(iter(values)).isdigit():
        raise TTError(Subcode.CORRUPTED_REQUEST, INVALID_CONTENT_LENGTH)
    digits = next(iter(values)).lstrip(b"0") or b"0"
    if len(digits) > len(str(max_body)):
        return max_body + 1
    return int(digits)


def encoded_path(scope: Scope) -> str:
    """The request path as sent, percent-encoded: the core decodes each parameter once.

    ``raw_path`` keeps an encoded ``/`` inside a parameter (``a%2Fb``) apart from a separator;
    without it, ``path`` is decoded and quoted back.
    """
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is not None:
        return raw_path.decode("latin-1")
    return quote(scope["path"], safe="/")


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the whole body in one message, then defers to ``receive``."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


class GuardMiddleware:
    """Answers the requests the Trusted Twin server would refuse, as it would; forwards the rest.

    ``prefix`` is the path the API is mounted under (removed before routing); ``max_body`` the
    body quota in bytes; ``require_authorization`` refuses a request without an
    ``Authorization`` header; ``operations`` names the operations to check (``None``: all of
    them; a request for any other passes through); ``reject_unknown`` answers a request that
    names no operation with the server's ``404`` instead of passing it through.

    >>> from starlette.applications import Starlette
    >>> from starlette.middleware import Middleware
    >>> app = Starlette(middleware=[Middleware(GuardMiddleware, max_body=65536)])
    """

    def __init__(self, app: ASGIApp, *, prefix: str = "", max_body: int = DEFAULT_MAX_BODY,
                 require_authorization: bool = False, operations: Collection[str] | None = None,
                 reject_unknown: bool = False) -> None:
        if max_body < 0:
            raise ValueError(f"max_body must not be negative: {max_body}")
        if operations is not None:
            unknown = sorted(set(operations) - known_operations().keys())
            if unknown:
                raise ValueError(f"unknown Trusted Twin operations: {', '.join(unknown)} "
                                 "(`ttguard ops` lists them)")
        self.app = app
        self.prefix = prefix
        self.max_body = max_body
        self.require_authorization = require_authorization
        self.operations = None if operations is None else frozenset(operations)
        self.reject_unknown = reject_unknown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_framing(scope["headers"])
            route = route_path(scope["method"], encoded_path(scope), prefix=self.prefix)
            if route is None and self.reject_unknown:
                raise TTError(Subcode.NOT_FOUND, NOT_FOUND)
        except TTError as error:
            await send_error(send, error)
            return
        except Exception as failure:
            await send_error(send, internal_error(failure))
            return
        if route is None or (self.operations is not None
                             and route.operation not in self.operations):
            await self.app(scope, receive, send)
            return
        await self._forward_if_accepted(scope, receive, send, route.operation, route.path_params)

    async def _forward_if_accepted(self, scope: Scope, receive: Receive, send: Send,
                                   operation: str, path_params: dict[str, str]) -> None:
        """Call the application with the request if the core accepts it, else answer for it."""
        body_ended = False
        try:
            validator = self._validator(scope, operation, path_params)
            while not body_ended:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk: bytes = message.get("body", b"")
                body_ended = not message.get("more_body", False)
                try:
                    validator.feed(chunk)
                except ValueError:
                    # The core refuses a body longer than its Content-Length: a conforming ASGI
                    # server never delivers one, but a request that cannot be read is no crash.
                    raise TTError(Subcode.CORRUPTED_REQUEST, INVALID_CONTENT_LENGTH) from None
            try:
                validator.finish()
            except ValueError:
                # Likewise a body that ends short of its Content-Length.
                raise TTError(Subcode.CORRUPTED_REQUEST, INVALID_CONTENT_LENGTH) from None
        except TTError as error:
            await send_error(send, error)
            return
        except Exception as failure:
            await send_error(send, internal_error(failure))
            return
        await self.app(scope, _replaying(validator.body, receive), send)

    def _validator(self, scope: Scope, operation: str,
                   path_params: dict[str, str]) -> StreamValidator:
        """The request's validator, once the checks that need no body pass (else a TTError)."""
        headers: Headers = scope["headers"]
        if self.require_authorization and not any(
                name == b"authorization" for name, _ in headers):
            raise TTError(Subcode.UNAUTHORIZED, AUTHORIZATION_NOT_PROVIDED)
        return StreamValidator(
            operation, content_length=declared_length(headers, self.max_body),
            max_body=self.max_body, path_params=path_params,
            query=scope.get("query_string", b"").decode("latin-1"))
