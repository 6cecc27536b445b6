"""No way around the guard: odd request targets and framings over raw sockets.

The same request spelled another way (percent-encoded letters, dot segments, double slashes,
another case, an absolute-form target) must be judged as the request the application or the
upstream will handle. For every target and framing in the corpus, one of three things happens:

* ttguard answers with a Trusted Twin error body;
* uvicorn refuses the request before any application sees it (a malformed request);
* the request goes on, and then the route the application took (a Starlette and a FastAPI app
  behind :class:`GuardMiddleware`), or the target and framing the upstream received (``ttguard
  serve`` in front of a raw TCP upstream that records bytes), is exactly what ttguard judged,
  and an invalid body never reaches a handler or the upstream.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute

from tests.servers import (
    Received,
    RecordingUpstream,
    Response,
    Running,
    read_response,
    uvicorn_server,
)
from ttguard import TTError
from ttguard.asgi import GuardMiddleware
from ttguard.core.routes import canonical_path, route_path
from ttguard.gateway import create_app

OPERATIONS = json.loads((Path(__file__).parents[1] / "schemas" / "operations.json").read_text())
TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
LEDGER = f"/twins/{TWIN}/ledgers/personal"
#: A body each operation below refuses, and one it accepts.
INVALID = {"create_twin": b'{"description": {"A": 1}}',
           "add_twin_ledger_entry": b'{"entries": {"Bad Key": {"value": 1}}}'}
VALID = {"create_twin": b'{"description": {"a": 1}}',
         "add_twin_ledger_entry": b'{"entries": {"good": {"value": 1}}}'}

TARGETS = [
    "/twins", "/tw%69ns", "/%74wins", "/%74%77%69%6E%73", "/TWINS", "/Twins", "/twins/",
    "/x/../twins", "/./twins", "/twins/.", "/twins/x/..", "//twins", "/twins//",
    "/twins;x=1", "/twins%3Bx=1", "/twins#frag", "/twins?x=1", "/twins?x=%2F#f",
    "http://example.com/twins", "http://example.com/x/../twins?y=2", "/tw%2Fins", "/%2Ftwins",
    "/twins%2F", "/%2E%2E/twins", "/x/%2e%2e/twins", "/x/.%2E/twins", "/../twins",
    "/twins\\", "/twins/%2e", "/" + "a/" * 1500 + "../" * 1500 + "twins",
    "/" + "a/" * 5000 + "../" * 5000 + "twins",
    LEDGER, LEDGER.upper(), f"/twins/{TWIN}//ledgers/personal",
    f"/twins/{TWIN}/ledgers/./personal", f"/twins/{TWIN}/x/../ledgers/personal",
    f"/twins/{TWIN}%2Fledgers%2Fpersonal", f"/twins/{TWIN}/ledgers/person%61l",
    f"/twins/{TWIN};a/ledgers/personal", f"/twins/{TWIN}/ledgers%2Fpersonal",
    f"/tw%69ns/{TWIN}/l%65dgers/personal/", f"/twins/{TWIN}/LEDGERS/PERSONAL",
    "/twins/%zz", "/twins/a|b", "/twins/%7Bx%7D", "/twins/caf%C3%A9", "/twins/a%20b",
    "/twins/~user", "/twins/a+b", "/twins/a'b", "/twins/%00", "/twins/a%2fb%2F",
    f"{LEDGER}%2F", f"/twins/{TWIN}/identities%2F", f"/twins/{TWIN}%2F%2Fledgers/personal",
    f"/twins/{TWIN}/identities%2F..%2F..%2F..%2Ftwins", "/twins%0A", "/twins%0a",
    f"{LEDGER}%0A",
]


def judged(method: str, target: str) -> str | TTError | None:
    """What ttguard decides a target names: an operation, none, or a refusal."""
    path = target.split("?", 1)[0]
    try:
        route = route_path(method, path)
    except TTError as error:
        return error
    return None if route is None else route.operation


def operation_of(target: str) -> str:
    """Which operation's bodies to send to a target: the one it names, else create_twin's."""
    verdict = judged("POST", target.split("#", 1)[0])
    return verdict if isinstance(verdict, str) else "create_twin"


def exchange(running: Running, request: bytes) -> Response | None:
    """Send raw request bytes on a fresh connection; the response, or None if it closed."""
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(request)
        try:
            return read_response(sock)
        except ConnectionError:
            return None


def post(target: str, body: bytes, headers: str = "") -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
    if "transfer-encoding" not in headers.lower() and "content-length" not in headers.lower():
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def tt_error(response: Response | None) -> dict[str, Any] | None:
    """The Trusted Twin error body of a response, if it is one."""
    if response is None or response.headers.get("content-type") != "application/json":
        return None
    body = response.json()
    return body if isinstance(body, dict) and set(body) == {
        "subcode", "trace", "description"} else None


def refused_by_uvicorn(response: Response | None) -> bool:
    return response is None or (response.status == 400 and tt_error(response) is None
                                and b"Invalid HTTP request" in response.body)


# -- (a) applications behind the middleware ---------------------------------------------------


@dataclass
class Handled:
    """The requests the application's handlers got: (operation, body, path parameters)."""

    calls: list[tuple[str, bytes, dict[str, str]]]


def handler(operation: str, handled: Handled) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        handled.calls.append((operation, await request.body(), dict(request.path_params)))
        return JSONResponse({"operation": operation}, status_code=200)

    return endpoint


def starlette_template(path: str) -> str:
    # {doc_name} takes the rest of the path, as ttguard routes it.
    return path.replace("{doc_name}", "{doc_name:path}")


def routes_by_specificity() -> list[dict[str, str]]:
    # Literal segments before parameters, as ttguard tries them.
    return sorted(OPERATIONS, key=lambda entry: entry["path"].count("{"))


def starlette_app(handled: Handled) -> Any:
    routes = [StarletteRoute(starlette_template(entry["path"]),
                             handler(entry["operation"], handled), methods=[entry["method"]])
              for entry in routes_by_specificity()]
    return GuardMiddleware(Starlette(routes=routes))


def fastapi_app(handled: Handled) -> Any:
    app = FastAPI()
    for entry in routes_by_specificity():
        app.add_api_route(starlette_template(entry["path"]), handler(entry["operation"], handled),
                          methods=[entry["method"]])
    app.add_middleware(GuardMiddleware)
    return app


@pytest.fixture(scope="module", params=["starlette", "fastapi"])
def application(request: pytest.FixtureRequest) -> Iterator[tuple[Running, Handled]]:
    handled = Handled([])
    app = starlette_app(handled) if request.param == "starlette" else fastapi_app(handled)
    with uvicorn_server(app) as running:
        yield running, handled


def check_application(application: tuple[Running, Handled], target: str,
                      valid: bool) -> None:
    running, handled = application
    handled.calls.clear()
    operation = operation_of(target)
    body = (VALID if valid else INVALID)[operation]
    response = exchange(running, post(target, body))
    verdict = judged("POST", target)
    error = tt_error(response)
    if error is not None:
        assert handled.calls == []
        if isinstance(verdict, TTError):
            assert (error["subcode"], error["description"]) == (
                verdict.subcode, verdict.description)
        else:
            assert verdict == operation, (target, error)
            assert not valid or error["description"].startswith("path::"), (target, error)
        return
    if refused_by_uvicorn(response):
        assert handled.calls == []
        return
    assert not isinstance(verdict, TTError), (target, response)
    for reached, received, _ in handled.calls:
        assert reached == verdict, f"{target}: the app ran {reached}, ttguard judged {verdict}"
        assert received == VALID[reached], f"{target}: an invalid body reached {reached}"


@pytest.mark.parametrize("valid", [False, True], ids=["invalid", "valid"])
@pytest.mark.parametrize("target", TARGETS)
def test_the_application_handles_what_the_middleware_judged(
        application: tuple[Running, Handled], target: str, valid: bool) -> None:
    check_application(application, target, valid)


#: Where a router that takes the path as sent (Starlette's) and ttguard's canonical form could
#: part: a parameter route behind a dot or empty segment, a Doc's name, which takes the rest of
#: the path (an empty rest too), a literal segment beside a parameter.
ROUTED_AS_SENT = [
    ("PATCH", f"/twins/{TWIN}/docs/"), ("PATCH", f"/twins/{TWIN}/docs/."),
    ("PATCH", f"/twins/{TWIN}/docs//"), ("PATCH", f"/twins/{TWIN}/docs/a/.."),
    ("PATCH", f"/twins/{TWIN}/docs/a/"), ("PATCH", f"/twins/{TWIN}/docs//a"),
    ("PATCH", f"/twins/{TWIN}/docs/a"), ("PATCH", f"/twins/{TWIN}/docs/x/../../../{TWIN}"),
    ("GET", f"/twins/{TWIN}/docs/"), ("GET", f"/twins/{TWIN}/docs"),
    ("DELETE", f"/twins/{TWIN}/docs/"), ("POST", f"/twins/{TWIN}/docs/"),
    ("PATCH", f"/twins/{TWIN}/identities/.."), ("PATCH", f"/twins/{TWIN}/identities/."),
    ("PATCH", f"/twins/{TWIN}/identities/RFID%231"), ("POST", "/twins/../identities"),
    ("POST", f"/twins/{TWIN}/identities/."), ("PATCH", f"/twins/{TWIN}/"),
    ("GET", "/notifications/webhooks/ACCESS"), ("GET", "/notifications/webhooks/access"),
    ("GET", "/Notifications/webhooks/access"), ("GET", "/notifications/webhooks/Access"),
    ("GET", "/notifications/webhooks/%41ccess"), ("GET", "/notifications/webhooks/%61ccess"),
    # Starlette's ^...$, matched by re.match, takes a final newline: /twins%0A is /twins.
    ("POST", "/twins%0A"), ("POST", f"/twins/{TWIN}/identities%0A"),
    ("PATCH", f"/twins/{TWIN}/ledgers/personal/value%0A"), ("GET", f"/twins/{TWIN}%0A"),
    ("POST", f"/twins/{TWIN}/docs%0A"),
]


# An empty object, which most of these operations accept, lets a mismatch reach a handler.
@pytest.mark.parametrize("body", [b"{}", b'{"description": {"Bad Key": 1}}'])
@pytest.mark.parametrize(("method", "target"), ROUTED_AS_SENT)
def test_the_application_routes_what_the_middleware_judged(
        application: tuple[Running, Handled], method: str, target: str, body: bytes) -> None:
    running, handled = application
    handled.calls.clear()
    request = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
    response = exchange(running, request)
    try:
        route = route_path(method, target)
    except TTError as verdict:
        assert handled.calls == []
        assert tt_error(response) is not None
        assert (tt_error(response)["subcode"],  # type: ignore[index]
                tt_error(response)["description"]) == (  # type: ignore[index]
            verdict.subcode, verdict.description)
        return
    for reached, _, params in handled.calls:
        assert route is not None, f"{method} {target}: the app ran {reached}, ttguard none"
        assert (reached, params) == route, f"{method} {target}: the app ran {reached} {params}"


def test_the_findings_of_the_issue_are_refused(application: tuple[Running, Handled]) -> None:
    running, handled = application
    handled.calls.clear()
    for target in ("/tw%69ns", "/%74wins"):
        response = exchange(running, post(target, INVALID["create_twin"]))
        assert tt_error(response) == {
            "subcode": 400589, "trace": tt_error(response)["trace"],  # type: ignore[index]
            "description": "body::description->__key__: string does not match regex "
                           "^[a-z_][0-9a-z_]{0,63}$"}
    assert handled.calls == []


SEGMENT_SPELLINGS = st.sampled_from(["plain", "upper", "encoded", "dotted", "doubled",
                                     "slashed", "climbing"])


def spelled(segment: str, how: str, draw_index: int) -> str:
    if how == "upper":
        return segment.upper()
    if how == "encoded" and segment:
        index = draw_index % len(segment)
        return segment[:index] + f"%{ord(segment[index]):02X}" + segment[index + 1:]
    if how == "dotted":
        return f"x/../{segment}/."
    if how == "doubled":
        return f"/{segment}"
    if how == "slashed":  # an encoded '/' after it: an empty segment once decoded
        return f"{segment}%2F"
    if how == "climbing":  # a dot segment that only decoding makes
        return f"x%2F..%2F{segment}"
    return segment


def respelled(spellings: list[tuple[str, int]]) -> str:
    segments = LEDGER.strip("/").split("/")
    return "/" + "/".join(spelled(segment, how, index)
                          for segment, (how, index) in zip(segments, spellings, strict=True))


RESPELLINGS = st.lists(st.tuples(SEGMENT_SPELLINGS, st.integers(0, 100)), min_size=4,
                       max_size=4)


@settings(max_examples=40)
@given(spellings=RESPELLINGS, valid=st.booleans())
def test_any_spelling_of_a_request_is_judged_as_the_application_routes_it(
        application: tuple[Running, Handled], spellings: list[tuple[str, int]],
        valid: bool) -> None:
    check_application(application, respelled(spellings), valid)


# -- (b) the gateway in front of a recording upstream -----------------------------------------


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Running, RecordingUpstream]]:
    with RecordingUpstream.running() as upstream, \
            uvicorn_server(create_app(upstream.url)) as running:
        yield running, upstream


def forwarded_target(target: str) -> str:
    """The target the upstream must receive for an accepted request: the one judged."""
    path, _, query = target.split("#", 1)[0].partition("?")
    return canonical_path(path) + (f"?{query}" if query else "")


def check_framing(received: Received) -> None:
    names = [name for name, _ in received.headers]
    assert not {"content-length", "transfer-encoding"} <= set(names)
    if "content-length" in names:
        assert names.count("content-length") == 1
        assert int(dict(received.headers)["content-length"]) == len(received.body)


def check_gateway(gateway: tuple[Running, RecordingUpstream], request: bytes, target: str,
                  body: bytes, operation: str | None) -> Response | None:
    running, upstream = gateway
    upstream.received.clear()
    response = exchange(running, request)
    verdict = judged("POST", target.split("#", 1)[0])
    error = tt_error(response)
    if error is not None or refused_by_uvicorn(response):
        assert upstream.received == []
        if error is not None and isinstance(verdict, TTError) and error["subcode"] == 400793:
            assert error["description"] == verdict.description
        return response
    assert not isinstance(verdict, TTError), (target, response)
    [received] = upstream.received
    assert received.target == forwarded_target(target)
    assert received.body == body
    check_framing(received)
    if verdict is not None:
        assert verdict == operation
        assert body == VALID[verdict], f"{target}: an invalid body reached the upstream"
    return response


@pytest.mark.parametrize("valid", [False, True], ids=["invalid", "valid"])
@pytest.mark.parametrize("target", TARGETS)
def test_the_upstream_receives_the_target_the_gateway_judged(
        gateway: tuple[Running, RecordingUpstream], target: str, valid: bool) -> None:
    operation = operation_of(target)
    body = (VALID if valid else INVALID)[operation]
    check_gateway(gateway, post(target, body), target, body, operation)


@settings(max_examples=40)
@given(spellings=RESPELLINGS, valid=st.booleans())
def test_any_spelling_of_a_request_reaches_the_upstream_as_judged(
        gateway: tuple[Running, RecordingUpstream], spellings: list[tuple[str, int]],
        valid: bool) -> None:
    target = respelled(spellings)
    operation = operation_of(target)
    body = (VALID if valid else INVALID)[operation]
    check_gateway(gateway, post(target, body), target, body, operation)


def test_the_dot_segment_finding_of_the_issue_is_refused(
        gateway: tuple[Running, RecordingUpstream]) -> None:
    for target in ("/x/../twins", "/./twins", "/twins/."):
        response = check_gateway(gateway, post(target, INVALID["create_twin"]), target,
                                 INVALID["create_twin"], "create_twin")
        assert tt_error(response)["subcode"] == 400589  # type: ignore[index]


CHUNKED = "Transfer-Encoding: chunked\r\n"
FRAMINGS = [
    # (headers, wire body, the body the upstream must get; None: refused)
    ("Content-Length: 5\r\n" + CHUNKED, b"2\r\n{}\r\n0\r\n\r\n", None),
    (CHUNKED + "Content-Length: 2\r\n", b"2\r\n{}\r\n0\r\n\r\n", None),
    ("Content-Length: 2\r\nContent-Length: 2\r\n", b"{}", b"{}"),
    ("Content-Length: 2\r\nContent-Length: 3\r\n", b"{} ", None),
    ("Content-Length: 2, 2\r\n", b"{}", b"{}"),
    ("Content-Length: 2, 3\r\n", b"{} ", None),
    ("Content-Length: +2\r\n", b"{}", None),
    (CHUNKED, b"2;ext=1\r\n{}\r\n0\r\n\r\n", b"{}"),
    (CHUNKED, b"1\r\n{\r\n1;a=b\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n", b"{}"),
    ("Transfer-Encoding: gzip, chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n", None),
]


@pytest.mark.parametrize(("headers", "wire", "forwarded"), FRAMINGS)
def test_the_gateway_frames_what_it_forwards_itself(
        gateway: tuple[Running, RecordingUpstream], headers: str, wire: bytes,
        forwarded: bytes | None) -> None:
    running, upstream = gateway
    upstream.received.clear()
    response = exchange(running, post("/twins", wire, headers))
    if forwarded is None:
        assert upstream.received == []
        assert response is None or response.status >= 400
        return
    assert response is not None and response.status == 200
    [received] = upstream.received
    assert received.body == forwarded
    check_framing(received)


@pytest.mark.parametrize("headers", ["Content-Length: 5\r\n" + CHUNKED,
                                     CHUNKED + "Content-Length: 2\r\n"])
def test_a_request_framed_two_ways_is_the_servers_400(
        application: tuple[Running, Handled], headers: str) -> None:
    running, handled = application
    handled.calls.clear()
    response = exchange(running, post("/twins", b"2\r\n{}\r\n0\r\n\r\n", headers))
    assert tt_error(response) is not None
    error = tt_error(response)
    assert (error["subcode"], error["description"]) == (  # type: ignore[index]
        400793, "Content-Length and Transfer-Encoding must not both be given.")
    assert handled.calls == []


def test_a_failure_inside_the_gateway_is_the_servers_500(
        gateway: tuple[Running, RecordingUpstream], monkeypatch: pytest.MonkeyPatch) -> None:
    import ttguard.gateway

    def broken(path: str) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ttguard.gateway, "canonical_path", broken)
    running, upstream = gateway
    upstream.received.clear()
    response = exchange(running, post("/elsewhere", b"{}"))
    error = tt_error(response)
    assert response is not None and response.status == 500 and error is not None
    assert (error["subcode"], error["description"]) == (
        500000, "The server encountered an internal error and was not able to complete "
                "the request.")
    monkeypatch.undo()
    assert exchange(running, post("/twins", VALID["create_twin"])).status == 200  # type: ignore[union-attr]

