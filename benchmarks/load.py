"""The middleware under load: uvicorn on 127.0.0.1, with and without GuardMiddleware.

Each server runs in its own process (``python -m uvicorn benchmarks.load:<app>``), pinned to
the last core; a bounded asyncio load generator in this process, pinned to the other cores,
keeps a fixed number of keep-alive connections busy for a fixed number of requests, then
stops. Bare and guarded runs alternate, so drift on the machine touches both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ttguard.asgi import GuardMiddleware

ROOT = Path(__file__).resolve().parent.parent


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The application being protected: it reads the body and answers 201 with its size."""
    if scope["type"] != "http":
        return
    size, more_body = 0, True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more_body = message.get("more_body", False)
    answer = str(size).encode()
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


guarded_app = GuardMiddleware(bare_app)


class LoadResult(NamedTuple):
    requests_per_second: float
    p99_seconds: float


@contextlib.contextmanager
def subprocess_server(
        command: Callable[[int], list[str]]) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run ``command(port)``, a server for 127.0.0.1:port, until the block ends; yield both.

    The port is one the kernel just gave out; the server counts as up once it accepts a
    connection (within 20 s, or RuntimeError).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    process = subprocess.Popen(command(port), cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the server did not start: {command(port)}") from None
                time.sleep(0.05)
        yield port, process
    finally:
        process.terminate()
        process.wait(10)


#: With two cores or more, the servers get the last core and the load generator the others,
#: so that a server's rate is its own, not what the generator leaves it.
_CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
_SERVER_CORES = set(_CORES[-1:]) if len(_CORES) >= 2 else set()
_CLIENT_CORES = set(_CORES[:-1]) if len(_CORES) >= 2 else set()


@contextlib.contextmanager
def serving(app: str) -> Iterator[int]:
    """Run ``benchmarks.load:<app>`` under uvicorn in a subprocess; yield its port."""
    with subprocess_server(lambda port: [
            sys.executable, "-m", "uvicorn", f"benchmarks.load:{app}", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log"]) as (port, process):
        if _SERVER_CORES:
            os.sched_setaffinity(process.pid, _SERVER_CORES)
        yield port


@contextlib.contextmanager
def _on_client_cores() -> Iterator[None]:
    if not _CLIENT_CORES:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, _CLIENT_CORES)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _request(body: bytes) -> bytes:
    head = (f"POST /twins HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def _connection(port: int, request: bytes, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 201"):
                raise RuntimeError(f"unexpected answer: {head!r}")
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def _drive(port: int, body: bytes, requests: int, connections: int) -> LoadResult:
    request = _request(body)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, request, requests // connections, latencies)
                           for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1])


def compare(body: bytes, *, requests: int, connections: int = 8,
            rounds: int = 3) -> dict[str, LoadResult]:
    """Bare and guarded servers under the same load, ``rounds`` times each, alternating."""
    results: dict[str, list[LoadResult]] = {"bare_app": [], "guarded_app": []}
    with serving("bare_app") as bare, serving("guarded_app") as guarded, _on_client_cores():
        ports = {"bare_app": bare, "guarded_app": guarded}
        for port in ports.values():  # warm up both
            asyncio.run(_drive(port, body, min(requests, 200), connections))
        for _ in range(rounds):
            for app, port in ports.items():
                results[app].append(asyncio.run(_drive(port, body, requests, connections)))
    return {app: LoadResult(statistics.median(r.requests_per_second for r in runs),
                            statistics.median(r.p99_seconds for r in runs))
            for app, runs in results.items()}
