"""GuardMiddleware under a real uvicorn on 127.0.0.1, spoken to in raw HTTP/1.1.

Each subcode end to end; an oversized chunked upload answered before the client has sent it
all; accepted bodies arriving downstream byte-identical, whatever the chunking; the same answer
to a body in one message (judged whole) and in several (streamed).
"""

from __future__ import annotations

import gzip
import json
import select
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import split
from tests.servers import (
    Recorder,
    Running,
    read_response,
    request_head,
    send_request,
    uvicorn_server,
)
from ttguard.asgi import ASGIApp, GuardMiddleware, Message, Receive, Scope, Send

TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
VALID = b'{"description": {"name": "Pump 7", "site": "Gda\xc5\x84sk"}}'


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def guarded(recorder: Recorder) -> Iterator[Running]:
    with uvicorn_server(GuardMiddleware(recorder, require_authorization=True)) as running:
        yield running


@pytest.fixture(autouse=True)
def forget(recorder: Recorder) -> None:
    recorder.requests.clear()
    recorder.messages.clear()


AUTH = {"Authorization": "secret-key", "Content-Type": "application/json"}


def error_of(response: Any) -> tuple[int, int, str]:
    body = response.json()
    assert set(body) == {"subcode", "trace", "description"}
    assert response.headers["content-type"] == "application/json"
    return response.status, body["subcode"], body["description"]


# method, path, body, headers, expected (status, subcode, description)
END_TO_END: list[tuple[str, str, bytes, dict[str, str], tuple[int, int, str]]] = [
    ("POST", "/twins", b"x" * 65537, AUTH,
     (400, 400141, "Request body is too large to process (limit: 65536 bytes).")),
    ("POST", "/twins", b'{"description": {"name": "\xff"}}', AUTH,
     (400, 400314, "Request body contains invalid characters.")),
    ("POST", "/twins", b'{"description": ', AUTH,
     (400, 400415, "Request body is not a valid JSON.")),
    ("POST", "/twins", b'{"description": {"Name": 1}}', AUTH,
     (400, 400589, "body::description->__key__: string does not match regex "
                   "^[a-z_][0-9a-z_]{0,63}$")),
    ("POST", f"/twins/{TWIN}/ledgers/personal", b'{"temperature": {"value": 1}}', AUTH,
     (400, 400926, "body::entries: field required")),
    ("GET", "/twins/not-a-uuid", b"", AUTH,
     (400, 400589, "path::twin: value is not a valid uuid")),
    ("POST", "/twins", VALID, {"Content-Type": "application/json"},
     (401, 401000, "Authorization header not provided.")),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "expected"), END_TO_END,
                         ids=[case[4][2][:40] for case in END_TO_END])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_each_subcode_end_to_end(guarded: Running, recorder: Recorder, method: str, path: str,
                                 body: bytes, headers: dict[str, str],
                                 expected: tuple[int, int, str], framing: str) -> None:
    chunks = [body[i:i + 1000] for i in range(0, len(body), 1000)]
    length = len(body) if framing == "content-length" else None
    response = send_request(guarded, method, path, chunks, headers=headers,
                            content_length=length)
    assert error_of(response) == expected
    assert recorder.requests == []


def test_a_declared_length_over_the_quota_is_answered_before_any_body(guarded: Running) -> None:
    with socket.create_connection((guarded.host, guarded.port), timeout=30) as sock:
        sock.sendall(request_head("POST", "/twins", {**AUTH, "Content-Length": str(2**30)}))
        response = read_response(sock)
    assert error_of(response) == (400, 400141,
                                  "Request body is too large to process (limit: 65536 bytes).")


def test_missing_authorization_is_answered_before_any_body(guarded: Running) -> None:
    with socket.create_connection((guarded.host, guarded.port), timeout=30) as sock:
        sock.sendall(request_head("POST", "/twins", {"Content-Length": "100"}))
        response = read_response(sock)
    assert error_of(response) == (401, 401000, "Authorization header not provided.")


def test_an_oversized_chunked_upload_is_answered_while_the_client_still_sends(
        guarded: Running) -> None:
    """The client sees the 400141 while it holds most of a 64 MiB body unsent."""
    total = 64 * 2**20
    piece = b"x" * 65536
    sent = 0
    with socket.create_connection((guarded.host, guarded.port), timeout=30) as sock:
        sock.sendall(request_head("POST", "/twins", {**AUTH, "Transfer-Encoding": "chunked"}))
        readable: list[socket.socket] = []
        while sent < total and not readable:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            readable, _, _ = select.select([sock], [], [], 0)
        response = read_response(sock)
    assert sent < total // 4
    assert error_of(response)[:2] == (400, 400141)


def test_a_valid_request_arrives_downstream_byte_identical(guarded: Running,
                                                          recorder: Recorder) -> None:
    response = send_request(guarded, "POST", "/twins?x=1", [VALID[:7], VALID[7:]], headers=AUTH)
    assert (response.status, response.body) == (201, VALID)
    [(scope, body)] = recorder.requests
    assert body == VALID
    assert (scope["path"], scope["query_string"]) == ("/twins", b"x=1")
    [messages] = recorder.messages
    assert messages == [{"type": "http.request", "body": VALID, "more_body": False}]


def test_unknown_routes_pass_through_unread(guarded: Running, recorder: Recorder) -> None:
    body = b"\xff not json, not checked"
    response = send_request(guarded, "POST", "/not/an/operation", [body], headers=AUTH)
    assert (response.status, response.body) == (201, body)


def test_unknown_routes_may_be_refused_with_the_servers_404(recorder: Recorder) -> None:
    with uvicorn_server(GuardMiddleware(recorder, reject_unknown=True)) as running:
        response = send_request(running, "GET", "/nothing/here")
    assert error_of(response) == (404, 404653, "The requested resource does not exist.")
    assert recorder.requests == []


def test_a_prefix_is_removed_before_routing(recorder: Recorder) -> None:
    with uvicorn_server(GuardMiddleware(recorder, prefix="/api")) as running:
        bad = send_request(running, "POST", "/api/twins", [b"{"])
        good = send_request(running, "POST", "/api/twins", [VALID])
    assert error_of(bad)[:2] == (400, 400415)
    assert good.status == 201
    assert [scope["path"] for scope, _ in recorder.requests] == ["/api/twins"]


def test_operations_outside_the_chosen_ones_pass_through(recorder: Recorder) -> None:
    with uvicorn_server(GuardMiddleware(recorder, operations=["get_twin"])) as running:
        response = send_request(running, "POST", "/twins", [b"{"])
    assert response.status == 201


def test_unknown_operation_names_are_refused_at_construction(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="unknown Trusted Twin operations: create_twn"):
        GuardMiddleware(recorder, operations=["create_twn"])


@pytest.mark.parametrize(("setting", "message"), [
    ({"prefix": None},
     "prefix is the path the API is mounted under, a str such as '/api' or '', not NoneType"),
    ({"prefix": b"/api"},
     "prefix is the path the API is mounted under, a str such as '/api' or '', not bytes"),
    ({"operations": "create_twin"},
     "operations is a collection of operation names, not one name: ['create_twin']"),
    ({"reporter": "x.jsonl"},
     "reporter must be a ttguard.report.Reporter, e.g. Reporter('x.jsonl'), not str"),
    ({"report_only": True, "reporter": "x.jsonl"},
     "reporter must be a ttguard.report.Reporter, e.g. Reporter('x.jsonl'), not str"),
    ({"metrics": object()},
     "metrics must be a ttguard.metrics.GuardMetrics, e.g. GuardMetrics.default(), not object"),
    ({"max_body": "65536"}, "max_body must be an int, a number of bytes, not str"),
])
def test_a_setting_of_the_wrong_type_is_refused_at_construction(
        recorder: Recorder, setting: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as refused:
        GuardMiddleware(recorder, **setting)
    assert str(refused.value) == message


GZIPPED = gzip.compress(VALID)


def test_a_gzipped_body_is_judged_as_received_by_default(guarded: Running,
                                                         recorder: Recorder) -> None:
    # As a Starlette application, which decodes no Content-Encoding, reads it.
    response = send_request(guarded, "POST", "/twins", [GZIPPED],
                            headers={**AUTH, "Content-Encoding": "gzip"},
                            content_length=len(GZIPPED))
    assert error_of(response) == (400, 400314, "Request body contains invalid characters.")
    assert recorder.requests == []


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_without_judging_encoded_bodies_one_goes_on_as_sent_after_its_path_is_judged(
        recorder: Recorder, framing: str) -> None:
    oversized = gzip.compress(bytes(range(256)) * 512, compresslevel=0)  # over the quota
    headers = {**AUTH, "Content-Encoding": "gzip"}
    chunks = [oversized[:70_000], oversized[70_000:]]
    with uvicorn_server(GuardMiddleware(recorder, require_authorization=True,
                                        judge_encoded_bodies=False)) as running:
        accepted = send_request(running, "POST", "/twins", chunks, headers=headers,
                                content_length=len(oversized) if framing == "content-length"
                                else None)
        bad_path = send_request(running, "POST", "/twins/pump-7/ledgers/personal", [GZIPPED],
                                headers=headers)
        unauthorized = send_request(running, "POST", "/twins", [GZIPPED],
                                    headers={"Content-Encoding": "gzip"})
        plain = send_request(running, "POST", "/twins", [b"{"], headers=AUTH)
    assert (accepted.status, accepted.body) == (201, oversized)
    assert [body for _, body in recorder.requests] == [oversized]
    assert error_of(bad_path) == (400, 400589, "path::twin: value is not a valid uuid")
    assert error_of(unauthorized) == (401, 401000, "Authorization header not provided.")
    assert error_of(plain)[:2] == (400, 400415)  # a body with no coding is judged as ever


def test_report_only_without_judging_encoded_bodies_hands_one_on_as_it_arrives(
        recorder: Recorder) -> None:
    oversized = gzip.compress(bytes(range(256)) * 512, compresslevel=0)
    with uvicorn_server(GuardMiddleware(recorder, report_only=True,
                                        judge_encoded_bodies=False)) as running:
        response = send_request(running, "POST", "/twins",
                                [oversized[:70_000], oversized[70_000:]],
                                headers={"Content-Encoding": "gzip"})
    assert (response.status, response.body) == (201, oversized)
    assert [body for _, body in recorder.requests] == [oversized]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
KEYS = st.from_regex(r"[a-z_][0-9a-z_]{0,20}", fullmatch=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(description=st.dictionaries(KEYS, JSON_VALUES, max_size=5),
       ensure_ascii=st.booleans(), cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_accepted_bodies_arrive_byte_identical_whatever_the_chunking(
        description: dict[str, Any], ensure_ascii: bool, cuts: list[int]) -> None:
    body = json.dumps({"description": description}, ensure_ascii=ensure_ascii).encode()
    chunks = split(body, cuts)
    recorder = _SHARED_RECORDER
    recorder.requests.clear()
    response = send_request(_SHARED_SERVER, "POST", "/twins", chunks)
    assert (response.status, response.body) == (201, body)
    assert [received for _, received in recorder.requests] == [body]


_SHARED_RECORDER = Recorder()
_SHARED_SERVER: Running


@pytest.fixture(scope="module", autouse=True)
def shared_server() -> Iterator[None]:
    """A server for the hypothesis test, which cannot take function-scoped fixtures."""
    global _SHARED_SERVER
    with uvicorn_server(GuardMiddleware(_SHARED_RECORDER)) as running:
        _SHARED_SERVER = running
        yield



class SplitMessages:
    """Hands the application each body message in pieces of at most ``size`` bytes, so that
    the middleware reads every body in several messages, whatever uvicorn delivered."""

    def __init__(self, app: ASGIApp, size: int) -> None:
        self.app, self.size = app, size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pending: list[Message] = []

        async def in_pieces() -> Message:
            if not pending:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                body, more = message.get("body", b""), message.get("more_body", False)
                pieces = [body[at:at + self.size] for at in range(0, len(body), self.size)]
                # Last piece first: pop() takes them from the end.
                pending.extend(
                    {"type": "http.request", "body": piece, "more_body": more or index > 0}
                    for index, piece in enumerate(reversed(pieces or [b""])))
            return pending.pop()

        await self.app(scope, in_pieces if scope["type"] == "http" else receive, send)


@pytest.fixture(scope="module")
def split_guarded() -> Iterator[Running]:
    app = SplitMessages(GuardMiddleware(Recorder(), require_authorization=True), size=7)
    with uvicorn_server(app) as running:
        yield running


BODIES = [(method, path, body) for method, path, body, headers, _ in END_TO_END
          if headers is AUTH] + [("POST", "/twins", VALID), ("POST", "/twins", b"")]


@pytest.mark.parametrize(("method", "path", "body"), BODIES,
                         ids=[f"{path[:10]}:{body[:24]!r}" for _, path, body in BODIES])
def test_a_body_in_one_message_gets_the_answer_it_gets_in_several(
        guarded: Running, split_guarded: Running, method: str, path: str, body: bytes) -> None:
    answers = []
    for running in (guarded, split_guarded):
        response = send_request(running, method, path, [body], headers=AUTH,
                                content_length=len(body))
        answers.append((response.status, response.body) if response.status < 400
                       else error_of(response))
    assert answers[0] == answers[1]
