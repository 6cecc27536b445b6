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
2. **Route**: the method (a ``HEAD`` as a ``GET``) and the path as sent (``raw_path``, after
   the path of the mount the application sits in, ``root_path``, and after ``prefix``:
   :func:`mounted_prefix`), in their canonical form
   (:func:`ttguard.core.routes.canonical_path`: ``/tw%69ns`` and ``/x/../twins`` are
   ``/twins``), name an operation, or the request passes through untouched (with
   ``reject_unknown``: ``404 not_found``). So does a request for an operation outside
   ``operations``. A target that readers may take for different operations is
   ``400793 corrupted_request``.
3. **Authorization** (with ``require_authorization``): no ``Authorization`` header is
   ``401 unauthorized``, before any body is read.
4. **Declared size**: a ``Content-Length`` over the quota is ``400141 quota_violation``, before
   any body is read; a malformed one is ``400793 corrupted_request`` (see :func:`declared_length`).
   Without ``judge_encoded_bodies``, a body under a ``Content-Encoding`` (other than
   ``identity``) is left unjudged, its declared size too: the path and query alone are judged
   here, and the body goes on to the application as it arrives
   (:func:`~ttguard.core.stream.declares_encoding`).
5. **Body**: a body in one ``http.request`` message is judged whole by the core
   (:func:`~ttguard.core.stream.judge_routed`); a body in several is fed to a
   :class:`~ttguard.core.StreamValidator` message by message as it arrives, and the message that
   passes the quota, or brings a certain UTF-8 error, is answered at once and nothing more is
   read. At the end of the body the core judges JSON syntax, then path, query and body against
   the operation's schema, in the server's order.
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
  ``max_body`` bytes of a body in several messages are held, in the core, and replayed from
  there; a body in one message is replayed as the ASGI server delivered it.
* **Invisible on success.** The application receives the very bytes the client sent, the same
  scope, and the server's own ``send``.

Complexity: routing a target seen before costs one lookup (at most 4096 are remembered), a new
one a step per path segment; a body in one message is replayed as it came, a body in several is
copied once into the core's buffer (replayed from there); each byte is checked in linear time;
a request is answered after O(``max_body``) bytes at most, whatever its size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, MutableMapping
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .core import DEFAULT_MAX_BODY, Route, StreamValidator, Subcode, TTError
from .core import operations as known_operations
from .core.compare import MAX_ERROR_BODY, Answer, read_answer
from .core.routes import route_path
from .core.stream import check_size, declares_encoding, judge_routed, quota_violation
from .report import Reporter, check_recorders, log_refusal, settle

if TYPE_CHECKING:  # prometheus-client is the metrics extra's, imported by whoever makes them
    from .metrics import GuardMetrics

__all__ = [
    "ASGIApp",
    "GuardMiddleware",
    "Message",
    "Receive",
    "RequestHeaders",
    "Scope",
    "Send",
    "check_framing",
    "declared_length",
    "encoded_path",
    "internal_error",
    "mounted_prefix",
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

#: How many routes a guard remembers (:meth:`GuardMiddleware._route`): 4096 ledger targets
#: held 5.3 MB, the router's own cache included.
_REMEMBERED_ROUTES = 4096


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


class RequestHeaders:
    """What a request's headers tell the checks, read in one pass over them: the
    ``Content-Length`` values, whether a ``Transfer-Encoding`` is given, the ``Content-Encoding``
    values, and whether an ``Authorization`` is given.

    Every request is read here, and most carry none of these headers but a length: one pass
    with one set lookup a header, not one pass for each check (names come lowercased, as ASGI
    servers give them).
    """

    __slots__ = ("authorized", "chunked", "content_encodings", "content_lengths")

    def __init__(self, headers: Headers) -> None:
        lengths: list[bytes] = []
        encodings: list[bytes] = []
        chunked = authorized = False
        for name, value in headers:
            if name in _READ_HEADERS:
                if name == b"content-length":
                    lengths.append(value)
                elif name == b"transfer-encoding":
                    chunked = True
                elif name == b"content-encoding":
                    encodings.append(value)
                else:
                    authorized = True
        self.content_lengths = lengths
        self.content_encodings = encodings
        self.chunked = chunked
        self.authorized = authorized

    def check_framing(self) -> None:
        """Refuse a request framed two ways: ``Content-Length`` and ``Transfer-Encoding`` both.

        The ASGI server reads such a body by its transfer coding; anyone who reads it by its
        length instead (a proxy further on) finds another end, and the bytes after it become a
        request of their own. RFC 9112 6.1 lets a server refuse it; a guard must.
        """
        if self.chunked and self.content_lengths:
            raise TTError(Subcode.CORRUPTED_REQUEST, CONFLICTING_FRAMING)

    def declared_length(self, max_body: int) -> int | None:
        """The body size the request declares in ``Content-Length``, or ``None`` if it declares
        none.

        As RFC 9112 reads it: a ``Transfer-Encoding`` overrides any ``Content-Length``, and
        repeated values (in one header or several) count as one when they all agree. Anything
        else (not decimal digits, a sign, values that disagree) is ``400793 corrupted_request``:
        an HTTP server or proxy refuses such a request with a bare 400 before the API sees it, so
        the server's own body for it is unknown, and this subcode is the one it names for a
        request that cannot be read. A length of more than 18 digits and more digits than
        ``max_body`` is returned as ``max_body + 1``: over the quota whatever its value, and never
        handed to ``int()``, which refuses very long digit strings.
        """
        declared = self.content_lengths
        if self.chunked or not declared:
            return None
        if len(declared) == 1 and declared[0].isdigit():
            length = declared[0]  # the usual one plain value: nothing to split, strip or compare
        else:
            values = {part.strip() for value in declared for part in value.split(b",")}
            if len(values) > 1 or not next(iter(values)).isdigit():
                raise TTError(Subcode.CORRUPTED_REQUEST, INVALID_CONTENT_LENGTH)
            length = next(iter(values))
        if len(length) <= 18:  # digits alone (no sign, space or "_"), as int() reads them
            return int(length)
        digits = length.lstrip(b"0") or b"0"
        if len(digits) > len(str(max_body)):
            return max_body + 1
        return int(digits)

    def encoded(self) -> bool:
        """Whether the body comes under a content coding other than ``identity``
        (:func:`~ttguard.core.stream.declares_encoding`)."""
        return declares_encoding(self.content_encodings)


_READ_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"content-encoding",
                           b"authorization"})


def check_framing(headers: Headers) -> None:
    """Refuse a request framed two ways (:meth:`RequestHeaders.check_framing`)."""
    RequestHeaders(headers).check_framing()


def declared_length(headers: Headers, max_body: int) -> int | None:
    """The body size a request declares, if any (:meth:`RequestHeaders.declared_length`)."""
    return RequestHeaders(headers).declared_length(max_body)


def encoded_path(scope: Scope) -> str:
    """The request path as sent, percent-encoded: the core decodes each parameter once.

    ``raw_path`` keeps an encoded ``/`` inside a parameter (``a%2Fb``) apart from a separator;
    without it, ``path`` is decoded and quoted back.
    """
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is not None:
        # The spec's raw_path holds no query, but some transports put the whole target there
        # (httpx's ASGITransport did): read as a path, /twins?x=1 would name no operation and
        # pass unchecked. A '?' can only begin the query.
        return raw_path.partition(b"?")[0].decode("latin-1")
    return quote(scope["path"], safe="/")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def mounted_prefix(scope: Scope, prefix: str) -> str:
    """The path before the API in the request's path as sent: ``prefix`` below the path the
    application is mounted at (``root_path``), where the request's path holds that path.

    Starlette's ``Mount("/api", app)``, and uvicorn's ``--root-path /api``, keep the whole path
    in ``path`` and ``raw_path`` and name the mount in ``root_path``; the mounted application
    routes what follows it (Starlette's ``get_route_path``), so ttguard judges that part too: a
    guard in front of an application mounted at ``/api`` checks ``/api/twins`` as ``/twins``.
    A ``prefix`` that already starts with the mount's path is kept as it is (a guard inside
    such a mount needed one that named it, until this read ``root_path``); a path that does not
    hold the mount's path is already the application's own.
    """
    root_path: str = scope.get("root_path", "")
    if not root_path or not _under(scope["path"], root_path):
        return prefix
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is not None and not _under(unquote(encoded_path(scope)), root_path):
        return prefix
    below = prefix.strip("/")
    if below and _under("/" + below, root_path):
        return prefix
    return root_path.rstrip("/") + ("/" + below if below else "")


def _target(scope: Scope) -> str:
    """The request target as sent: its encoded path and query."""
    query: bytes = scope.get("query_string", b"")
    return encoded_path(scope) + ("?" + query.decode("latin-1") if query else "")


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the whole body in one message, then defers to ``receive``."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


class _AnswerWatcher:
    """Passes a response on, message by message, unchanged; keeps its status and, for an error
    status, the first bytes of its body, to set beside ttguard's verdict."""

    # Slots, and a success's body left alone: one is made for every response watched (metrics,
    # reports) and sees each of its messages, so each step here is paid on every request.
    __slots__ = ("_send", "body", "complete", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.body = bytearray()
        self.complete = False

    def send(self, message: Message) -> Awaitable[None]:
        # The wrapped send's own awaitable, returned, not awaited in a coroutine of this one's:
        # the application awaits it, with no frame between them.
        status = self.status
        if status is None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
        elif status >= 400 and message["type"] == "http.response.body":
            if len(self.body) <= MAX_ERROR_BODY:
                self.body += message.get("body", b"")[:MAX_ERROR_BODY + 1 - len(self.body)]
            self.complete = not message.get("more_body", False)
        return self._send(message)

    def answer(self) -> Answer | None:
        """The answer seen, if a response started; a cut one has no error body."""
        if self.status is None:
            return None
        return read_answer(self.status, bytes(self.body) if self.complete else None)


def _untraced(verdict: TTError) -> TTError:
    """A verdict to keep, without its traceback: that holds the frames that hold the keeper, a
    cycle that only the cyclic collector would free."""
    return verdict.with_traceback(None)


class _Check:
    """One request's check: the core's verdict on its body, fed message by message.

    A body that comes in one message (most do: uvicorn delivers up to 64 kB at once) is judged
    whole by the core (:func:`~ttguard.core.stream.judge_routed`), with no validator to make and
    feed; a body in several messages is fed to a :class:`~ttguard.core.StreamValidator`. Both give
    the same verdict. Any failure is a verdict: the core's :class:`TTError`, ``400793`` for a
    body that does not match its ``Content-Length`` (which a conforming ASGI server never
    delivers), ``500000`` for a failure of ttguard's own. Keeps the accepted body, to replay,
    the body bytes it saw and, for metrics, the time the core took.
    """

    # One is made for every request checked.
    __slots__ = ("_chunked", "_length", "_max_body", "_query", "_route", "_timed", "_validator",
                 "body", "body_bytes", "body_judged", "done", "operation", "seconds", "verdict")

    def __init__(self, guard: GuardMiddleware, scope: Scope, route: Route,
                 headers: RequestHeaders) -> None:
        self.operation = route.operation
        self.verdict: TTError | None = None
        self.done = False
        self.seconds = 0.0
        self.body_bytes = 0
        #: The accepted body, once the check is done without a verdict.
        self.body = b""
        #: False for a body left unjudged (under a ``Content-Encoding``), which goes on unread.
        self.body_judged = guard.judge_encoded_bodies or not headers.encoded()
        self._route = route
        self._query: str = scope.get("query_string", b"").decode("latin-1")
        self._max_body = guard.max_body
        self._length: int | None = None
        self._chunked = headers.chunked
        self._validator: StreamValidator | None = None
        # Only metrics read the time: without them, the clock is not read twice a step.
        self._timed = guard.metrics is not None
        started = perf_counter() if self._timed else 0.0
        try:
            if guard.require_authorization and not headers.authorized:
                raise TTError(Subcode.UNAUTHORIZED, AUTHORIZATION_NOT_PROVIDED)
            self._length = headers.declared_length(self._max_body)
            if not self.body_judged:
                self._judge_without_body()
            elif self._length is not None and self._length > self._max_body:
                raise quota_violation(self._max_body)
        except TTError as error:
            self.verdict, self.done = _untraced(error), True
        except Exception as failure:
            self.verdict, self.done = internal_error(failure), True
        if self._timed:
            self.seconds += perf_counter() - started

    def feed(self, message: Message) -> None:
        """Feed one ``http.request`` message; the last one (``more_body`` false) finishes."""
        if self.done:
            return
        chunk: bytes = message.get("body", b"")
        self.body_bytes += len(chunk)
        last = not message.get("more_body", False)
        started = perf_counter() if self._timed else 0.0
        try:
            if last and self._validator is None and self._length in (None, len(chunk)):
                # Most bodies come in one message: judged whole, with no validator to feed.
                judged = judge_routed(chunk, self._route, self._query, self._max_body)
                if isinstance(judged, TTError):  # returned, with no traceback to drop
                    self.verdict = judged
                else:
                    self.body = chunk
                self.done = True
            else:
                self._feed_validator(chunk, last)
        except TTError as error:
            self.verdict, self.done = _untraced(error), True
        except ValueError:
            self.verdict = TTError(Subcode.CORRUPTED_REQUEST, INVALID_CONTENT_LENGTH)
            self.done = True
        except Exception as failure:
            self.verdict, self.done = internal_error(failure), True
        if self._timed:
            self.seconds += perf_counter() - started

    def settle_unread(self, scope: Scope) -> None:
        """Judge a request whose body nobody read, if it has none: a ``Content-Length`` of 0,
        or in HTTP/1 neither a length nor a ``Transfer-Encoding`` (RFC 9112 6.3; an HTTP/2
        body needs no length). A ``GET`` handler reads no body, and its request's verdict (a
        bad path parameter, say) needs none."""
        if self.done:
            return
        bodiless = self._length == 0 or (
            self._length is None and scope.get("http_version") in ("1.0", "1.1")
            and not self._chunked)
        if bodiless:
            self.feed({"type": "http.request", "body": b"", "more_body": False})

    def _judge_without_body(self) -> None:
        StreamValidator(self.operation, max_body=self._max_body,
                        path_params=self._route.path_params,
                        query=self._query).finish_without_body()
        self.done = True

    def _feed_validator(self, chunk: bytes, last: bool) -> None:
        if self._validator is None:
            self._validator = StreamValidator(
                self.operation, content_length=self._length, max_body=self._max_body,
                path_params=self._route.path_params, query=self._query)
        self._validator.feed(chunk)
        if last:
            self.verdict = self._validator.settle()  # returned, with no traceback to drop
            if self.verdict is None:
                self.body = self._validator.body
            self.done = True


class GuardMiddleware:
    """Answers the requests the Trusted Twin server would refuse, as it would; forwards the rest.

    ``prefix`` is the path the API is mounted under (removed before routing), below the
    application's own mount point if it has one (``root_path``: Starlette's ``Mount``,
    uvicorn's ``--root-path``), which is removed first; ``max_body`` the
    body quota in bytes; ``require_authorization`` refuses a request without an
    ``Authorization`` header; ``operations`` names the operations to check (``None``: all of
    them; a request for any other passes through); ``reject_unknown`` answers a request that
    names no operation with the server's ``404`` instead of passing it through.
    ``judge_encoded_bodies`` (the default) judges a body sent under a ``Content-Encoding`` (gzip)
    as it arrives, as an application that decodes none reads it (Starlette's: gzip's bytes are
    no UTF-8, ``400314``); turned off, such a body and its declared size go on unjudged, and
    only the method, path and query are checked: for an application that may decode it, as the
    gateway's upstream, the Trusted Twin server, may.

    ``report_only`` decides but does not block: every request goes on as if ttguard were
    absent (the same messages, as they arrive; the body is checked as the application reads
    it, and a request without a body once the application is done), and each refusal is only
    logged. ``reporter`` (a :class:`ttguard.report.Reporter`)
    records each disagreement between a verdict and the application's answer (a gateway's
    upstream: the server's); ``metrics`` (a :class:`ttguard.metrics.GuardMetrics`) counts
    verdicts and disagreements. Every refused request is logged on the ``ttguard`` logger.

    A setting of the wrong type is a ``TypeError`` here, not a failure on the requests it
    would serve; an unknown operation or a negative ``max_body``, a ``ValueError``.

    >>> from starlette.applications import Starlette
    >>> from starlette.middleware import Middleware
    >>> app = Starlette(middleware=[Middleware(GuardMiddleware, max_body=65536)])
    """

    def __init__(self, app: ASGIApp, *, prefix: str = "", max_body: int = DEFAULT_MAX_BODY,
                 require_authorization: bool = False, operations: Collection[str] | None = None,
                 reject_unknown: bool = False, report_only: bool = False,
                 reporter: Reporter | None = None, metrics: GuardMetrics | None = None,
                 judge_encoded_bodies: bool = True) -> None:
        check_size("max_body", max_body)
        if not isinstance(prefix, str):
            raise TypeError(f"prefix is the path the API is mounted under, a str such as '/api' "
                            f"or '', not {type(prefix).__name__}")
        if isinstance(operations, str):
            # Else read as a collection of one-letter names.
            raise TypeError(f"operations is a collection of operation names, not one name: "
                            f"[{operations!r}]")
        check_recorders(reporter, metrics)
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
        self.judge_encoded_bodies = judge_encoded_bodies
        self.report_only = report_only
        self.reporter = reporter
        self.metrics = metrics
        self._routes: dict[tuple[str, bytes | None, str, str, str], Route | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            headers = RequestHeaders(scope["headers"])
            headers.check_framing()
            route = self._route(scope)
            if route is None and self.reject_unknown:
                raise TTError(Subcode.NOT_FOUND, NOT_FOUND)
        except Exception as failure:
            error = failure if isinstance(failure, TTError) else internal_error(failure)
            log_refusal(error, operation=None, method=scope["method"],
                        report_only=self.report_only)
            if self.report_only:
                await self.app(scope, receive, send)
            else:
                await send_error(send, error)
            return
        if route is None or (self.operations is not None
                             and route.operation not in self.operations):
            await self.app(scope, receive, send)
        elif self.report_only:
            await self._forward_and_judge(scope, receive, send, _Check(self, scope, route, headers))
        else:
            await self._forward_if_accepted(scope, receive, send,
                                            _Check(self, scope, route, headers))

    def _route(self, scope: Scope) -> Route | None:
        """The operation the request names, if any, remembered for the target's spelling; a
        :class:`TTError` raised for an ambiguous target, which is not remembered.

        A gateway sees the same few targets again and again: one lookup in place of reading the
        path, the mount and the prefix anew (7k of the guard's 95k instructions on a 1 kB body).
        A remembered route is shared by the requests that spell it alike; nothing changes it.
        """
        key = (scope["method"], scope.get("raw_path"), scope["path"], scope.get("root_path", ""),
               self.prefix)
        try:
            return self._routes[key]
        except KeyError:
            pass
        route = route_path(scope["method"], encoded_path(scope),
                           prefix=mounted_prefix(scope, self.prefix))
        if len(self._routes) >= _REMEMBERED_ROUTES:
            self._routes.clear()  # bounded, whatever targets clients make up
        self._routes[key] = route
        return route

    async def _forward_if_accepted(self, scope: Scope, receive: Receive, send: Send,
                                   check: _Check) -> None:
        """Call the application with the request if the core accepts it, else answer for it."""
        while not check.done:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            check.feed(message)
        if check.verdict is not None:
            self._account(scope, check, None)
            await send_error(send, check.verdict)
            return
        watcher = self._watcher(send)
        replay = _replaying(check.body, receive) if check.body_judged else receive
        if watcher is None:  # with no metrics and no reporter, an accepted request has no record
            await self.app(scope, replay, send)
            return
        try:
            await self.app(scope, replay, watcher.send)
        finally:
            self._account(scope, check, watcher)

    async def _forward_and_judge(self, scope: Scope, receive: Receive, send: Send,
                                 check: _Check) -> None:
        """Report only: call the application at once, checking the body as it reads it."""

        async def receive_and_check() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                check.feed(message)
            return message

        watcher = self._watcher(send)
        try:
            await self.app(scope, receive_and_check, send if watcher is None else watcher.send)
        finally:
            check.settle_unread(scope)
            if check.done:  # an application that left a body unread leaves no verdict
                self._account(scope, check, watcher)

    def _watcher(self, send: Send) -> _AnswerWatcher | None:
        return None if self.reporter is None and self.metrics is None else _AnswerWatcher(send)

    def _account(self, scope: Scope, check: _Check, watcher: _AnswerWatcher | None) -> None:
        """Settle a checked request with the answer seen, if any (:func:`ttguard.report.settle`)."""
        status = None if watcher is None else watcher.status
        if check.verdict is None and status is not None and 200 <= status < 300:
            # Accepted and answered with a success, as nearly every request is: the two agree
            # (compare()), so there is nothing to log, compare or record, only the request to
            # count. Settling it cost 1.8 us more a request (in front of a body-parsing app).
            if self.metrics is not None:
                self.metrics.checked(check.operation, None, seconds=check.seconds,
                                     body_bytes=check.body_bytes)
            return
        answer = None if watcher is None else watcher.answer()
        if check.verdict is not None and check.verdict.subcode == Subcode.INTERNAL_ERROR:
            answer = None  # ttguard's own failure says nothing of the request to compare
        settle(check.verdict, operation=check.operation, method=scope["method"],
               report_only=self.report_only, seconds=check.seconds,
               body_bytes=check.body_bytes, answer=answer,
               values=lambda: (_target(scope), check.body if check.verdict is None
                               and check.body_judged else None),
               reporter=self.reporter, metrics=self.metrics)
