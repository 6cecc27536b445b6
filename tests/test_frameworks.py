"""GuardMiddleware mounted the ways the frameworks mount middleware, served by uvicorn.

Plus the ASGI contract on the message level, where a real server cannot choose the messages:
what the application receives after the body, and a client that leaves mid-body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from tests.servers import Recorder, run_asgi, uvicorn_server
from ttguard.asgi import GuardMiddleware, RequestHeaders
from ttguard.core import TTError

TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"


async def create_twin(request: StarletteRequest) -> JSONResponse:
    return JSONResponse({"received": await request.json()}, status_code=201)


def starlette_app() -> Starlette:
    return Starlette(routes=[Route("/twins", create_twin, methods=["POST"])],
                     middleware=[Middleware(GuardMiddleware, require_authorization=True)])


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/twins", status_code=201)
    async def create(request: Request) -> dict[str, Any]:
        return {"received": await request.json()}

    @app.get("/twins/{twin}")
    async def get(twin: str) -> dict[str, str]:
        return {"twin": twin}

    app.add_middleware(GuardMiddleware, require_authorization=True)
    return app


@pytest.fixture(params=["starlette", "fastapi"])
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    app = starlette_app() if request.param == "starlette" else fastapi_app()
    with uvicorn_server(app) as running, httpx.Client(
            base_url=running.url, headers={"Authorization": "key"}) as http:
        yield http


def test_a_valid_request_reaches_the_route(client: httpx.Client) -> None:
    response = client.post("/twins", json={"description": {"name": "Pump 7"}})
    assert (response.status_code, response.json()) == (
        201, {"received": {"description": {"name": "Pump 7"}}})


def test_a_bad_request_is_answered_by_the_middleware(client: httpx.Client) -> None:
    response = client.post("/twins", content=b'{"description": {"Name": "Pump 7"}}')
    assert response.status_code == 400
    body = response.json()
    assert (body["subcode"], body["description"]) == (
        400589, "body::description->__key__: string does not match regex "
                "^[a-z_][0-9a-z_]{0,63}$")


def test_a_streamed_oversized_body_is_refused(client: httpx.Client) -> None:
    def upload() -> Iterator[bytes]:
        yield from (b"x" * 4096 for _ in range(32))

    response = client.post("/twins", content=upload())
    assert (response.status_code, response.json()["subcode"]) == (400, 400141)


def test_missing_authorization(client: httpx.Client) -> None:
    del client.headers["Authorization"]
    response = client.post("/twins", json={})
    assert (response.status_code, response.json()["subcode"],
            response.json()["description"]) == (401, 401000, "Authorization header not provided.")


def test_fastapi_path_parameters_are_checked_before_the_route() -> None:
    with uvicorn_server(fastapi_app()) as running:
        bad = httpx.get(f"{running.url}/twins/pump-7", headers={"Authorization": "k"})
        good = httpx.get(f"{running.url}/twins/{TWIN}", headers={"Authorization": "k"})
    assert (bad.status_code, bad.json()["description"]) == (
        400, "path::twin: value is not a valid uuid")
    assert good.json() == {"twin": TWIN}


def test_a_head_is_checked_as_the_get_starlette_answers_it_with() -> None:
    # Starlette runs a GET route's handler for a HEAD: its parameters are checked as a GET's.
    handled: list[str] = []

    async def get_twin(request: StarletteRequest) -> JSONResponse:
        handled.append(request.path_params["twin"])
        return JSONResponse({})

    app = Starlette(routes=[Route("/twins/{twin}", get_twin, methods=["GET"])],
                    middleware=[Middleware(GuardMiddleware)])
    with uvicorn_server(app) as running:
        bad = httpx.head(f"{running.url}/twins/pump-7")
        good = httpx.head(f"{running.url}/twins/{TWIN}")
    assert (bad.status_code, good.status_code, handled) == (400, 200, [TWIN])
    assert bad.content == b""  # a HEAD's answer has no body, the server's error's included


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "http_version": "1.1", "method": method, "path": path,
            "raw_path": path.encode(), "query_string": b"", "headers": headers}


def assert_create_twin_refused_before_the_app(scope: dict[str, Any]) -> None:
    """A create_twin body with a bad key, sent with ``scope``, is refused and never reaches the
    application behind the guard."""
    called: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope)

    sent = run_asgi(GuardMiddleware(app), scope,
                    [{"type": "http.request", "body": b'{"description": {"A": 1}}',
                      "more_body": False}])
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["description"] == (
        "body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$")
    assert called == []


def test_a_raw_path_that_holds_the_query_is_read_as_its_path() -> None:
    # Some transports (httpx's ASGITransport did) send the whole target as raw_path.
    assert_create_twin_refused_before_the_app(
        {**http_scope("POST", "/twins", []), "raw_path": b"/twins?x=1", "query_string": b"x=1"})


def test_after_the_body_the_application_receives_the_servers_disconnect() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())

    body = b'{"description": {}}'
    run_asgi(GuardMiddleware(app), http_scope("POST", "/twins", []),
             [{"type": "http.request", "body": body[:5], "more_body": True},
              {"type": "http.request", "body": body[5:], "more_body": False}])
    assert seen == [{"type": "http.request", "body": body, "more_body": False},
                    {"type": "http.disconnect"}]


def test_a_client_that_leaves_mid_body_gets_no_answer_and_reaches_nothing() -> None:
    recorder = Recorder()
    sent = run_asgi(GuardMiddleware(recorder), http_scope("POST", "/twins", []),
                    [{"type": "http.request", "body": b'{"descr', "more_body": True},
                     {"type": "http.disconnect"}])
    assert (sent, recorder.requests) == ([], [])


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    run_asgi(GuardMiddleware(app), {"type": "websocket", "path": "/twins"}, [])
    run_asgi(GuardMiddleware(app), {"type": "lifespan"}, [])
    assert seen == ["websocket", "lifespan"]


@pytest.mark.parametrize(("value", "description"), [
    (b"12x", "Content-Length header is not valid."),
    (b"5, 6", "Content-Length header is not valid."),
])
def test_a_malformed_content_length_is_a_corrupted_request(value: bytes,
                                                          description: str) -> None:
    sent = run_asgi(GuardMiddleware(Recorder()),
                    http_scope("POST", "/twins", [(b"content-length", value)]),
                    [{"type": "http.request", "body": b"{}", "more_body": False}])
    assert sent[0]["status"] == 400
    assert b'"subcode": 400793' in sent[1]["body"]
    assert description.encode() in sent[1]["body"]


@pytest.mark.parametrize(("headers", "length"), [
    ([], None),
    ([(b"content-length", b"930")], 930),
    ([(b"content-length", b"000930")], 930),
    ([(b"content-length", b"930"), (b"content-length", b"930")], 930),
    ([(b"content-length", b"930, 930")], 930),
    ([(b"content-length", b"999999999999999999")], 999999999999999999),  # 18 digits: int()
    ([(b"content-length", b"0" * 30 + b"65536")], 65536),
    ([(b"content-length", b"9" * 19)], 65537),  # more digits than the quota: over it
    ([(b"content-length", b"9" * 5000)], 65537),  # never handed to int()
    ([(b"transfer-encoding", b"chunked"), (b"content-length", b"12x")], None),
])
def test_the_declared_length_as_rfc_9112_reads_it(headers: list[tuple[bytes, bytes]],
                                                  length: int | None) -> None:
    assert RequestHeaders(headers).declared_length(65536) == length


@pytest.mark.parametrize("value", [b"+930", b"-1", b"9 30", b"9_30", b"930, 931", b""])
def test_a_length_int_would_read_otherwise_is_not_valid(value: bytes) -> None:
    with pytest.raises(TTError) as raised:
        RequestHeaders([(b"content-length", value)]).declared_length(65536)
    assert (raised.value.subcode, raised.value.description) \
        == (400793, "Content-Length header is not valid.")


def test_one_pass_reads_every_header_the_checks_need() -> None:
    headers = RequestHeaders([(b"host", b"x"), (b"authorization", b"k"),
                              (b"content-encoding", b"gzip"), (b"transfer-encoding", b"chunked"),
                              (b"content-length", b"5")])
    assert (headers.authorized, headers.chunked, headers.encoded(), headers.content_lengths) \
        == (True, True, True, [b"5"])
    with pytest.raises(TTError) as raised:
        headers.check_framing()
    assert (raised.value.subcode, raised.value.description) \
        == (400793, "Content-Length and Transfer-Encoding must not both be given.")
    assert not RequestHeaders([(b"content-encoding", b"identity")]).encoded()


def test_a_remembered_route_answers_as_the_first_one_did() -> None:
    guard = GuardMiddleware(Recorder())
    twin = f"/twins/{TWIN}"
    for _ in range(2):
        for method, path, body, answer in [
                ("POST", f"{twin}/ledgers/personal", b'{"entries": {"t": {"value": 1}}}', 201),
                ("POST", f"{twin}/ledgers/personal", b'{"entries": {"T": {"value": 1}}}', 400589),
                ("POST", "/twins/not-a-uuid/ledgers/personal", b"{}", 400589),
                ("GET", f"{twin}/identities/site%2FRFID%231", b"", 400793),
                ("POST", "/elsewhere", b"not JSON", 201)]:
            sent = run_asgi(guard, http_scope(method, path, []),
                            [{"type": "http.request", "body": body, "more_body": False}])
            status = sent[0]["status"]
            assert (status if status < 300 else json.loads(sent[1]["body"])["subcode"]) == answer
    assert len(guard._routes) == 3  # three targets; not the ambiguous one, refused anew each time


def test_the_remembered_routes_stay_bounded_whatever_the_targets() -> None:
    from ttguard.asgi import _REMEMBERED_ROUTES

    guard = GuardMiddleware(Recorder())
    for index in range(_REMEMBERED_ROUTES + 10):
        run_asgi(guard, http_scope("GET", f"/nowhere/{index}", []),
                 [{"type": "http.request", "body": b"", "more_body": False}])
        assert len(guard._routes) <= _REMEMBERED_ROUTES
    sent = run_asgi(guard, http_scope("POST", "/twins", []),
                    [{"type": "http.request", "body": b'{"description": {"A": 1}}',
                      "more_body": False}])
    assert (sent[0]["status"], json.loads(sent[1]["body"])["subcode"]) == (400, 400589)


def test_an_encoded_slash_that_changes_the_route_once_decoded_is_refused() -> None:
    # The application routes on the decoded path, where site%2FRFID%231 is two segments: which
    # operation it names depends on who reads it.
    recorder = Recorder()
    twin = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
    with uvicorn_server(GuardMiddleware(recorder)) as running:
        response = httpx.get(f"{running.url}/twins/{twin}/identities/site%2FRFID%231")
    assert (response.status_code, response.json()["subcode"], response.json()["description"]) \
        == (400, 400793, "Request path is ambiguous: an encoded '/' changes the route.")
    assert recorder.requests == []


def recording(handled: list[bytes]) -> Any:
    """An endpoint that keeps the body it gets in ``handled`` and answers 201."""

    async def endpoint(request: StarletteRequest) -> JSONResponse:
        handled.append(await request.body())
        return JSONResponse({}, status_code=201)

    return endpoint


def test_a_trailing_encoded_slash_is_no_way_past_the_guard() -> None:
    # An application whose route ends in "/" takes .../identities%2F, decoded, for that route:
    # ttguard, which drops the empty segment as in any path, must not let it pass unchecked.
    handled: list[bytes] = []
    app = Starlette(routes=[Route("/twins/{twin}/identities/", recording(handled),
                                  methods=["POST"])],
                    middleware=[Middleware(GuardMiddleware)])
    assert_route_change_refused(app, handled, f"/twins/{TWIN}/identities%2F",
                                b'{"identities": {"no hash": {}}}')


def assert_route_change_refused(app: Starlette, handled: list[bytes], target: str,
                                body: bytes) -> None:
    """``body`` POSTed to ``target`` under uvicorn is refused as a target whose encoded '/'
    changes the route, and the application's handler gets nothing."""
    with uvicorn_server(app) as running:
        response = httpx.post(f"{running.url}{target}", content=body)
    assert (response.status_code, response.json()["subcode"], response.json()["description"]) \
        == (400, 400793, "Request path is ambiguous: an encoded '/' changes the route.")
    assert handled == []


def mounted_at_api(guard_inside: bool, prefix: str = "") -> tuple[Starlette, list[bytes]]:
    """A Starlette app that mounts the API's app at /api, the guard in front of the API's app
    or of the whole; and the bodies the API's handler got."""
    handled: list[bytes] = []
    api = Starlette(routes=[Route("/twins", recording(handled), methods=["POST"])])
    if guard_inside:
        return Starlette(routes=[Mount("/api", app=GuardMiddleware(api, prefix=prefix))]), handled
    return Starlette(routes=[Mount("/api", app=api)],
                     middleware=[Middleware(GuardMiddleware, prefix=prefix)]), handled


@pytest.mark.parametrize("tenant", ["acme%20corp", "m%C3%BCnchen"])
def test_a_guard_in_a_mount_whose_path_is_encoded_judges_the_api(tenant: str) -> None:
    # Starlette gives the mounted application its mount point decoded (root_path "/acme corp");
    # compared with the path as sent, the request lay outside it and passed unchecked.
    handled: list[bytes] = []
    api = Starlette(routes=[Route("/twins", recording(handled), methods=["POST"])])
    app = Starlette(routes=[Mount("/{tenant}", app=GuardMiddleware(api))])
    with uvicorn_server(app) as running:
        refused = httpx.post(f"{running.url}/{tenant}/twins",
                             content=b'{"description": {"A": 1}}')
    assert (refused.status_code, refused.json()["description"]) == (
        400, "body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$")
    assert handled == []


@pytest.mark.parametrize(("guard_inside", "prefix"), [
    (True, ""),      # the mount names where the API is: root_path
    (True, "/api"),  # a prefix naming the mount, as such a guard needed before: the same
    (False, "/api"),  # a guard in front of the mount names it itself
])
def test_a_guard_judges_the_path_the_mounted_application_routes(guard_inside: bool,
                                                                 prefix: str) -> None:
    app, handled = mounted_at_api(guard_inside, prefix)
    with uvicorn_server(app) as running:
        refused = httpx.post(f"{running.url}/api/twins", content=b'{"description": {"A": 1}}')
        accepted = httpx.post(f"{running.url}/api/twins", content=b'{"description": {"a": 1}}')
    assert (refused.status_code, refused.json()["description"]) == (
        400, "body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$")
    assert accepted.status_code == 201
    assert handled == [b'{"description": {"a": 1}}']


def test_an_encoded_slash_into_the_prefix_is_no_way_past_the_guard() -> None:
    # Starlette decodes /api%2Ftwins to /api/twins, which its Mount takes for the API's
    # /twins: a path that is outside the prefix only as sent must not pass unchecked.
    app, handled = mounted_at_api(guard_inside=False, prefix="/api")
    assert_route_change_refused(app, handled, "/api%2Ftwins", b'{"description": {"Bad Key": 1}}')


def test_a_guard_under_uvicorns_root_path_judges_the_path_after_it() -> None:
    # uvicorn --root-path /api (behind a proxy that strips /api) puts /api in front of path and
    # raw_path, and names it in root_path: the application routes /twins.
    assert_create_twin_refused_before_the_app(
        {**http_scope("POST", "/api/twins", []), "root_path": "/api"})


def test_an_encoded_slash_in_a_doc_name_means_what_a_plain_one_means() -> None:
    recorder = Recorder()
    twin = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
    with uvicorn_server(GuardMiddleware(recorder, reject_unknown=True)) as running:
        encoded = httpx.get(f"{running.url}/twins/{twin}/docs/folder%2Freport.pdf")
        plain = httpx.get(f"{running.url}/twins/{twin}/docs/folder/report.pdf")
    assert (encoded.status_code, plain.status_code) == (201, 201)
    assert [scope["path"] for scope, _ in recorder.requests] == [
        f"/twins/{twin}/docs/folder/report.pdf"] * 2
