"""The middleware under load: uvicorn on 127.0.0.1, with and without GuardMiddleware.

The application being protected is a Starlette app that parses each body (``parsing_app``);
``guarded_app`` puts GuardMiddleware in front of it, ``metered_app`` GuardMiddleware with
Prometheus metrics. Each server runs in its own process (``python -m uvicorn
benchmarks.load:<app>``), pinned to the last core; the load generator, pinned to the other
cores, keeps a fixed number of keep-alive connections busy, then stops: ``wrk`` for a fixed
time when it is installed (``make bench`` installs Debian's), else a bounded asyncio client in
this process for a fixed number of requests (which then shares the cores it measures with, so
its figures understate every server alike). The apps take turns round by round, and one app's
rate is compared with another's within each round (:func:`rate_ratios`), so drift on the
machine touches both sides of each ratio alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ttguard.asgi import GuardMiddleware
from ttguard.metrics import GuardMetrics

ROOT = Path(__file__).resolve().parent.parent


async def _parse(request: Request) -> Response:
    await request.json()
    return Response(status_code=201)


#: The application being protected: it parses the body, as a real handler would.
parsing_app = Starlette(routes=[Route(path, _parse, methods=["POST"]) for path in (
    "/twins", "/twins/{twin}/ledgers/{ledger}", "/twins/{twin}/identities")])
guarded_app = GuardMiddleware(parsing_app)
metered_app = GuardMiddleware(parsing_app, metrics=GuardMetrics.default())


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


def _request(path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
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
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def _drive(port: int, path: str, body: bytes, requests: int,
                 connections: int) -> LoadResult:
    request = _request(path, body)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, request, requests // connections, latencies)
                           for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1])


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local body = io.open("{body}", "rb")
wrk.body = body:read("*all")
body:close()
"""
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_path() -> str | None:
    """Where ``wrk`` is, if it is installed."""
    return shutil.which("wrk")


def _wrk(port: int, path: str, body: bytes, seconds: float, connections: int) -> LoadResult:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "body").write_bytes(body)
        script = Path(folder) / "post.lua"
        script.write_text(_WRK_SCRIPT.format(body=Path(folder) / "body"))
        output = subprocess.run(
            [wrk_path() or "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
             "-s", str(script), f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", output)
    if rate is None or p99 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return LoadResult(float(rate.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)])


def compare(cases: dict[str, tuple[str, str, bytes]], *, seconds: float = 5.0,
            requests: int = 4000, connections: int = 8,
            rounds: int = 3) -> dict[str, list[LoadResult]]:
    """Each case, ``name: (app, path, body)``, under the same load, ``rounds`` times, in turns;
    each round's figures, in order. ``wrk`` runs ``seconds`` per round; without it, the asyncio
    client sends ``requests``."""
    apps = sorted({app for app, _, _ in cases.values()})
    results: dict[str, list[LoadResult]] = {name: [] for name in cases}
    with contextlib.ExitStack() as stack:
        ports = {app: stack.enter_context(serving(app)) for app in apps}
        stack.enter_context(_on_client_cores())

        def drive(name: str, warm_up: bool = False) -> LoadResult:
            app, path, body = cases[name]
            if wrk_path() is not None:
                return _wrk(ports[app], path, body, 1.0 if warm_up else seconds, connections)
            return asyncio.run(_drive(ports[app], path, body,
                                      min(requests, 200) if warm_up else requests, connections))

        for name in cases:
            drive(name, warm_up=True)
        for _ in range(rounds):
            for name in cases:
                results[name].append(drive(name))
    return results


def median(runs: list[LoadResult]) -> LoadResult:
    """The median rate and the median p99 of some rounds."""
    return LoadResult(statistics.median(run.requests_per_second for run in runs),
                      statistics.median(run.p99_seconds for run in runs))


def rate_ratios(runs: list[LoadResult], baselines: list[LoadResult]) -> list[float]:
    """Each round's rate over its baseline's in the same round, sorted.

    The load generator and the servers share this machine with whatever else runs on it, which
    moves every rate by several percent from one round to the next. A ratio within a round,
    taken a few seconds apart, cancels most of that drift; a ratio of medians over all rounds
    keeps it.
    """
    return sorted(run.requests_per_second / baseline.requests_per_second
                  for run, baseline in zip(runs, baselines, strict=True))
