"""Load and faults on GuardMiddleware under uvicorn on 127.0.0.1: bounded memory, nothing lost.

Every loop here is bounded and targets loopback only. ``make test`` runs modest sizes;
``make load`` runs the figures the README states (set by the environment below):

* ``TTGUARD_LOAD_CLIENTS`` concurrent uploads (20; ``make load``: 200), each ready to send
  ``TTGUARD_LOAD_BYTES`` (16 MiB; ``make load``: 1 GiB) and stopping when answered;
* ``TTGUARD_LOAD_REQUESTS`` mixed requests in a row, half of them chunked (10 000).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.load import subprocess_server
from tests.servers import Recorder, Running, request_head, uvicorn_server
from ttguard import StreamValidator
from ttguard.asgi import GuardMiddleware

CLIENTS = int(os.environ.get("TTGUARD_LOAD_CLIENTS", "20"))
UPLOAD_BYTES = int(os.environ.get("TTGUARD_LOAD_BYTES", str(16 * 2**20)))
REQUESTS = int(os.environ.get("TTGUARD_LOAD_REQUESTS", "10000"))
CHUNK = b"x" * 65536
#: What the guarded server may grow by under the concurrent uploads (measured: see README).
RSS_BOUND = 64 * 2**20
SERVER = """
import sys, uvicorn
from tests.servers import Recorder
from ttguard.asgi import GuardMiddleware
uvicorn.run(GuardMiddleware(Recorder()), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning")
"""


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident set now (``VmRSS``) and at its peak (``VmHWM``), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


@contextlib.contextmanager
def server_process() -> Iterator[tuple[Running, subprocess.Popen[bytes]]]:
    """The guarded recorder under uvicorn in its own process, so its memory can be measured."""
    with subprocess_server(lambda port: [sys.executable, "-c", SERVER, str(port)]) as (
            port, process):
        yield Running("127.0.0.1", port), process


async def upload(running: Running, total: int, *,
                 stop_when_answered: bool = True) -> tuple[int, int]:
    """Send a chunked body of ``total`` bytes, or less if answered first; return (status, sent)."""
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(request_head("POST", "/twins", {"Transfer-Encoding": "chunked"}))
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    frame = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    sent = 0
    try:
        while sent < total and not (stop_when_answered and answer.done()):
            writer.write(frame)
            sent += len(CHUNK)
            await writer.drain()
        if sent >= total:
            writer.write(b"0\r\n\r\n")
        head = await asyncio.wait_for(answer, 30)
    except (ConnectionError, asyncio.IncompleteReadError):
        head = await asyncio.wait_for(answer, 30)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return int(head.split()[1]), sent


def test_concurrent_oversized_uploads_keep_the_server_memory_bounded() -> None:
    with server_process() as (running, process):
        assert asyncio.run(upload(running, 2 * len(CHUNK)))[0] == 400  # warm up
        before = memory_kib(process.pid)

        async def everyone() -> list[tuple[int, int]]:
            return await asyncio.gather(*(upload(running, UPLOAD_BYTES)
                                          for _ in range(CLIENTS)))

        started = time.monotonic()
        results = asyncio.run(everyone())
        after = memory_kib(process.pid)
    growth = (after["VmHWM"] - before["VmRSS"]) * 1024
    print(f"\n{CLIENTS} concurrent uploads of up to {UPLOAD_BYTES} bytes: answered in "
          f"{time.monotonic() - started:.2f} s; each sent at most {max(s for _, s in results)} "
          f"bytes; server peak RSS grew {growth / 2**20:.1f} MiB "
          f"(from {before['VmRSS'] / 1024:.1f} MiB)")
    assert [status for status, _ in results] == [400] * CLIENTS
    assert max(sent for _, sent in results) < min(UPLOAD_BYTES, 64 * 2**20)
    assert growth < RSS_BOUND


def test_a_gigabyte_sent_whole_despite_the_answer_leaves_the_memory_flat() -> None:
    """A client that ignores the early answer: the server discards the rest as it comes."""
    with server_process() as (running, process):
        before = memory_kib(process.pid)
        status, sent = asyncio.run(upload(running, 2**30, stop_when_answered=False))
        after = memory_kib(process.pid)
    growth = (after["VmHWM"] - before["VmRSS"]) * 1024
    print(f"\n1 GiB sent whole: server peak RSS grew {growth / 2**20:.1f} MiB")
    assert (status, sent) == (400, 2**30)
    assert growth < 8 * 2**20


def test_slow_clients_hold_no_more_than_their_bytes() -> None:
    """Clients sending one byte per 100 ms: the server holds what arrived, nothing more."""
    body = b'{"description": {"name": "Pump 7"}}'
    with server_process() as (running, process):
        before = memory_kib(process.pid)

        async def slow(index: int) -> int:
            reader, writer = await asyncio.open_connection(running.host, running.port)
            writer.write(request_head("POST", "/twins", {"Content-Length": str(len(body))}))
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1 if index % 2 else 0.01)
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            return int(head.split()[1])

        async def everyone() -> list[int]:
            return await asyncio.gather(*(slow(index) for index in range(50)))

        statuses = asyncio.run(everyone())
        after = memory_kib(process.pid)
    assert statuses == [201] * 50
    assert (after["VmHWM"] - before["VmRSS"]) * 1024 < 16 * 2**20


class InFlight:
    """Counts the HTTP requests inside the wrapped app, to see that none is left behind."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.count -= 1


def live_validators() -> int:
    gc.collect()
    return sum(isinstance(obj, StreamValidator) for obj in gc.get_objects())


def test_clients_that_leave_mid_body_leave_nothing_behind() -> None:
    recorder = Recorder()
    app = InFlight(GuardMiddleware(recorder))
    before = live_validators()  # other tests' errors may still hold theirs
    with uvicorn_server(app) as running:
        for _ in range(100):
            with socket.create_connection((running.host, running.port)) as sock:
                sock.sendall(request_head("POST", "/twins", {"Content-Length": "1000"}))
                sock.sendall(b'{"description": {"name": "half')
        # uvicorn lets go of a request's objects when it handles the lost connection, which
        # can come after the app has returned on a loaded machine: wait for both.
        deadline = time.monotonic() + 10
        while (app.count or live_validators() > before) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.count == 0
        assert live_validators() <= before
        answer = httpx.post(f"{running.url}/twins", content=b'{"description": {}}')
    assert answer.status_code == 201
    assert len(recorder.requests) == 1


# body, expected status, expected subcode (None: forwarded)
MIX: list[tuple[bytes, int, int | None]] = [
    (b'{"description": {"id": %d}}', 201, None),
    (b'{"description": {"id": %d, "Bad": 1}}', 400, 400589),
    (b'{"description": {"id": %d}', 400, 400415),
    (b'{"description": {"id": %d, "n": "\xff"}}', 400, 400314),
    (b'{"description": {"id": %d, "pad": "' + b"x" * 65536 + b'"}}', 400, 400141),
    (b'{"description": {"id": %d, "ok": true}}', 201, None),
]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_mixed_requests_in_a_row_give_exact_verdict_counts(framing: str) -> None:
    recorder = Recorder()
    expected: dict[tuple[int, int | None], int] = {}
    seen: dict[tuple[int, int | None], int] = {}
    forwarded: list[bytes] = []
    with uvicorn_server(GuardMiddleware(recorder)) as running, \
            httpx.Client(base_url=running.url) as client:
        for number in range(REQUESTS // 2):
            template, status, subcode = MIX[number % len(MIX)]
            body = template % number
            content = body if framing == "content-length" else iter([body[:9], body[9:]])
            response = client.post("/twins", content=content)
            key = (response.status_code,
                   None if response.status_code == 201 else response.json()["subcode"])
            seen[key] = seen.get(key, 0) + 1
            expected[(status, subcode)] = expected.get((status, subcode), 0) + 1
            if status == 201:
                forwarded.append(body)
                assert response.content == body
    assert seen == expected
    assert [body for _, body in recorder.requests] == forwarded


def test_error_bodies_are_the_servers_shape() -> None:
    with uvicorn_server(GuardMiddleware(Recorder())) as running:
        response = httpx.post(f"{running.url}/twins", content=b"{")
    assert json.loads(response.content).keys() == {"subcode", "trace", "description"}
