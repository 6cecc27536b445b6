"""The middleware under load: uvicorn on 127.0.0.1, with and without GuardMiddleware.

The application being protected is a Starlette app that parses each body (``parsing_app``);
``guarded_app`` puts GuardMiddleware in front of it, ``metered_app`` GuardMiddleware with
Prometheus metrics. Each server runs in its own process (``python -m uvicorn
benchmarks.load:<app>``), pinned to the last core; the load generator, pinned to the other
cores, keeps a fixed number of keep-alive connections busy, then stops: ``wrk`` for a fixed
time when it is installed (``make bench`` installs Debian's), else a bounded asyncio client in
this process for a fixed number of requests (which then shares the cores it measures with, so
its figures understate every server alike). The apps take turns round by round
(:func:`compare`): their rates, and their latencies. With ``wrk``, their costs are also compared
side by side (:func:`side_by_side`): all servers loaded at once, sharing the server core, so
that one app's rate over another's within a round (:func:`rate_ratios`) is untouched by the
drift of a shared machine.
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
    return _wrk_all([(port, path, body)], seconds, connections)[0]


def _wrk_all(targets: list[tuple[int, str, bytes]], seconds: float,
             connections: int) -> list[LoadResult]:
    """One ``wrk`` for each ``(port, path, body)``, all at once; their figures, in order."""
    with tempfile.TemporaryDirectory() as folder:
        runs: list[subprocess.Popen[str]] = []
        try:
            for index, (port, path, body) in enumerate(targets):
                (Path(folder) / f"body{index}").write_bytes(body)
                script = Path(folder) / f"post{index}.lua"
                script.write_text(_WRK_SCRIPT.format(body=Path(folder) / f"body{index}"))
                runs.append(subprocess.Popen(
                    [wrk_path() or "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s",
                     "--latency", "-s", str(script), f"http://127.0.0.1:{port}{path}"],
                    stdout=subprocess.PIPE, text=True))
            outputs = [run.communicate(timeout=seconds + 60)[0] for run in runs]
        finally:
            for run in runs:  # a wrk left running by a failure stops here, not at its deadline
                if run.poll() is None:
                    run.kill()
                    run.wait()
        for run in runs:
            if run.returncode != 0:
                raise subprocess.CalledProcessError(run.returncode, run.args)
    results = []
    for output in outputs:
        rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", output)
        if rate is None or p99 is None:
            raise RuntimeError(f"cannot read wrk's output:\n{output}")
        results.append(LoadResult(float(rate.group(1)),
                                  float(p99.group(1)) * _UNITS[p99.group(2)]))
    return results


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


def side_by_side(cases: dict[str, tuple[str, str, bytes]], *, seconds: float = 5.0,
                 connections: int = 8, rounds: int = 3) -> dict[str, list[LoadResult]]:
    """Every case under load at the same time, ``rounds`` times: each round's figures, in order.
    Needs ``wrk``.

    Each case gets a server of its own, all on the server core, and a ``wrk`` of its own. The
    core's time is shared evenly between servers that are all busy, so one case's rate over
    another's in the same round is the inverse of their costs a request, measured under the very
    same conditions: whatever else runs on the machine slows both alike, in the same seconds. On
    a shared 2-core machine, rates one after the other moved by up to 25% from second to second
    (two rates of the same server, one second each); side by side, the ratios of a round
    spread over a few percent.
    """
    names = list(cases)
    results: dict[str, list[LoadResult]] = {name: [] for name in names}
    with contextlib.ExitStack() as stack:
        ports = {name: stack.enter_context(serving(cases[name][0])) for name in names}
        stack.enter_context(_on_client_cores())
        targets = [(ports[name], cases[name][1], cases[name][2]) for name in names]
        _wrk_all(targets, 1.0, connections)  # warm-up
        for _ in range(rounds):
            for name, result in zip(names, _wrk_all(targets, seconds, connections), strict=True):
                results[name].append(result)
    return results


def median(runs: list[LoadResult]) -> LoadResult:
    """The median rate and the median p99 of some rounds."""
    return LoadResult(statistics.median(run.requests_per_second for run in runs),
                      statistics.median(run.p99_seconds for run in runs))


def rate_ratios(runs: list[LoadResult], baselines: list[LoadResult]) -> list[float]:
    """Each round's rate over its baseline's in the same round, sorted.

    From :func:`side_by_side`, the inverse ratio of their costs a request, both measured in the
    same seconds; from :func:`compare`, of rates measured a few seconds apart, which cancels
    slow drift only (a ratio of medians over all rounds keeps even that).
    """
    return sorted(run.requests_per_second / baseline.requests_per_second
                  for run, baseline in zip(runs, baselines, strict=True))
