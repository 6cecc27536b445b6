"""Outgoing guards with real clients against a recording server on 127.0.0.1.

The official ``trustedtwin`` client (sync over requests, async over aiohttp) with a guarded
session: a request the server would refuse raises TTError and the server receives nothing; a
valid one arrives exactly as an unguarded client sends it, and its answer comes back unchanged.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import pytest
import requests
from trustedtwin.tt_api import TTRESTService
from trustedtwin.tt_api_async import TTAsyncRESTService

from tests.conftest import cyclic_garbage, verdict
from tests.servers import Recorder, Running, uvicorn_server
from ttguard import StreamValidator, TTError
from ttguard.clients import (
    AsyncGuardTransport,
    GuardedSession,
    GuardTransport,
    RequestGuard,
    guard_middleware,
    guarded_client_session,
)
from ttguard.clients.request_guard import GuardedRequest

TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
QUOTA = "Request body is too large to process (limit: 65536 bytes)."
BAD_KEY = ("body::description->__key__: string does not match regex "
           "^[a-z_][0-9a-z_]{0,63}$")


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(recorder: Recorder) -> Iterator[Running]:
    with uvicorn_server(recorder) as running:
        yield running


@pytest.fixture(autouse=True)
def forget(recorder: Recorder) -> None:
    recorder.requests.clear()


def received(recorder: Recorder) -> list[tuple[str, str, bytes, list[tuple[bytes, bytes]]]]:
    return [(scope["method"], scope["path"], body,
             [header for header in scope["headers"] if header[0] != b"host"])
            for scope, body in recorder.requests]


# endpoint name, positional path arguments, keyword arguments, expected verdict
OFFICIAL_CALLS_REFUSED: list[tuple[str, tuple[str, ...], dict[str, Any], tuple[int, int, str]]] = [
    ("create_twin", (), {"body": {"description": {"notes": "x" * 70_000}}},
     (400, 400141, QUOTA)),
    ("create_twin", (), {"body": {"description": {"Name": "Pump 7"}}}, (400, 400589, BAD_KEY)),
    ("add_twin_ledger_entry", (TWIN, "personal"), {"body": {"temperature": {"value": 1}}},
     (400, 400926, "body::entries: field required")),
    ("get_twin", ("pump-7",), {}, (400, 400589, "path::twin: value is not a valid uuid")),
]
OFFICIAL_CALLS_ACCEPTED: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    ("create_twin", (), {"body": {"description": {"name": "Pump 7", "site": "Gdańsk ☂"}}}),
    ("add_twin_ledger_entry", (TWIN, "personal"),
     {"body": {"entries": {"temperature": {"value": 21.5, "history": "30D"}}}}),
    ("get_twin", (TWIN,), {}),
]


@pytest.mark.parametrize(("endpoint", "args", "kwargs", "expected"), OFFICIAL_CALLS_REFUSED,
                         ids=[case[3][2][:30] for case in OFFICIAL_CALLS_REFUSED])
def test_official_sync_client_refused_calls_send_nothing(
        server: Running, recorder: Recorder, endpoint: str, args: tuple[str, ...],
        kwargs: dict[str, Any], expected: tuple[int, int, str]) -> None:
    service = TTRESTService(tt_auth="key", tt_base=server.url, session=GuardedSession(server.url))
    with pytest.raises(TTError) as error:
        getattr(service, endpoint)(*args, **kwargs)
    assert verdict(error) == expected
    assert recorder.requests == []


@pytest.mark.parametrize(("endpoint", "args", "kwargs"), OFFICIAL_CALLS_ACCEPTED,
                         ids=[case[0] for case in OFFICIAL_CALLS_ACCEPTED])
def test_official_sync_client_valid_calls_arrive_as_unguarded_ones(
        server: Running, recorder: Recorder, endpoint: str, args: tuple[str, ...],
        kwargs: dict[str, Any]) -> None:
    plain = TTRESTService(tt_auth="key", tt_base=server.url, session=requests.Session())
    guarded = TTRESTService(tt_auth="key", tt_base=server.url,
                            session=GuardedSession(server.url))
    answers = [getattr(service, endpoint)(*args, **kwargs) for service in (plain, guarded)]
    unguarded, with_guard = received(recorder)
    assert with_guard == unguarded
    assert answers[0] == answers[1]
    assert answers[1][1] == with_guard[2].decode()


def run_async_official(server: Running, endpoint: str, args: tuple[str, ...],
                       kwargs: dict[str, Any], *, guarded: bool) -> Any:
    async def call() -> Any:
        session = (guarded_client_session(server.url) if guarded else aiohttp.ClientSession())
        async with session:
            service = TTAsyncRESTService(tt_auth="key", tt_base=server.url, session=session)
            return await getattr(service, endpoint)(*args, **kwargs)

    return asyncio.run(call())


@pytest.mark.parametrize(("endpoint", "args", "kwargs", "expected"), OFFICIAL_CALLS_REFUSED,
                         ids=[case[3][2][:30] for case in OFFICIAL_CALLS_REFUSED])
def test_official_async_client_refused_calls_send_nothing(
        server: Running, recorder: Recorder, endpoint: str, args: tuple[str, ...],
        kwargs: dict[str, Any], expected: tuple[int, int, str]) -> None:
    with pytest.raises(TTError) as error:
        run_async_official(server, endpoint, args, kwargs, guarded=True)
    assert verdict(error) == expected
    assert recorder.requests == []


@pytest.mark.parametrize(("endpoint", "args", "kwargs"), OFFICIAL_CALLS_ACCEPTED,
                         ids=[case[0] for case in OFFICIAL_CALLS_ACCEPTED])
def test_official_async_client_valid_calls_arrive_as_unguarded_ones(
        server: Running, recorder: Recorder, endpoint: str, args: tuple[str, ...],
        kwargs: dict[str, Any]) -> None:
    answers = [run_async_official(server, endpoint, args, kwargs, guarded=guarded)
               for guarded in (False, True)]
    unguarded, with_guard = received(recorder)
    assert with_guard == unguarded
    assert answers[0] == answers[1]


# The official client cannot send these (json.dumps escapes to ASCII): bytes given directly.
RAW_BODIES = [
    (b'{"description": {"name": "\xff"}}', (400, 400314,
                                            "Request body contains invalid characters.")),
    (b'{"description": ', (400, 400415, "Request body is not a valid JSON.")),
    (b'{"description": {"Name": 1}}', (400, 400589, BAD_KEY)),
]


@pytest.mark.parametrize(("body", "expected"), RAW_BODIES, ids=[c[1][1] for c in RAW_BODIES])
def test_each_library_refuses_raw_bodies(server: Running, recorder: Recorder, body: bytes,
                                         expected: tuple[int, int, str]) -> None:
    url = f"{server.url}/twins"
    refusals = []
    with pytest.raises(TTError) as error:
        GuardedSession(server.url).post(url, data=body)
    refusals.append(verdict(error))
    with httpx.Client(transport=GuardTransport(base_url=server.url)) as client, \
            pytest.raises(TTError) as error:
        client.post(url, content=body)
    refusals.append(verdict(error))

    async def with_async_clients() -> None:
        async with httpx.AsyncClient(transport=AsyncGuardTransport(base_url=server.url)) as client:
            with pytest.raises(TTError) as error:
                await client.post(url, content=body)
            refusals.append(verdict(error))
        async with aiohttp.ClientSession(middlewares=[guard_middleware(server.url)]) as session:
            with pytest.raises(TTError) as error:
                await session.post(url, data=body)
            refusals.append(verdict(error))

    asyncio.run(with_async_clients())
    assert refusals == [expected] * 4
    assert recorder.requests == []


def test_a_refusal_leaves_no_garbage_for_the_cyclic_collector() -> None:
    # Each check keeps its verdict: raised through the frames that hold the check, its
    # traceback would close a cycle that only the collector frees. Refused before any
    # connection, so the address need not answer.
    base = "http://127.0.0.1:9"
    url, body = f"{base}/twins", b'{"description": {"Name": 1}}'
    session = GuardedSession(base)
    client = httpx.Client(transport=GuardTransport(base_url=base))

    async def refuse_async() -> None:
        async with httpx.AsyncClient(transport=AsyncGuardTransport(base_url=base)) as client:
            with pytest.raises(TTError):
                await client.post(url, content=body)
        async with aiohttp.ClientSession(middlewares=[guard_middleware(base)]) as session:
            with pytest.raises(TTError):
                await session.post(url, data=body)

    def refuse_each() -> None:
        with pytest.raises(TTError):
            session.post(url, data=body)
        with pytest.raises(TTError):
            client.post(url, content=body)
        asyncio.run(refuse_async())

    refuse_each()  # first uses: imports, caches
    assert cyclic_garbage(refuse_each, TTError, GuardedRequest, StreamValidator) == []
    client.close()


class Gigabyte:
    """1 GiB of body in 64 KiB chunks, made lazily; counts what was taken."""

    chunk = b"x" * 65536

    def __init__(self) -> None:
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(2**30 // len(self.chunk)):
            self.taken += len(self.chunk)
            yield self.chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


LIMIT = 65536 + len(Gigabyte.chunk)


def test_httpx_gigabyte_generator_stops_at_the_quota_and_sends_nothing(
        server: Running, recorder: Recorder) -> None:
    body = Gigabyte()
    with httpx.Client(transport=GuardTransport(base_url=server.url)) as client, \
            pytest.raises(TTError) as error:
        client.post(f"{server.url}/twins", content=iter(body))
    assert verdict(error) == (400, 400141, QUOTA)
    assert body.taken <= LIMIT
    assert recorder.requests == []


def test_httpx_async_gigabyte_generator_stops_at_the_quota(server: Running,
                                                          recorder: Recorder) -> None:
    body = Gigabyte()

    async def upload() -> None:
        async with httpx.AsyncClient(transport=AsyncGuardTransport(base_url=server.url)) as client:
            await client.post(f"{server.url}/twins", content=body.__aiter__())

    with pytest.raises(TTError) as error:
        asyncio.run(upload())
    assert verdict(error)[1] == 400141
    assert body.taken <= LIMIT
    assert recorder.requests == []


def test_requests_and_aiohttp_gigabyte_generators_stop_at_the_quota(
        server: Running, recorder: Recorder) -> None:
    taken = []
    body = Gigabyte()
    with pytest.raises(TTError):
        GuardedSession(server.url).post(f"{server.url}/twins", data=iter(body))
    taken.append(body.taken)
    body = Gigabyte()

    async def upload() -> None:
        async with guarded_client_session(server.url) as session:
            await session.post(f"{server.url}/twins", data=body.__aiter__())

    with pytest.raises(TTError):
        asyncio.run(upload())
    taken.append(body.taken)
    assert max(taken) <= LIMIT
    assert recorder.requests == []


def test_accepted_streamed_bodies_arrive_whole(server: Running, recorder: Recorder) -> None:
    body = json.dumps({"description": {"part": "x" * 20_000, "more": "y" * 20_000}}).encode()
    pieces = [body[i:i + 4096] for i in range(0, len(body), 4096)]
    url = f"{server.url}/twins"
    GuardedSession(server.url).post(url, data=iter(pieces))
    with httpx.Client(transport=GuardTransport(base_url=server.url)) as client:
        client.post(url, content=iter(pieces))

    async def aiter_pieces() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async def upload() -> None:
        async with guarded_client_session(server.url) as session:
            await session.post(url, data=aiter_pieces())
        async with httpx.AsyncClient(transport=AsyncGuardTransport(base_url=server.url)) as client:
            await client.post(url, content=aiter_pieces())

    asyncio.run(upload())
    assert [received for _, received in recorder.requests] == [body] * 4


def test_httpx_through_a_proxy_as_the_readme_spells_it_is_guarded(
        server: Running, recorder: Recorder) -> None:
    # The proxy given to the wrapped transport, none to the client (whose proxy= or mounts=
    # would route around the guard). The recorder stands in for the proxy.
    transport = GuardTransport(httpx.HTTPTransport(proxy=server.url),
                               base_url="http://api.example")
    with httpx.Client(transport=transport) as client:
        with pytest.raises(TTError) as error:
            client.post("http://api.example/twins", content=RAW_BODIES[2][0])
        assert recorder.requests == []
        reply = client.post("http://api.example/twins", json={"description": {"name": "x"}})
    assert verdict(error) == RAW_BODIES[2][1]
    assert (reply.status_code, [body for _, body in recorder.requests]) == (
        201, [b'{"description":{"name":"x"}}'])


def test_requests_elsewhere_go_unchecked(server: Running, recorder: Recorder) -> None:
    session = GuardedSession("https://rest.trustedtwin.com")
    response = session.post(f"{server.url}/twins", data=b"{")
    assert (response.status_code, recorder.requests[0][1]) == (201, b"{")


@pytest.mark.parametrize(("base_url", "url", "checked"), [
    ("https://rest.trustedtwin.com", "https://rest.trustedtwin.com/twins", True),
    ("https://rest.trustedtwin.com", "https://REST.trustedtwin.com:443/twins", True),
    ("https://rest.trustedtwin.com", "http://rest.trustedtwin.com/twins", False),
    ("https://rest.trustedtwin.com", "https://evil.example/twins", False),
    ("https://gw.example/tt/", "https://gw.example/tt/twins", True),
    ("https://gw.example/tt", "https://gw.example/twins", False),
    ("https://rest.trustedtwin.com", "https://rest.trustedtwin.com/not/an/operation", False),
])
def test_which_requests_are_checked(base_url: str, url: str, checked: bool) -> None:
    assert (RequestGuard(base_url).validator("POST", url) is not None) == checked


def test_a_client_guard_judges_the_canonical_form_as_trusted_twin_may_read_it() -> None:
    # The server is Trusted Twin's, not Starlette: a trailing "/" after /docs is the list of
    # Docs to a server that reads it so, and no reason to refuse.
    check = RequestGuard().begin("GET", f"https://rest.trustedtwin.com/twins/{TWIN}/docs/")
    assert check is not None and check.operation == "get_twin_docs"


@pytest.mark.parametrize("base_url", ["rest.trustedtwin.com", "ftp://x", "https://"])
def test_a_base_url_that_is_no_http_url_is_a_value_error(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url must be an http"):
        RequestGuard(base_url)


@pytest.mark.parametrize(("setting", "message"), [
    ({"reporter": "x.jsonl"},
     "reporter must be a ttguard.report.Reporter, e.g. Reporter('x.jsonl'), not str"),
    ({"metrics": object()},
     "metrics must be a ttguard.metrics.GuardMetrics, e.g. GuardMetrics.default(), not object"),
    ({"max_body": "65536"}, "max_body must be an int, a number of bytes, not str"),
])
def test_a_setting_of_the_wrong_type_is_refused_when_the_guard_is_made(
        setting: dict[str, Any], message: str) -> None:
    # As GuardMiddleware does: used only on the first refusal, it would fail then instead.
    with pytest.raises(TypeError) as refused:
        RequestGuard(**setting)
    assert str(refused.value) == message


SAMPLE_ARGUMENTS = {"twin": TWIN, "user": TWIN, "role": TWIN, "account": TWIN, "batch": TWIN,
                    "handler": TWIN, "ledger": "personal", "identity": "RFID#1",
                    "doc_name": "manual.pdf", "color": "red", "pin": "1234",
                    "database": "default", "timeseries": "readings", "index": "sites"}


def test_every_endpoint_of_the_official_client_is_recognised() -> None:
    from trustedtwin.tt_endpoints import ENDPOINTS

    guard = RequestGuard()
    recognised = {}
    for name, (method, template, parameters) in ENDPOINTS.items():
        url = guard.base_url + template.format(
            *(quote(SAMPLE_ARGUMENTS[parameter], safe="") for parameter in parameters))
        validator = guard.validator(method, url)
        recognised[name] = validator.operation if validator else None
    assert recognised == {name: name for name in ENDPOINTS}


def test_a_star_import_takes_the_guards_of_the_extras_installed() -> None:
    # aiohttp blocked, as if not installed: the other guards come, its own say what they need.
    script = """
import sys
sys.modules["aiohttp"] = None
from ttguard.clients import *
print(sorted(name for name in dir() if not name.startswith("_") and name != "sys"))
import ttguard.clients
print(dir(ttguard.clients))
try:
    ttguard.clients.guard_middleware
except ImportError as error:
    print(str(error).split(" (")[0])
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True)
    assert run.stdout.splitlines() == [
        str(["AsyncGuardTransport", "DEFAULT_BASE_URL", "GuardTransport", "GuardedSession",
             "RequestGuard"]),
        str(["AsyncGuardTransport", "DEFAULT_BASE_URL", "GuardTransport", "GuardedSession",
             "RequestGuard", "guard_middleware", "guarded_client_session"]),
        "ttguard.clients.guard_middleware needs aiohttp: pip install 'ttguard[aiohttp]'"]
