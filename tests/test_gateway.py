"""The validating gateway under uvicorn on 127.0.0.1, forwarding to upstreams on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.servers import Recorder, Running, send_request, uvicorn_server
from ttguard.asgi import INTERNAL_ERROR
from ttguard.gateway import RESPONSE_TIMEOUT, create_app

UUID = "e834214a-e13d-412b-ffd6-911ab58c8733"
VALID = b'{"description": {"name": "Pump 7"}}'


@pytest.fixture(scope="module")
def local_gateway() -> Iterator[Running]:
    with uvicorn_server(create_app("local", prefix="/api")) as running:
        yield running


def test_the_demo_upstream_echoes_a_forwarded_request(local_gateway: Running) -> None:
    response = httpx.post(f"{local_gateway.url}/api/twins?show=1", content=VALID,
                          headers={"Authorization": "key", "Connection": "keep-alive, x-hop",
                                   "X-Hop": "1", "X-Kept": "2"})
    assert (response.status_code, response.content) == (201, VALID)
    assert response.headers["x-echo-target"] == "/twins?show=1"
    echoed = {line.split(": ", 1)[0] for line in response.headers.get_list("x-echo-header")}
    assert {"authorization", "x-kept", "content-length"} <= echoed
    assert not {"connection", "x-hop"} & echoed


def test_a_bad_request_never_reaches_the_upstream(local_gateway: Running) -> None:
    response = httpx.post(f"{local_gateway.url}/api/twins", content=b'{"description": {"Name": 1}}')
    assert response.status_code == 400
    assert "x-echo-target" not in response.headers
    assert (response.json()["subcode"], response.json()["description"]) == (
        400589, "body::description->__key__: string does not match regex "
                "^[a-z_][0-9a-z_]{0,63}$")


def test_a_path_outside_the_prefix_is_not_found(local_gateway: Running) -> None:
    response = httpx.get(f"{local_gateway.url}/elsewhere")
    assert (response.status_code, response.json()["subcode"]) == (404, 404653)


def test_under_a_root_path_the_gateway_judges_and_forwards_the_path_after_it() -> None:
    # uvicorn --root-path /tt, behind a proxy that strips /tt: uvicorn puts /tt back in front of
    # the path; the application's path is what follows it.
    with uvicorn_server(create_app("local"), root_path="/tt") as running:
        accepted = httpx.post(f"{running.url}/twins", content=VALID)
        refused = httpx.post(f"{running.url}/twins", content=b'{"description": {"Name": 1}}')
    assert (accepted.status_code, accepted.headers["x-echo-target"]) == (201, "/twins")
    assert (refused.status_code, refused.json()["subcode"], refused.json()["description"]) == (
        400, 400589, "body::description->__key__: string does not match regex "
                     "^[a-z_][0-9a-z_]{0,63}$")
    assert "x-echo-target" not in refused.headers


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Running, Recorder]]:
    recorder = Recorder()

    async def slow_or_recorded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/slow"):
            await asyncio.sleep(30)  # far past the gateway's timeout; cut short at shutdown
        await recorder(scope, receive, send)

    with uvicorn_server(slow_or_recorded) as running:
        yield running, recorder


def test_an_upstream_timeout_is_the_servers_500_and_the_next_request_works(
        upstream: tuple[Running, Recorder]) -> None:
    running, recorder = upstream
    # Long enough for the good request's every step even on a busy machine.
    with uvicorn_server(create_app(running.url, timeout=2.0)) as gateway:
        slow = httpx.get(f"{gateway.url}/slow")
        good = httpx.post(f"{gateway.url}/twins", content=VALID)
    assert (slow.status_code, slow.json()["subcode"], slow.json()["description"]) == (
        500, 500159, RESPONSE_TIMEOUT)
    assert (good.status_code, good.content) == (201, VALID)
    assert recorder.requests[-1][1] == VALID


def test_an_unreachable_upstream_is_the_servers_500() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with uvicorn_server(create_app(f"http://127.0.0.1:{port}")) as gateway:
        response = httpx.post(f"{gateway.url}/twins", content=VALID)
    assert (response.status_code, response.json()["subcode"],
            response.json()["description"]) == (500, 500000, INTERNAL_ERROR)


def test_a_streamed_upload_to_an_unchecked_path_is_forwarded_whole(
        upstream: tuple[Running, Recorder]) -> None:
    running, recorder = upstream
    chunks = [bytes([i]) * 100_000 for i in range(5)]
    with uvicorn_server(create_app(running.url)) as gateway:
        response = httpx.put(f"{gateway.url}/files/blob", content=iter(chunks))
    assert response.status_code == 201
    assert recorder.requests[-1][1] == b"".join(chunks)


def test_a_gzipped_body_is_forwarded_unjudged_as_the_client_guards_send_it(
        upstream: tuple[Running, Recorder]) -> None:
    # Whether the server decodes it is unknown: judged as sent (400314) or decoded, it could be
    # refused where the server accepts it. Its path is judged all the same.
    running, recorder = upstream
    gzipped = gzip.compress(VALID)
    before = len(recorder.requests)
    with uvicorn_server(create_app(running.url)) as gateway:
        forwarded = httpx.post(f"{gateway.url}/twins", content=gzipped,
                               headers={"Content-Encoding": "gzip"})
        bad_path = httpx.post(f"{gateway.url}/twins/pump-7/ledgers/personal", content=gzipped,
                              headers={"Content-Encoding": "gzip"})
    assert (forwarded.status_code, forwarded.content) == (201, gzipped)
    [(scope, body)] = recorder.requests[before:]  # the one with a bad path went nowhere
    assert body == gzipped
    assert (b"content-encoding", b"gzip") in scope["headers"]
    assert (bad_path.status_code, bad_path.json()["subcode"],
            bad_path.json()["description"]) == (400, 400589,
                                                "path::twin: value is not a valid uuid")


def test_the_guard_judges_the_headers_the_upstream_gets(
        upstream: tuple[Running, Recorder]) -> None:
    # A header the Connection header names is dropped before the upstream: judged as if present,
    # an Authorization named there passed require_authorization, and the upstream answered its
    # own 401 a round trip later; a Content-Encoding named there left raw bytes unjudged.
    running, recorder = upstream
    before = len(recorder.requests)
    gzipped = gzip.compress(VALID)
    with uvicorn_server(create_app(running.url, require_authorization=True)) as gateway:
        named = httpx.post(f"{gateway.url}/twins", content=VALID,
                           headers={"Authorization": "key", "Connection": "Authorization"})
        coding_named = httpx.post(f"{gateway.url}/twins", content=gzipped,
                                  headers={"Authorization": "key", "Content-Encoding": "gzip",
                                           "Connection": "keep-alive, content-encoding"})
        kept = httpx.post(f"{gateway.url}/twins", content=VALID,
                          headers={"Authorization": "key", "Connection": "keep-alive"})
    assert (named.status_code, named.json()["subcode"], named.json()["description"]) == (
        401, 401000, "Authorization header not provided.")
    assert (coding_named.status_code, coding_named.json()["subcode"]) == (400, 400314)
    assert kept.status_code == 201
    [(scope, body)] = recorder.requests[before:]
    assert body == VALID
    assert (b"authorization", b"key") in scope["headers"]


def test_a_path_holding_a_newline_is_forwarded(local_gateway: Running) -> None:
    # Found by Schemathesis when the gateway routed with Starlette: its "/{path:path}" route
    # does not match %0A, and a request ttguard had accepted got a plain-text 404.
    response = httpx.get(f"{local_gateway.url}/api/twins/{UUID}/ledgers/personal%0A/value")
    assert response.status_code == 200
    assert response.headers["x-echo-target"] == f"/twins/{UUID}/ledgers/personal%0A/value"


def test_an_empty_request_header_is_echoed() -> None:
    # Found by Schemathesis: the demo echo sent "authorization: " (a trailing space), which
    # HTTP forbids, and the connection dropped without an answer.
    with uvicorn_server(create_app("local")) as gateway:
        response = httpx.get(f"{gateway.url}/whoami", headers={"Authorization": ""})
    assert response.status_code == 200
    assert "authorization:" in response.headers.get_list("x-echo-header")


def test_a_hash_in_the_query_is_refused_not_a_failure(local_gateway: Running) -> None:
    # h11 takes /twins?cursor=a#b as sent; no URL holds that '#' outside a fragment, so the
    # upstream request could not be made: it was the gateway's 500, with a traceback logged.
    response = send_request(local_gateway, "GET", "/api/twins?cursor=a#b",
                            headers={"Connection": "close"}, content_length=0)
    assert (response.status, response.json()["subcode"], response.json()["description"]) == (
        400, 400793, "Request path is ambiguous: a character no URL holds in the query.")


async def get_twin(request: Request) -> JSONResponse:
    return JSONResponse({"twin": request.path_params["twin"]})


@pytest.mark.parametrize("upstream_path", ["", "/base"])
def test_a_redirect_into_the_upstream_points_through_the_gateway(upstream_path: str) -> None:
    # Starlette redirects /twins/<uuid>/ to /twins/<uuid>, in a URL built from the Host the
    # upstream got: followed as sent, it would leave the gateway and its guard behind.
    upstream = Starlette(routes=[Route(f"{upstream_path}/twins/{{twin}}", get_twin)])
    with uvicorn_server(upstream) as running, \
            uvicorn_server(create_app(running.url + upstream_path, prefix="/api")) as gateway:
        redirected = httpx.get(f"{gateway.url}/api/twins/{UUID}/")
        followed = httpx.get(f"{gateway.url}/api/twins/{UUID}/", follow_redirects=True)
    assert (redirected.status_code, redirected.headers["location"]) == (
        307, f"/api/twins/{UUID}")
    assert (followed.status_code, followed.json(), str(followed.url)) == (
        200, {"twin": UUID}, f"{gateway.url}/api/twins/{UUID}")


async def redirect(request: Request) -> Response:
    return Response(status_code=307, headers={"location": request.query_params["to"]})


@pytest.mark.parametrize(("location", "through_gateway"), [
    ("{upstream}/base/twins/x", "/api/twins/x"),
    ("HTTP://{upstream_host}/base/twins?q=1", "/api/twins?q=1"),
    ("{upstream}/base?q=1", "/api?q=1"),
    ("/base/twins/x", "/api/twins/x"),
    # Left as sent: elsewhere, or a rest that a browser would read as another host.
    ("https://elsewhere.example/base/x", None),
    ("{upstream}/basement", None),
    ("/base//evil.example/x", None),
    ("{upstream}/base//evil.example/x", None),
    ("/base/\\evil.example/x", None),
])
def test_a_location_is_pointed_through_the_gateway_only_into_the_upstream(
        location: str, through_gateway: str | None) -> None:
    upstream = Starlette(routes=[Route("/base/redirect", redirect)])
    with uvicorn_server(upstream) as running, \
            uvicorn_server(create_app(running.url + "/base", prefix="/api")) as gateway:
        sent = location.format(upstream=running.url,
                               upstream_host=running.url.removeprefix("http://"))
        response = httpx.get(f"{gateway.url}/api/redirect", params={"to": sent})
    assert (response.status_code, response.headers["location"]) == (
        307, sent if through_gateway is None else through_gateway)


def test_the_answer_has_one_date_and_one_server(upstream: tuple[Running, Recorder]) -> None:
    # Both uvicorns set their own: the gateway's are the client's.
    running, _ = upstream
    with uvicorn_server(create_app(running.url)) as gateway:
        response = httpx.post(f"{gateway.url}/twins", content=VALID)
    assert (response.status_code, response.headers.get_list("server"),
            len(response.headers.get_list("date"))) == (201, ["uvicorn"], 1)


@pytest.mark.parametrize("prefix", ["api", "/api/", "api/"])
def test_a_prefix_is_read_with_or_without_its_slashes(prefix: str) -> None:
    # "api" was /api to the guard but compared as "api" by the forwarder: every request 404.
    with uvicorn_server(create_app("local", prefix=prefix, openapi=True)) as gateway:
        accepted = httpx.post(f"{gateway.url}/api/twins", content=VALID)
        document = httpx.get(f"{gateway.url}/openapi.json")
    assert (accepted.status_code, accepted.headers["x-echo-target"]) == (201, "/twins")
    assert document.json()["servers"] == [{"url": "/api"}]


@pytest.mark.parametrize("upstream", ["notaurl", "ftp://example.com", "http://", "/twins"])
def test_an_upstream_that_is_no_http_url_is_refused_at_construction(upstream: str) -> None:
    with pytest.raises(ValueError) as refused:
        create_app(upstream)
    assert str(refused.value) == (
        f"the upstream is 'local' or an absolute http or https URL (such as "
        f"https://rest.trustedtwin.com), not {upstream!r}")


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan")])
def test_a_timeout_of_no_time_is_refused_at_construction(timeout: float) -> None:
    with pytest.raises(ValueError) as refused:
        create_app("local", timeout=timeout)
    assert str(refused.value) == f"timeout must be a number of seconds above 0: {timeout!r}"
