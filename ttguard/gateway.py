"""The validating gateway: a reverse proxy to the Trusted Twin API with :class:`GuardMiddleware`.

``create_app(upstream)`` is a pure ASGI application that forwards each request the middleware
lets through to ``upstream`` with ``httpx``, and streams the answer back; ``serve()`` runs it with
uvicorn (``ttguard serve`` on the command line). Needs the ``gateway`` extra.

Forwarding:

* **Target**: the upstream's URL, then the request's path in the canonical form the middleware
  judged (:func:`ttguard.core.routes.canonical_path`: ``/x/../tw%69ns`` goes as ``/twins``) less
  ``prefix``, then its query string as sent. Nothing normalises it after the verdict: the
  upstream receives the very target that was judged. A path outside ``prefix`` has nothing to
  be forwarded to and gets the server's ``404 not_found``.
* **Framing** is the gateway's own, of the kind the client chose: the client's
  ``Content-Length`` and ``Transfer-Encoding`` headers are never passed on, but a body the client
  sent chunked goes chunked, and one it sent with a length goes with the length of the bytes
  forwarded (the ASGI server read exactly that many; the gateway counts them again). A request
  framed both ways never gets here: the middleware refuses it.
* **Headers** go both ways unchanged, in order and with repeats, except the hop-by-hop ones
  (RFC 9110 7.6.1, and any a ``Connection`` header names) and the request's ``Host``, which
  becomes the upstream's. The guard judges the request's headers as they go: one that a
  ``Connection`` header names it does not see either (an ``Authorization`` named there fails
  ``require_authorization``, as the upstream would refuse the request without it). httpx adds
  none of its defaults (no ``Accept-Encoding``, say), so the upstream sees what the client
  asked for, and the client gets the upstream's bytes as they were sent (still compressed, if
  they were). The answer's ``Date`` and ``Server`` are the ASGI
  server's (uvicorn sets its own: the upstream's would go twice), and a ``Location`` into the
  upstream (its URL, or a path below the upstream's, as a redirect built from the ``Host`` the
  upstream got names it) points to the same place through the gateway, as nginx's
  ``proxy_redirect default`` does: a client that follows it stays in front of the guard.
* **Bodies are streamed** both ways: the request's as the middleware hands it on (a body it
  checked is whole already; one it let through unchecked streams as it arrives), the response's
  as it arrives from upstream. A body under a ``Content-Encoding`` (gzip) is not judged, nor its
  length (the middleware's ``judge_encoded_bodies`` is off): whether the server decodes it is
  unknown, so it goes on as sent, after its method, path and query are checked.
* **Upstream failures** get the server's error body: a timeout ``500 response_timeout``
  (``500159``), any other failure to connect or to read the response head ``500 internal_error``
  (``500000``); each is logged with its trace. A failure after the response has started cannot
  change its status: the connection to the client is dropped, so a cut body is never taken for
  a whole one. One failure does not spoil the next request: the client's pool discards the
  failed connection.
* **Any other failure** of the gateway's own is answered with the server's ``500
  internal_error`` body and logged with its cause, never with a bare 500; once the response has
  started, the connection is dropped instead.

With ``openapi=True`` (``ttguard serve --openapi``) the gateway also answers ``GET /openapi.json``
itself with the catalogue as an OpenAPI 3.1 document (:mod:`ttguard.openapi`), whose server is
the gateway's ``prefix``, for clients and fuzzers to read. Under uvicorn's ``--root-path`` both
are below it: the document at ``<root-path>/openapi.json``, its server ``<root-path><prefix>``.

``create_local_echo_upstream()`` is a **demo** stand-in for the API, for machines without
internet (``--upstream local``): it runs in-process and answers every request with the bytes it
received.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import uvicorn

from .asgi import (
    INTERNAL_ERROR,
    NOT_FOUND,
    ASGIApp,
    GuardMiddleware,
    Message,
    Receive,
    RequestHeaders,
    Scope,
    Send,
    encoded_path,
    internal_error,
    mounted_prefix,
    send_error,
)
from .core import DEFAULT_MAX_BODY, Subcode, TTError
from .core.routes import AMBIGUOUS, below_prefix, canonical_path
from .openapi import openapi_document
from .report import JsonFormatter, Reporter

if TYPE_CHECKING:  # prometheus-client is imported only where metrics are asked for
    from .metrics import GuardMetrics

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_UPSTREAM",
    "LOCAL_UPSTREAM",
    "app_from_environment",
    "create_app",
    "create_local_echo_upstream",
    "serve",
]

DEFAULT_UPSTREAM = "https://rest.trustedtwin.com"
#: The ``upstream`` that selects the in-process demo echo instead of a real server.
LOCAL_UPSTREAM = "local"
#: Seconds to wait for the upstream to connect, to accept a chunk, or to send the next bytes.
DEFAULT_TIMEOUT = 30.0

#: The status-code page's wording of a 500; it prints no example for this subcode.
RESPONSE_TIMEOUT = "The server did not respond in time."

#: Headers that describe one connection, not the message (RFC 9110 7.6.1).
_NOT_FORWARDED = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization",
    b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
})
#: Where the demo echo seems to live, for URLs and logs; nothing listens there.
_LOCAL_ECHO_URL = "http://local-echo-upstream.invalid"

#: What the gateway sets itself on a forwarded request: the upstream's host, its own framing.
_REFRAMED = frozenset({b"host", b"content-length"})
#: What frames a request body, which the guard judges (GuardMiddleware: framing, quota).
_FRAMING = frozenset({b"content-length", b"transfer-encoding"})
#: What the ASGI server sets itself on every answer (uvicorn, hypercorn).
_SET_BY_THE_SERVER = frozenset({b"date", b"server"})

logger = logging.getLogger("ttguard")


def _connection_named(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    """The header names a ``Connection`` header lists: they describe this connection only."""
    return {token.strip().lower() for name, value in headers if name.lower() == b"connection"
            for token in value.split(b",")}


def _forwardable(headers: list[tuple[bytes, bytes]], *,
                 also_drop: frozenset[bytes] = frozenset()) -> list[tuple[bytes, bytes]]:
    """``headers`` less the hop-by-hop ones, those ``Connection`` names, and ``also_drop``."""
    dropped = _NOT_FORWARDED | _connection_named(headers) | also_drop
    return [(name, value) for name, value in headers if name.lower() not in dropped]


def _as_forwarded(scope: Scope) -> Scope:
    """``scope`` without the headers its ``Connection`` header names, which the upstream never
    gets (:func:`_forwardable`), so that the guard judges the headers the upstream will: an
    ``Authorization`` named there is none (``require_authorization`` refuses it, as the
    upstream would), a ``Content-Encoding`` named there leaves the body to be judged as it is.
    The framing headers stay, which the guard judges and the gateway replaces."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    named = _connection_named(headers) - _FRAMING
    if not any(name.lower() in named for name, _ in headers):
        return scope
    return {**scope, "headers": [(name, value) for name, value in headers
                                 if name.lower() not in named]}


class _ClientDisconnected(Exception):
    """The client left while its body was being forwarded."""


async def _request_body(first: Message, receive: Receive,
                        length: int | None) -> AsyncIterator[bytes]:
    """The body chunks of a request, from its first ``http.request`` message on; exactly
    ``length`` bytes of them if a length is announced upstream (else a RuntimeError)."""
    message, sent = first, 0
    while True:
        chunk: bytes = message.get("body", b"")
        sent += len(chunk)
        if length is not None and sent > length:
            raise RuntimeError(f"the body is longer than the {length} bytes announced")
        yield chunk
        if not message.get("more_body", False):
            break
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientDisconnected
    if length is not None and sent != length:
        raise RuntimeError(f"the body is {sent} bytes, not the {length} announced")


def _framing(headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    """Whether the client sent its body chunked, and the length it announced otherwise."""
    read = RequestHeaders(headers)
    if read.chunked:
        return True, None
    try:
        return False, read.declared_length(sys.maxsize)
    except TTError:  # the ASGI server read the body by some length: httpx will count it
        return False, None


class _Forwarder:
    """The ASGI endpoint that sends a request on to the upstream and streams its answer back.

    Its upstream client lives as long as the application: :meth:`lifespan` opens and closes it.
    """

    def __init__(self, upstream: str, *, prefix: str, timeout: float,
                 transport: httpx.AsyncBaseTransport | None,
                 metrics: GuardMetrics | None) -> None:
        self.upstream = httpx.URL(upstream)
        self.prefix = prefix
        self.timeout = timeout
        self.transport = transport
        self.metrics = metrics
        self.client: httpx.AsyncClient | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Own the upstream client while the application runs."""
        # Set-Cookie goes on to the clients; the gateway itself keeps nobody's cookies.
        keep_no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout,
                                     cookies=keep_no_cookies) as client:
            self.client = client
            try:
                yield
            finally:
                self.client = None

    def _target(self, scope: Scope) -> httpx.URL | None:
        """The upstream URL for a request, or ``None`` for a path outside the prefix.

        Raises the ``400793`` :class:`TTError` for an ambiguous path (which the middleware
        has refused already, unless it lies outside the prefix).
        """
        # Below the prefix the middleware removed: the gateway's, below its own mount point.
        path = canonical_path(encoded_path(scope))
        below = below_prefix(path, mounted_prefix(scope, self.prefix))
        if below is None:
            return None
        query: bytes = scope.get("query_string", b"")
        try:
            return self.upstream.copy_with(
                raw_path=self._base_path + below.encode("ascii") + (b"?" + query if query else b""))
        except (httpx.InvalidURL, UnicodeDecodeError):
            # h11 lets a '#' into the query, which no URL holds past its fragment.
            raise TTError(Subcode.CORRUPTED_REQUEST,
                          AMBIGUOUS.format("a character no URL holds in the query")) from None

    @functools.cached_property
    def _base_path(self) -> bytes:
        """The upstream URL's path, without its trailing ``/``: where forwarded paths go."""
        return self.upstream.raw_path.split(b"?")[0].rstrip(b"/")

    def _answer_headers(self, scope: Scope, headers: list[tuple[bytes, bytes]]
                        ) -> list[tuple[bytes, bytes]]:
        """The upstream's answer headers as the client gets them (see the module's
        description)."""
        kept = _forwardable(headers, also_drop=_SET_BY_THE_SERVER)
        return [(name, self._through_gateway(scope, value) if name.lower() == b"location"
                 else value) for name, value in kept]

    def _through_gateway(self, scope: Scope, location: bytes) -> bytes:
        """``location`` pointed through the gateway where it points into the upstream: to its
        origin, however spelled, or to a path, below the upstream's path. Any other goes as
        sent, and so does one whose rest would read as another host (``//``, ``/\\``)."""
        try:
            url = httpx.URL(location.decode("latin-1"))
        except httpx.InvalidURL:
            return location
        upstream = self.upstream
        if url.is_absolute_url:
            if (url.scheme, url.host, url.port) != (upstream.scheme, upstream.host, upstream.port):
                return location
        elif not location.startswith(b"/") or location.startswith(b"//"):
            return location
        path, base = url.raw_path, self._base_path
        rest = path[len(base):]
        if path[:len(base)] != base or rest[:1] not in (b"", b"/", b"?") or rest.startswith(
                (b"//", b"/\\")):
            return location
        mount = quote(mounted_prefix(scope, self.prefix).rstrip("/")).encode("ascii")
        if not rest.startswith(b"/"):  # the upstream's root, perhaps with a query
            rest = (b"" if mount else b"/") + rest
        return mount + rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.client is None:
            raise RuntimeError("the gateway's upstream client lives in its lifespan: "
                               "run the application under a server that runs the lifespan")
        try:
            target = self._target(scope)
            if target is None:
                raise TTError(Subcode.NOT_FOUND, NOT_FOUND)
        except TTError as error:
            await send_error(send, error)
            return
        first = await receive()
        if first["type"] == "http.disconnect":
            return
        headers = _forwardable(scope["headers"], also_drop=_REFRAMED)
        chunked, length = _framing(scope["headers"])
        content: bytes | AsyncIterator[bytes]
        if chunked or first.get("more_body", False):
            # httpx streams an iterator chunked, or with the length given in the headers.
            content = _request_body(first, receive, length)
            if length is not None:
                headers.append((b"content-length", b"%d" % length))
        else:
            content = first.get("body", b"")  # httpx gives it its length
        request = httpx.Request(scope["method"], target, headers=headers, content=content)
        started = perf_counter()
        try:
            response = await self.client.send(request, stream=True)
            if self.metrics is not None:
                self.metrics.upstream_seconds.observe(perf_counter() - started)
        except _ClientDisconnected:
            return
        except httpx.TimeoutException as failure:
            await _answer_failure(send, TTError(Subcode.RESPONSE_TIMEOUT, RESPONSE_TIMEOUT),
                                  target, failure)
            return
        except httpx.TransportError as failure:
            await _answer_failure(send, TTError(Subcode.INTERNAL_ERROR, INTERNAL_ERROR),
                                  target, failure)
            return
        try:
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": self._answer_headers(scope, response.headers.raw)})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()


async def _answer_failure(send: Send, error: TTError, target: httpx.URL,
                          failure: httpx.TransportError) -> None:
    logger.warning("upstream request to %s failed (%s: %s); answered %d, trace %s", target,
                   type(failure).__name__, failure, error.subcode, error.trace)
    await send_error(send, error)


def check_upstream(upstream: str) -> None:
    """Raise ``ValueError`` unless ``upstream`` is ``"local"`` or an absolute http or https URL:
    any other is taken at construction, and every request forwarded to it fails with a 500."""
    if upstream == LOCAL_UPSTREAM:
        return
    try:
        url = httpx.URL(upstream)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"the upstream is {LOCAL_UPSTREAM!r} or an absolute http or https URL "
                         f"(such as {DEFAULT_UPSTREAM}), not {upstream!r}")


def create_app(upstream: str, *, prefix: str = "", max_body: int = DEFAULT_MAX_BODY,
               require_authorization: bool = False, timeout: float = DEFAULT_TIMEOUT,
               transport: httpx.AsyncBaseTransport | None = None, report_only: bool = False,
               reporter: Reporter | None = None, metrics: GuardMetrics | None = None,
               openapi: bool = False) -> ASGIApp:
    """The validating gateway: checks each request as the server would, forwards the good ones.

    ``upstream`` is the API's base URL (:data:`DEFAULT_UPSTREAM` for Trusted Twin), or
    ``"local"`` for the demo echo (:func:`create_local_echo_upstream`, run in-process).
    ``prefix``, ``max_body``, ``require_authorization``, ``report_only``, ``reporter`` and
    ``metrics`` configure the :class:`~ttguard.asgi.GuardMiddleware`; ``prefix`` is also
    removed before forwarding, and ``metrics`` also time the upstream. ``timeout`` bounds, in
    seconds, each wait on the upstream: to connect, to take the next request bytes, to give the
    next response bytes. ``transport`` replaces httpx's network transport (to reach an
    in-process application, say). The application runs its upstream client in the ASGI
    lifespan, which its server must run (uvicorn does). ``openapi`` serves the
    catalogue as OpenAPI 3.1 at ``/openapi.json``. ``ValueError`` for any other ``upstream``
    (:func:`check_upstream`), or a ``timeout`` of no time.
    """
    check_upstream(upstream)
    if not timeout > 0:  # NaN too: httpx would give up on every request at once
        raise ValueError(f"timeout must be a number of seconds above 0: {timeout!r}")
    if upstream == LOCAL_UPSTREAM:
        upstream = _LOCAL_ECHO_URL
        transport = httpx.ASGITransport(app=create_local_echo_upstream())
    # One spelling for the paths compared with it: "api" and "/api/" are "/api", as the guard
    # reads them.
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    forwarder = _Forwarder(upstream, prefix=prefix, timeout=timeout, transport=transport,
                           metrics=metrics)
    # The upstream is the Trusted Twin server, which may decode a Content-Encoding: a body
    # under one is forwarded unjudged, as the client guards send it (core.declares_encoding).
    guarded: ASGIApp = GuardMiddleware(
        forwarder, prefix=prefix, max_body=max_body, require_authorization=require_authorization,
        report_only=report_only, reporter=reporter, metrics=metrics, judge_encoded_bodies=False)
    if openapi:
        guarded = _OpenAPI(guarded, prefix)
    return _Gateway(guarded, forwarder)


class _OpenAPI:
    """Answers ``GET /openapi.json``, below the application's mount point if it has one
    (``root_path``, uvicorn's ``--root-path``), with the catalogue as OpenAPI 3.1, whose server
    is where the guard finds the API (:func:`~ttguard.asgi.mounted_prefix`); hands every other
    request on."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # mounted_prefix() with no prefix: the application's own mount point, if any.
        if (scope["path"] != mounted_prefix(scope, "") + "/openapi.json"
                or scope["method"] not in ("GET", "HEAD")):
            await self.app(scope, receive, send)
            return
        # A URL: the mount point, decoded in the scope, encoded again (/acme%20corp).
        document = _document(quote(mounted_prefix(scope, self.prefix).rstrip("/")) or "/")
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(document)).encode("ascii"))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else document
        await send({"type": "http.response.body", "body": body, "more_body": False})


@functools.lru_cache(maxsize=16)
def _document(server: str) -> bytes:
    """The OpenAPI document for the API served at ``server``, as sent: a few mount points'
    kept. The catalogue's document is made once, for any server: ``openapi_document()`` keeps
    one for each, and an ASGI server's ``root_path`` may come from a request's header."""
    return json.dumps({**openapi_document(), "servers": [{"url": server}]}).encode("ascii")


class _Gateway:
    """The gateway's outermost layer: the lifespan that owns the upstream client, and the last
    word on a failure, which is the server's ``500`` body, never a bare one."""

    def __init__(self, app: ASGIApp, forwarder: _Forwarder) -> None:
        self.app = app
        self.forwarder = forwarder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(_as_forwarded(scope), receive, tracking_send)
        except Exception as failure:
            if started:
                raise  # a status already sent cannot change: the server drops the connection
            await send_error(send, internal_error(failure))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        stage = "startup"
        await receive()  # lifespan.startup
        try:
            async with self.forwarder.running():
                await send({"type": "lifespan.startup.complete"})
                await receive()  # lifespan.shutdown
                stage = "shutdown"
        except Exception as failure:
            logger.exception("the gateway's %s failed", stage)
            await send({"type": f"lifespan.{stage}.failed", "message": str(failure)})
            return
        await send({"type": "lifespan.shutdown.complete"})


def create_local_echo_upstream() -> ASGIApp:
    """A **demo** stand-in for the Trusted Twin API, for trying the gateway without internet.

    It is not the API: it checks nothing and stores nothing. It answers a ``POST`` with
    ``201`` and any other method with ``200``, with the very body it received as an
    ``application/json`` body, and says what reached it: ``x-echo-method``, ``x-echo-target``
    (path and query as received), and one ``x-echo-header: <name>: <value>`` per request header.
    """

    async def local_echo_upstream(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more_body = message.get("more_body", False)
        query: bytes = scope.get("query_string", b"")
        target: bytes = (scope.get("raw_path") or scope["path"].encode("utf-8")) + (
            b"?" + query if query else b"")
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode("ascii")),
                   (b"x-echo-method", scope["method"].encode("ascii")),
                   (b"x-echo-target", target)]
        # rstrip: an empty value ends in the separator's space, which HTTP forbids.
        headers += [(b"x-echo-header", (name + b": " + value).rstrip())
                    for name, value in scope["headers"]]
        await send({"type": "http.response.start",
                    "status": 201 if scope["method"] == "POST" else 200, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(body), "more_body": False})

    return local_echo_upstream


#: The environment variable that hands :func:`serve`'s settings to each uvicorn worker.
CONFIG_VARIABLE = "TTGUARD_GATEWAY"


def serve(upstream: str = DEFAULT_UPSTREAM, host: str = "127.0.0.1", port: int = 8080,
          prefix: str = "", *, max_body: int = DEFAULT_MAX_BODY,
          require_authorization: bool = False, timeout: float = DEFAULT_TIMEOUT,
          report_only: bool = False, report: str | None = None, report_values: bool = False,
          metrics_port: int | None = None, workers: int = 1, log_format: str = "text",
          log_level: str = "info", openapi: bool = False) -> None:
    """Run the gateway (:func:`create_app`) with uvicorn until it is stopped.

    ``report`` is a file to append disagreement records to (``report_values``: with the
    path, query and body of each). ``metrics_port`` serves the metrics on that port of
    ``host``, summed over the ``workers`` (prometheus-client's multiprocess mode: each worker
    writes its figures to a folder of its own, which lives as long as this call).
    ``log_format`` is ``text`` or ``json`` for the ``ttguard`` logger. ``openapi`` serves the
    catalogue at ``/openapi.json`` (:func:`create_app`).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1: {workers}")
    if log_format not in ("text", "json"):
        raise ValueError(f"log_format must be 'text' or 'json': {log_format!r}")
    settings = {"upstream": upstream, "prefix": prefix, "max_body": max_body,
                "require_authorization": require_authorization, "timeout": timeout,
                "report_only": report_only, "report": report, "report_values": report_values,
                "metrics": metrics_port is not None, "log_format": log_format,
                "openapi": openapi}
    os.environ[CONFIG_VARIABLE] = json.dumps(settings)
    with contextlib.ExitStack() as stack:
        if metrics_port is not None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="ttguard-metrics-"))
            # Before prometheus-client is imported, here and in every worker.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
            from prometheus_client import CollectorRegistry, multiprocess, start_http_server

            summed = CollectorRegistry()
            multiprocess.MultiProcessCollector(summed)  # type: ignore[no-untyped-call]
            server, _ = start_http_server(metrics_port, addr=host, registry=summed)
            stack.callback(server.shutdown)
        uvicorn.run(f"{__name__}:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level=log_level)


def app_from_environment() -> ASGIApp:
    """The gateway as :func:`serve` set it up, for each uvicorn worker to build its own."""
    settings: dict[str, Any] = json.loads(os.environ[CONFIG_VARIABLE])
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings["log_format"] == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    metrics = None
    if settings["metrics"]:
        from .metrics import GuardMetrics

        metrics = GuardMetrics.default()
    reporter = None if settings["report"] is None else Reporter(
        settings["report"], include_values=settings["report_values"])
    return create_app(settings["upstream"], prefix=settings["prefix"],
                      max_body=settings["max_body"],
                      require_authorization=settings["require_authorization"],
                      timeout=settings["timeout"], report_only=settings["report_only"],
                      reporter=reporter, metrics=metrics, openapi=settings["openapi"])
