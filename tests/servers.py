"""Real servers for the adapter tests: uvicorn on 127.0.0.1, raw HTTP/1.1 clients, recorders.

Everything here listens on loopback only, on a port the kernel picks, and stops by itself when
its ``with`` block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = dict[str, Any]


@dataclass
class Running:
    """A server running in this process: where it listens, and how to reach it."""

    host: str
    port: int
    #: The thread serving it, if in this process: what it logs carries this ``record.thread``,
    #: which tells its records from those of a server another test left running.
    thread: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def wait_until(condition: Callable[[], bool], *, seconds: float = 30.0) -> bool:
    """Whether ``condition()`` holds within ``seconds``, asked every 20 ms (it stops at once).

    For what another thread or process makes true (a server finishing its requests): a busy
    machine may take its time, so a test waits for the condition, bounded, rather than for a
    fixed delay or reading it once.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@contextlib.contextmanager
def uvicorn_server(app: Any, *, lifespan: str = "auto", root_path: str = "") -> Iterator[Running]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread, for the ``with`` block (``root_path``:
    uvicorn's ``--root-path``)."""
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it each small response waits 40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan,  # type: ignore[arg-type]
                            timeout_graceful_shutdown=2, root_path=root_path)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    if not wait_until(lambda: server.started or not thread.is_alive()) or not server.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield Running("127.0.0.1", port, thread.ident)
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def run_asgi(app: Any, scope: dict[str, Any],
             incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Call ``app`` with ``incoming`` as its messages; return what it sent. For the ASGI
    contract on the message level, where a real server cannot choose the messages."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


async def read_body(receive: Any) -> bytes | None:
    """A request's whole body, message by message, or ``None`` if the client left first."""
    body = bytearray()
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more_body = message.get("more_body", False)
    return bytes(body)


@dataclass
class Recorder:
    """A downstream ASGI app that records every request it gets and echoes the body.

    It answers ``201`` with the body it received, read message by message; ``messages`` keeps
    the ``http.request`` messages of each request, to check ``more_body``.
    """

    requests: list[tuple[Scope, bytes]] = field(default_factory=list)
    messages: list[list[dict[str, Any]]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = bytearray()
        received: list[dict[str, Any]] = []
        more_body = True
        while more_body:
            message = await receive()
            received.append(dict(message))
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more_body = message.get("more_body", False)
        self.requests.append((scope, bytes(body)))
        self.messages.append(received)
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": bytes(body)})


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def read_response(sock: socket.socket) -> Response:
    """Read one HTTP/1.1 response (with a Content-Length, as every answer here has)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"connection closed before the response head: {data!r}")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        rest += piece
    return Response(int(status_line.split()[1]), headers, rest[:length])


def chunked(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunked transfer coding of ``chunks`` (empty chunks are skipped, as they must be)."""
    for chunk in chunks:
        if chunk:
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send_request(running: Running, method: str, path: str, body_chunks: Iterable[bytes] = (),
                 *, headers: dict[str, str] | None = None,
                 content_length: int | None = None) -> Response:
    """Send one request over a fresh connection and read the answer.

    The body is chunked unless ``content_length`` is given; then the chunks go as they are.
    A server that answers before the body ends may close the connection: sending stops there.
    """
    headers = dict(headers or {})
    if content_length is None:
        headers["Transfer-Encoding"] = "chunked"
        wire: Iterable[bytes] = chunked(body_chunks)
    else:
        headers["Content-Length"] = str(content_length)
        wire = body_chunks
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(request_head(method, path, headers))
        for piece in wire:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break  # answered early: the answer waits in the socket
        return read_response(sock)


@dataclass
class Received:
    """What the raw upstream read: the request line's target, the headers, the body bytes."""

    target: str
    headers: list[tuple[str, str]]
    body: bytes


class RecordingUpstream(socketserver.ThreadingTCPServer):
    """A raw HTTP/1.1 upstream on 127.0.0.1 that records each request's bytes and answers 200."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.received: list[Received] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[RecordingUpstream]:
        """A recording upstream serving in a thread for the ``with`` block."""
        upstream = cls()
        thread = threading.Thread(target=upstream.serve_forever, daemon=True)
        thread.start()
        try:
            yield upstream
        finally:
            upstream.shutdown()
            upstream.server_close()


class _UpstreamHandler(socketserver.StreamRequestHandler):
    server: RecordingUpstream

    def handle(self) -> None:
        while True:
            line = self.rfile.readline()
            if not line:
                return
            headers: list[tuple[str, str]] = []
            while (header := self.rfile.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                headers.append((name.strip().lower(), value.strip()))
            names = [name for name, _ in headers]
            if "transfer-encoding" in names:
                body = self._chunked_body()
            else:
                body = self.rfile.read(int(dict(headers).get("content-length", "0")))
            self.server.received.append(Received(line.split()[1].decode("latin-1"),
                                                 headers, body))
            self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

    def _chunked_body(self) -> bytes:
        body = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b""):
            pass  # trailers
        return body
