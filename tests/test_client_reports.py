"""Client guards beside the server's answers: report-only mode, disagreement records, metrics.

A real upstream on 127.0.0.1 answers each request as the test asks (header ``x-answer``):
a success, a Trusted Twin error that agrees or disagrees with ttguard in each way, a body that
is no error model, a response cut mid-body. Every library's guard (requests, httpx sync and
async, aiohttp) must write the same exact records, leave the response usable by its caller,
and in report-only mode send what the library sends without ttguard, byte for byte.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import gzip
import io
import json
import os
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest
import requests
from prometheus_client import CollectorRegistry
from trustedtwin.tt_api import TTRESTService
from trustedtwin.tt_api_async import TTAsyncRESTService

from tests.servers import Running, read_body, uvicorn_server
from ttguard import StreamValidator, TTError
from ttguard.clients import (
    AsyncGuardTransport,
    GuardedSession,
    GuardTransport,
    guarded_client_session,
)
from ttguard.metrics import GuardMetrics
from ttguard.report import Reporter

BAD_KEY = ("body::description->__key__: string does not match regex "
           "^[a-z_][0-9a-z_]{0,63}$")
REFUSED = b'{"description": {"Name": 1}}'  # ttguard: 400589 BAD_KEY
ACCEPTED = b'{"description": {"name": "Pump 7"}}'
SECRET = "Bearer s3cr3t-key"


def error(subcode: int, description: str, trace: str) -> bytes:
    return json.dumps({"subcode": subcode, "trace": trace, "description": description}).encode()


#: What the upstream answers, by the request's ``x-answer`` header: status and body.
ANSWERS: dict[str, tuple[int, bytes]] = {
    "same": (400, error(400589, BAD_KEY, "trace-same")),
    "missed": (400, error(400589, "body::description: value is not a valid dict", "trace-m")),
    "other_wording": (400, error(400589, "body::description->Name: bad key", "trace-w")),
    "other_subcode": (400, error(400926, "body::description: field required", "trace-s")),
    "malformed": (400, b"<html><body>Bad Request</body></html>"),
    "not_found": (404, error(404653, "The requested resource does not exist.", "trace-n")),
}


@dataclass
class Upstream:
    """Records each request (scope, body) and answers as its ``x-answer`` header says.

    No header: ``201`` with the body echoed. ``chunked:<name>``: the answer ``<name>`` without
    a ``Content-Length``, in two pieces. ``big``: a 400 of 40 000 bytes of unknown length.
    ``cut``: a 400 that declares 500 bytes and breaks the connection after 20. ``digest``: a
    401 Digest challenge to a request without a Digest ``Authorization``, else the echo. The query
    ``redirect=<status>`` (307 if none) sends the request on to ``to`` (``/twins`` if none).
    """

    requests: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await read_body(receive)
        if body is None:
            return
        self.requests.append((scope, body))
        answer = dict(scope["headers"]).get(b"x-answer", b"").decode()
        json_type = (b"content-type", b"application/json")
        query = parse_qs(scope["query_string"].decode(), keep_blank_values=True)
        if "redirect" in query:
            location = query.get("to", ["/twins"])[0].encode()
            await send({"type": "http.response.start", "status": int(query["redirect"][0] or 307),
                        "headers": [(b"location", location), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if answer == "digest":
            if not dict(scope["headers"]).get(b"authorization", b"").startswith(b"Digest "):
                challenge = b'Digest realm="tt", nonce="5ca1ab1e", qop="auth"'
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"www-authenticate", challenge), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            answer = ""  # authorised: the echo
        if answer == "cut":
            await send({"type": "http.response.start", "status": 400,
                        "headers": [json_type, (b"content-length", b"500")]})
            await send({"type": "http.response.body", "body": b'{"subcode": 400589, "tr',
                        "more_body": True})
            raise ConnectionAbortedError("the upstream breaks its answer on purpose")
        if answer == "big":
            await send({"type": "http.response.start", "status": 400, "headers": [json_type]})
            for _ in range(4):
                await send({"type": "http.response.body", "body": b" " * 10_000,
                            "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        chunked = answer.startswith("chunked:")
        status, payload = ANSWERS[answer.removeprefix("chunked:")] if answer else (201, bytes(body))
        if chunked:
            await send({"type": "http.response.start", "status": status, "headers": [json_type]})
            half = len(payload) // 2
            await send({"type": "http.response.body", "body": payload[:half], "more_body": True})
            await send({"type": "http.response.body", "body": payload[half:]})
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [json_type, (b"content-length", b"%d" % len(payload))]})
        await send({"type": "http.response.body", "body": payload})


@pytest.fixture(scope="module")
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture(scope="module")
def server(upstream: Upstream) -> Iterator[Running]:
    with uvicorn_server(upstream) as running:
        yield running


@pytest.fixture(autouse=True)
def forget(upstream: Upstream) -> None:
    upstream.requests.clear()


LIBRARIES = ["requests", "httpx", "httpx_async", "aiohttp"]
#: Bytes as they are, chunks given as a stream, or a file (made afresh for each request).
Body = bytes | list[bytes] | Callable[[], BinaryIO]


def _sync_chunks(body: bytes | list[bytes] | BinaryIO) -> Any:
    return body if isinstance(body, (bytes, io.IOBase)) else (chunk for chunk in body)


def _async_chunks(body: bytes | list[bytes] | BinaryIO) -> Any:
    if isinstance(body, (bytes, io.IOBase)):
        return body

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in body:
            yield chunk

    return chunks()


def post(library: str, url: str, body: Body, *, answer: str = "", guarded: bool = True,
         target: str = "/twins", headers: dict[str, str] | None = None,
         **guard: Any) -> tuple[int, bytes]:
    """POST ``target`` with ``library`` (with its guard, or none), and ``headers`` beside the
    test's own: the status and body its caller reads."""
    with contextlib.ExitStack() as files:
        given = files.enter_context(body()) if callable(body) else body
        return _post(library, url, url + target, given, answer=answer, guarded=guarded,
                     headers=headers or {}, **guard)


def _post(library: str, url: str, target: str, body: bytes | list[bytes] | BinaryIO, *,
          answer: str, guarded: bool, headers: dict[str, str],
          **guard: Any) -> tuple[int, bytes]:
    headers = {"Authorization": SECRET, "Content-Type": "application/json", **headers}
    if answer:
        headers["x-answer"] = answer
    if library == "requests":
        session = GuardedSession(url, **guard) if guarded else requests.Session()
        with session:
            response = session.post(target, data=_sync_chunks(body), headers=headers)
            return response.status_code, response.content
    if library == "httpx":
        transport = GuardTransport(base_url=url, **guard) if guarded else httpx.HTTPTransport()
        with httpx.Client(transport=transport, follow_redirects=True) as client:
            reply = client.post(target, content=_sync_chunks(body), headers=headers)
            return reply.status_code, reply.content

    async def send() -> tuple[int, bytes]:
        if library == "httpx_async":
            transport = (AsyncGuardTransport(base_url=url, **guard) if guarded
                         else httpx.AsyncHTTPTransport())
            async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
                reply = await client.post(target, content=_async_chunks(body), headers=headers)
                return reply.status_code, reply.content
        session = guarded_client_session(url, **guard) if guarded else aiohttp.ClientSession()
        async with session, session.post(target, data=_async_chunks(body),
                                         headers=headers) as response:
            return response.status, await response.read()

    return asyncio.run(send())


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    for line in lines:
        del line["time"]
    return lines


def record(kind: str, verdict: tuple[int, str] | None, server: tuple[int, Any, Any, Any]
           ) -> dict[str, Any]:
    status, subcode, description, trace = server
    return {"kind": kind, "operation": "create_twin", "method": "POST",
            "path_template": "/twins",
            "ttguard": None if verdict is None else {"subcode": verdict[0],
                                                     "description": verdict[1]},
            "server": {"status": status, "subcode": subcode, "description": description,
                       "trace": trace}}


OURS = (400589, BAD_KEY)
# request body, upstream answer, the record expected (None: none)
DISAGREEMENTS: dict[str, tuple[bytes, str, dict[str, Any] | None]] = {
    "false_rejection": (REFUSED, "", record("false_rejection", OURS, (201, None, None, None))),
    "missed": (ACCEPTED, "missed", record("missed", None, (
        400, 400589, "body::description: value is not a valid dict", "trace-m"))),
    "other_wording": (REFUSED, "other_wording", record("other_wording", OURS, (
        400, 400589, "body::description->Name: bad key", "trace-w"))),
    "other_subcode": (REFUSED, "other_subcode", record("other_subcode", OURS, (
        400, 400926, "body::description: field required", "trace-s"))),
    "unreadable": (ACCEPTED, "malformed", record("unreadable", None, (400, None, None, None))),
    "unreadable_chunked": (REFUSED, "chunked:malformed",
                           record("unreadable", OURS, (400, None, None, None))),
    "missed_chunked": (ACCEPTED, "chunked:missed", record("missed", None, (
        400, 400589, "body::description: value is not a valid dict", "trace-m"))),
    "unreadable_big": (ACCEPTED, "big", record("unreadable", None, (400, None, None, None))),
    "not_comparable": (REFUSED, "not_found", None),
    "agree": (REFUSED, "same", None),
    "agree_success": (ACCEPTED, "", None),
}


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("case", DISAGREEMENTS)
def test_report_only_records_each_disagreement_and_leaves_the_answer_whole(
        server: Running, upstream: Upstream, library: str, case: str) -> None:
    body, answer, expected = DISAGREEMENTS[case]
    stream = io.StringIO()
    seen = post(library, server.url, body, answer=answer, report_only=True,
                reporter=Reporter(stream))
    assert records(stream) == ([] if expected is None else [expected])
    assert SECRET not in stream.getvalue()
    assert "Pump 7" not in stream.getvalue()
    unguarded = post(library, server.url, body, answer=answer, guarded=False)
    assert seen == unguarded
    assert [received for _, received in upstream.requests] == [body, body]


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_response_cut_mid_body_is_unreadable_and_raises_what_the_library_raises(
        server: Running, library: str) -> None:
    stream = io.StringIO()
    failures = []
    for guard in ({"report_only": True, "reporter": Reporter(stream)}, {"guarded": False}):
        with pytest.raises((requests.RequestException, httpx.HTTPError,
                            aiohttp.ClientError)) as failure:
            post(library, server.url, ACCEPTED, answer="cut", **guard)
        failures.append(type(failure.value))
    assert failures[0] is failures[1]
    assert records(stream) == [record("unreadable", None, (400, None, None, None))]


@pytest.mark.parametrize("library", LIBRARIES)
def test_enforcing_guards_compare_what_they_let_through(server: Running, upstream: Upstream,
                                                        library: str) -> None:
    stream = io.StringIO()
    registry = CollectorRegistry()
    guard = {"reporter": Reporter(stream), "metrics": GuardMetrics(registry)}
    post(library, server.url, ACCEPTED, answer="missed", **guard)
    with pytest.raises(TTError):
        post(library, server.url, REFUSED, **guard)
    assert records(stream) == [DISAGREEMENTS["missed"][2]]
    assert [received for _, received in upstream.requests] == [ACCEPTED]

    def count(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"operation": "create_twin", **labels})

    assert count("ttguard_requests_total", verdict="accepted") == 1
    assert count("ttguard_requests_total", verdict="400589") == 1
    assert count("ttguard_disagreements_total", kind="missed") == 1
    assert registry.get_sample_value("ttguard_body_size_bytes_count") == 2


@pytest.mark.parametrize("library", LIBRARIES)
def test_report_only_metrics_count_verdicts_and_disagreements(server: Running,
                                                              library: str) -> None:
    registry = CollectorRegistry()
    guard = {"report_only": True, "metrics": GuardMetrics(registry)}
    for body, answer in [(REFUSED, ""), (REFUSED, "other_subcode"), (REFUSED, "same"),
                         (ACCEPTED, "not_found"), (ACCEPTED, "")]:
        post(library, server.url, body, answer=answer, **guard)

    def count(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"operation": "create_twin", **labels})

    assert count("ttguard_requests_total", verdict="400589") == 3
    assert count("ttguard_requests_total", verdict="accepted") == 2
    assert count("ttguard_disagreements_total", kind="false_rejection") == 1
    assert count("ttguard_disagreements_total", kind="other_subcode") == 1
    assert count("ttguard_disagreements_total", kind="not_comparable") is None
    assert registry.get_sample_value("ttguard_body_size_bytes_sum") == (
        3 * len(REFUSED) + 2 * len(ACCEPTED))


@pytest.mark.parametrize("library", LIBRARIES)
def test_values_are_recorded_only_when_asked(server: Running, library: str) -> None:
    stream = io.StringIO()
    post(library, server.url, ACCEPTED, answer="missed", report_only=True,
         reporter=Reporter(stream, include_values=True))
    (line,) = records(stream)
    assert (line["target"], line["body"]) == ("/twins", ACCEPTED.decode())
    assert SECRET not in stream.getvalue()


def received(upstream: Upstream) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """What each request brought: its body and headers (the port in ``Host`` aside)."""
    return [(body, [header for header in scope["headers"] if header[0] != b"host"])
            for scope, body in upstream.requests]


MIB = [bytes([65 + i % 26]) * 65536 for i in range(16)]  # 1 MiB, over the quota
FRAMINGS: dict[str, Body] = {
    "bytes_refused": REFUSED,
    "bytes_over_quota": b'{"notes": "' + b"x" * 70_000 + b'"}',
    "stream_refused": [REFUSED[:10], REFUSED[10:]],
    "stream_1mib_over_quota": MIB,
    "stream_accepted": [ACCEPTED[:5], ACCEPTED[5:]],
    "file_over_quota": lambda: io.BytesIO(b"".join(MIB)),
    "pipe_over_quota": lambda: piped(b"".join(MIB)),
}


def piped(data: bytes) -> BinaryIO:
    """A file that cannot seek (a pipe's end) that reads ``data``, written by a thread."""
    read_end, write_end = os.pipe()

    def write() -> None:
        with open(write_end, "wb") as pipe, contextlib.suppress(BrokenPipeError):
            pipe.write(data)

    threading.Thread(target=write, daemon=True).start()
    return open(read_end, "rb")


def sendable(case: str, library: str) -> bool:
    """Whether ``library`` sends the body at all: httpx's async client takes no sync file, and
    httpx declares a pipe's size 0 (then fails), guarded or not."""
    if library == "httpx_async":
        return not callable(FRAMINGS[case])
    return not (library == "httpx" and case == "pipe_over_quota")


@pytest.mark.parametrize(("case", "library"), [
    (case, library) for case in FRAMINGS for library in LIBRARIES if sendable(case, library)])
def test_report_only_sends_what_the_library_sends_without_ttguard(
        server: Running, upstream: Upstream, library: str, case: str) -> None:
    body = FRAMINGS[case]
    stream = io.StringIO()
    post(library, server.url, body, guarded=False)
    post(library, server.url, body, report_only=True, reporter=Reporter(stream))
    unguarded, guarded = received(upstream)
    assert guarded == unguarded
    whole = body if isinstance(body, bytes) else b"".join(MIB) if callable(body) else b"".join(
        body)
    assert guarded[0] == whole
    assert [line["kind"] for line in records(stream)] == (
        [] if case == "stream_accepted" else ["false_rejection"])


def test_official_clients_in_report_only_mode_send_invalid_calls_unchanged(
        server: Running, upstream: Upstream) -> None:
    stream = io.StringIO()
    reporter = Reporter(stream)
    description = {"Name": "Pump 7"}
    sync = TTRESTService(tt_auth="key", tt_base=server.url,
                         session=GuardedSession(server.url, report_only=True, reporter=reporter))
    answers = [sync.create_twin(body={"description": description})]

    async def call() -> Any:
        async with guarded_client_session(server.url, report_only=True,
                                          reporter=reporter) as session:
            service = TTAsyncRESTService(tt_auth="key", tt_base=server.url, session=session)
            return await service.create_twin(body={"description": description})

    answers.append(asyncio.run(call()))
    sent = [json.loads(body) for _, body in upstream.requests]
    assert sent == [{"description": description}] * 2
    assert [answer[0] for answer in answers] == [201, 201]
    expected = record("false_rejection", OURS, (201, None, None, None))
    assert records(stream) == [expected, expected]


class Endless:
    """A body of ``chunks`` 64 KiB chunks, made lazily; counts what was taken."""

    chunk = b"x" * 65536

    def __init__(self, chunks: int = 2**14) -> None:
        self.chunks = chunks
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.taken += len(self.chunk)
            yield self.chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


LIMIT = 65536 + len(Endless.chunk)


def test_report_only_takes_a_stream_no_further_than_the_verdict_then_sends_the_rest_lazily(
        ) -> None:
    from ttguard.clients import RequestGuard

    guard = RequestGuard(report_only=True)
    body = Endless()  # 1 GiB
    check = guard.begin("POST", f"{guard.base_url}/twins")
    assert check is not None
    sent = check.stream(body)
    assert (body.taken, check.verdict is not None) == (LIMIT, True)
    assert [next(sent) for _ in range(3)] == [Endless.chunk] * 3
    assert body.taken == LIMIT + len(Endless.chunk)  # one more, pulled when asked for

    async def stream_async() -> tuple[int, int]:
        body = Endless(3)
        check = guard.begin("POST", f"{guard.base_url}/twins")
        assert check is not None
        sent = await check.astream(body)
        taken = body.taken
        return taken, sum([len(chunk) async for chunk in sent])

    assert asyncio.run(stream_async()) == (LIMIT, 3 * 65536)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("report_only", [True, False])
def test_each_refusal_is_logged_with_its_mode(server: Running, library: str, report_only: bool,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="ttguard")
    if report_only:
        assert post(library, server.url, REFUSED, report_only=True)[0] == 201
    else:
        with pytest.raises(TTError):
            post(library, server.url, REFUSED)
    # This thread's, where the guard runs: a server may still log the last request it served.
    logged = [(entry.operation, entry.method, entry.subcode, entry.description,
               entry.report_only) for entry in caplog.records
              if entry.name == "ttguard" and entry.thread == threading.get_ident()]
    assert logged == [("create_twin", "POST", 400589, BAD_KEY, report_only)]


def test_report_only_forwards_an_ambiguous_path_and_logs_it(
        server: Running, upstream: Upstream, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="ttguard")
    session = GuardedSession(server.url, report_only=True)
    assert session.post(f"{server.url}/twins;v=1", data=ACCEPTED).status_code == 201
    assert upstream.requests[0][0]["path"] == "/twins;v=1"
    ((subcode, operation),) = [(entry.subcode, entry.operation) for entry in caplog.records
                               if entry.name == "ttguard"
                               and entry.thread == threading.get_ident()]
    assert (subcode, operation) == (400793, None)
    with pytest.raises(TTError) as refusal:
        GuardedSession(server.url).post(f"{server.url}/twins;v=1", data=ACCEPTED)
    assert refusal.value.subcode == 400793


def test_report_only_forwards_what_ttguard_cannot_check(
        server: Running, upstream: Upstream, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: StreamValidator, chunk: bytes) -> None:
        raise RuntimeError("a failure of ttguard's own")

    monkeypatch.setattr(StreamValidator, "feed", broken)
    registry = CollectorRegistry()
    session = GuardedSession(server.url, report_only=True, metrics=GuardMetrics(registry))
    response = session.post(f"{server.url}/twins", data=b'{"a": 1}')
    assert (response.status_code, upstream.requests[0][1]) == (201, b'{"a": 1}')
    assert "could not check" in caplog.text
    assert registry.get_sample_value("ttguard_requests_total",
                                     {"operation": "create_twin", "verdict": "accepted"}) is None
    with pytest.raises(RuntimeError, match="a failure of ttguard's own"):
        GuardedSession(server.url).post(f"{server.url}/twins", data=b"{}")


def test_requests_judges_an_arrays_bytes(server: Running, upstream: Upstream) -> None:
    # urllib3 sends any buffer as its bytes.
    with pytest.raises(TTError) as refusal:
        GuardedSession(server.url).post(f"{server.url}/twins", data=array.array("B", REFUSED))
    assert (refusal.value.subcode, refusal.value.description) == OURS
    text = b'{"description": {"abcd": 1}}'
    response = GuardedSession(server.url).post(f"{server.url}/twins",
                                               data=array.array("B", text))
    assert (response.status_code, upstream.requests[-1][1]) == (201, text)


TEXT_ACCEPTED = '{"description": {"name": "Pump 7", "site": "Gdańsk ☂"}}'
#: Bodies requests sends that are no bytes: made afresh from the body's text (and a file path).
REQUESTS_BODIES: dict[str, Callable[[str, Path], Any]] = {
    "bytearray": lambda text, _: bytearray(text.encode()),
    "memoryview": lambda text, _: memoryview(text.encode()),
    "str_generator": lambda text, _: (piece for piece in (text[:20], text[20:])),
    "text_file": lambda text, path: open(path, encoding="utf-8"),  # noqa: SIM115 (closed below)
}


@pytest.mark.parametrize("kind", REQUESTS_BODIES)
@pytest.mark.parametrize(("text", "refusal"), [(TEXT_ACCEPTED, None), (REFUSED.decode(), OURS)],
                         ids=["accepted", "refused"])
@pytest.mark.filterwarnings("ignore::requests.exceptions.FileModeWarning")
def test_requests_judges_the_bytes_urllib3_sends_for_a_body_that_is_no_bytes(
        server: Running, upstream: Upstream, tmp_path: Path, kind: str, text: str,
        refusal: tuple[int, str] | None) -> None:
    path = tmp_path / "body.json"
    path.write_text(text, encoding="utf-8")
    sent = []
    for session in (requests.Session(), GuardedSession(server.url, report_only=True,
                                                       reporter=Reporter(stream := io.StringIO())),
                    GuardedSession(server.url)):
        body = REQUESTS_BODIES[kind](text, path)
        try:
            sent.append(session.post(f"{server.url}/twins", data=body).status_code)
        except TTError as error:
            sent.append((error.subcode, error.description))
        finally:
            if isinstance(body, io.IOBase):
                sent.append(body.tell())  # read to its end when sent; else left where it was
                body.close()
    assert [line["kind"] for line in records(stream)] == ([] if refusal is None
                                                          else ["false_rejection"])
    whole = text.encode()
    if refusal is None:
        assert [body for _, body in upstream.requests] == [whole] * 3
    else:
        assert [body for _, body in upstream.requests] == [whole] * 2  # enforcing: nothing
    unguarded, *guarded = received(upstream)
    assert guarded == [unguarded] * len(guarded)
    def file_at(position: int) -> list[int]:
        return [position] if kind == "text_file" else []

    end = len(whole)
    assert sent == [201, *file_at(end), 201, *file_at(end),
                    *([201, *file_at(end)] if refusal is None else [refusal, *file_at(0)])]


@pytest.mark.parametrize("library", LIBRARIES)
def test_no_response_is_counted_but_not_compared(library: str) -> None:
    with uvicorn_server(Upstream()) as gone:
        url = gone.url
    registry = CollectorRegistry()
    stream = io.StringIO()
    with pytest.raises((requests.RequestException, httpx.HTTPError, aiohttp.ClientError)):
        post(library, url, REFUSED, report_only=True, reporter=Reporter(stream),
             metrics=GuardMetrics(registry))
    assert registry.get_sample_value("ttguard_requests_total",
                                     {"operation": "create_twin", "verdict": "400589"}) == 1
    assert stream.getvalue() == ""


def test_a_success_is_never_read(server: Running) -> None:
    reporter = Reporter(io.StringIO())
    with GuardedSession(server.url, report_only=True, reporter=reporter) as session, \
            session.post(f"{server.url}/twins", data=REFUSED, stream=True) as response:
        assert (response.status_code, response.raw.tell()) == (201, 0)
    transport = GuardTransport(base_url=server.url, report_only=True, reporter=reporter)
    with httpx.Client(transport=transport) as client, \
            client.stream("POST", f"{server.url}/twins", content=REFUSED) as reply:
        assert (reply.status_code, reply.is_stream_consumed) == (201, False)

    async def aiohttp_unread() -> tuple[int, bool]:
        async with guarded_client_session(server.url, report_only=True,
                                          reporter=reporter) as session, \
                session.post(f"{server.url}/twins", data=REFUSED) as answer:
            return answer.status, answer.content.at_eof()

    assert asyncio.run(aiohttp_unread()) == (201, False)


@pytest.mark.parametrize("guard", [{}, {"report_only": True}])
def test_requests_sends_a_file_that_can_seek_itself_so_a_redirect_can_rewind_it(
        server: Running, upstream: Upstream, guard: dict[str, Any]) -> None:
    with GuardedSession(server.url, **guard) as session, io.BytesIO(ACCEPTED) as body:
        response = session.post(f"{server.url}/twins?redirect", data=body)
    assert response.status_code == 201
    assert [(scope["query_string"], body) for scope, body in upstream.requests] == [
        (b"redirect", ACCEPTED), (b"", ACCEPTED)]


def test_a_request_for_no_operation_is_neither_counted_nor_compared(
        server: Running, upstream: Upstream) -> None:
    stream = io.StringIO()
    registry = CollectorRegistry()
    with GuardedSession(server.url, reporter=Reporter(stream),
                        metrics=GuardMetrics(registry)) as session:
        response = session.post(f"{server.url}/not/an/operation", data=b"{",
                                 headers={"x-answer": "missed"})
    assert (response.status_code, upstream.requests[0][1]) == (400, b"{")
    assert stream.getvalue() == ""
    assert registry.get_sample_value("ttguard_body_size_bytes_count") == 0


GENERATED = [ACCEPTED[:10], ACCEPTED[10:]]
#: How each kind of httpx content is given, and the bytes httpx sends for it.
HTTPX_CONTENT: dict[str, tuple[dict[str, Any], bytes]] = {
    "bytes": ({"content": ACCEPTED}, ACCEPTED),
    "json": ({"json": json.loads(ACCEPTED)}, json.dumps(json.loads(ACCEPTED),
                                                        separators=(",", ":")).encode()),
    "generator": ({}, ACCEPTED),
}
#: What makes httpx send a request again: the query or header that has the upstream ask for it.
RESEND: dict[str, tuple[str, dict[str, str]]] = {
    "307": ("?redirect=307", {}),
    "308": ("?redirect=308", {}),
    "digest": ("", {"x-answer": "digest"}),
}


def httpx_resent(library: str, url: str, content: str, how: str,
                 guard: dict[str, Any] | None) -> str:
    """POST /twins with httpx (``library``: sync or async), with the guard (its options) or
    without (``None``), and have the upstream ask for the request again (``how``); following
    redirects, with Digest auth. The status, or the name of the exception raised."""
    query, headers = RESEND[how]
    options = {"url": f"{url}/twins{query}", "headers": headers, "follow_redirects": True,
               "auth": httpx.DigestAuth("user", "pass"), **HTTPX_CONTENT[content][0]}

    def sync_pieces() -> Iterator[bytes]:
        yield from GENERATED

    async def async_pieces() -> AsyncIterator[bytes]:
        for piece in GENERATED:
            yield piece

    async def send_async() -> int:
        transport = (httpx.AsyncHTTPTransport() if guard is None
                     else AsyncGuardTransport(base_url=url, **guard))
        async with httpx.AsyncClient(transport=transport) as client:
            if content == "generator":
                options["content"] = async_pieces()
            return (await client.post(**options)).status_code

    try:
        if library == "httpx_async":
            return str(asyncio.run(send_async()))
        transport = httpx.HTTPTransport() if guard is None else GuardTransport(base_url=url,
                                                                               **guard)
        with httpx.Client(transport=transport) as client:
            if content == "generator":
                options["content"] = sync_pieces()
            return str(client.post(**options).status_code)
    except (httpx.HTTPError, httpx.StreamError) as failure:
        return type(failure).__name__


@pytest.mark.parametrize("how", RESEND)
@pytest.mark.parametrize("content", HTTPX_CONTENT)
@pytest.mark.parametrize("library", ["httpx", "httpx_async"])
@pytest.mark.parametrize("guard", [{}, {"report_only": True}], ids=["enforcing", "report_only"])
def test_httpx_sends_a_request_again_as_it_does_without_ttguard(
        server: Running, upstream: Upstream, library: str, content: str, how: str,
        guard: dict[str, Any]) -> None:
    # Given content is sent again whole; a generator cannot be, and httpx says so.
    outcomes = [httpx_resent(library, server.url, content, how, options)
                for options in (None, guard)]
    bodies = [body for _, body in upstream.requests]
    sent = HTTPX_CONTENT[content][1]
    if content == "generator":
        assert (outcomes, bodies) == (["StreamConsumed"] * 2, [sent] * 2)
    else:
        assert (outcomes, bodies) == (["201"] * 2, [sent] * 4)
        assert [scope["path"] for scope, _ in upstream.requests[2:]] == ["/twins"] * 2


TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
LEDGER = f"/twins/{TWIN}/ledgers/personal"


@pytest.mark.parametrize("library", LIBRARIES)
def test_each_hop_of_a_redirect_is_judged(server: Running, upstream: Upstream,
                                          library: str) -> None:
    # A twin's description, accepted by create_twin, sent on to add_twin_ledger_entry.
    target = f"/twins?redirect=307&to={LEDGER}"
    with pytest.raises(TTError) as refusal:
        post(library, server.url, ACCEPTED, target=target)
    assert (refusal.value.subcode, refusal.value.description) == (
        400926, "body::entries: field required")
    assert [scope["path"] for scope, _ in upstream.requests] == ["/twins"]
    stream = io.StringIO()
    assert post(library, server.url, ACCEPTED, target=target, report_only=True,
                reporter=Reporter(stream))[0] == 201
    assert [scope["path"] for scope, _ in upstream.requests] == ["/twins", "/twins", LEDGER]
    assert records(stream) == [{
        **record("false_rejection", (400926, "body::entries: field required"),
                 (201, None, None, None)),
        "operation": "add_twin_ledger_entry", "path_template": "/twins/{twin}/ledgers/{ledger}"}]


async def async_pieces(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def aiohttp_sent(url: str, data: Callable[[], Any], *, target: str = "/twins",
                 guard: dict[str, Any] | None = None) -> str:
    """POST ``target`` with aiohttp, the body ``data()``, with the guard (its options) or without
    (``None``): the status, or the exception raised."""
    async def send() -> int:
        session = aiohttp.ClientSession() if guard is None else guarded_client_session(url,
                                                                                       **guard)
        async with session, session.post(url + target, data=data()) as response:
            await response.read()
            return response.status

    try:
        return str(asyncio.run(send()))
    except aiohttp.ClientError as failure:
        return f"{type(failure).__name__}: {failure}"


CONSUMED = ("ClientPayloadError: Cannot follow redirect with a consumed request body. Use bytes, "
            "a seekable file-like object, or set allow_redirects=False.")


@pytest.mark.parametrize(("pieces", "guard"), [
    (GENERATED, {}), (GENERATED, {"report_only": True}), (MIB, {"report_only": True})],
    ids=["accepted", "accepted_report_only", "over_quota_report_only"])
def test_aiohttp_refuses_to_redirect_a_spent_stream_as_it_does_without_ttguard(
        server: Running, upstream: Upstream, pieces: list[bytes], guard: dict[str, Any]) -> None:
    outcomes = [aiohttp_sent(server.url, lambda: async_pieces(pieces), target="/twins?redirect",
                             guard=options) for options in (None, guard)]
    assert outcomes == [CONSUMED] * 2
    assert [body for _, body in upstream.requests] == [b"".join(pieces)] * 2  # one hop each


def multipart(pieces: list[bytes]) -> aiohttp.MultipartWriter:
    """A multipart body (a fixed boundary) of a JSON part, then a part streamed from
    ``pieces``."""
    writer = aiohttp.MultipartWriter(boundary="b0undary")
    writer.append_json({"description": {"name": "Pump 7"}})
    writer.append(async_pieces(pieces))
    return writer


@pytest.mark.parametrize("guard", [{"report_only": True}, {}], ids=["report_only", "enforcing"])
@pytest.mark.parametrize("pieces", [GENERATED, MIB], ids=["small", "over_quota"])
def test_aiohttp_sends_a_multipart_body_unread_and_whole(
        server: Running, upstream: Upstream, pieces: list[bytes], guard: dict[str, Any]) -> None:
    # Its write would start over, boundary and all, where a check had stopped it.
    stream = io.StringIO()
    outcomes = [aiohttp_sent(server.url, lambda: multipart(pieces), guard=options)
                for options in (None, {**guard, "reporter": Reporter(stream)})]
    assert outcomes == ["201"] * 2
    unguarded, guarded = received(upstream)
    assert guarded == unguarded
    assert unguarded[0].endswith(b"".join(pieces) + b"\r\n--b0undary--\r\n")
    assert records(stream) == []
    with pytest.raises(TTError) as refusal:  # the path is still judged
        aiohttp_sent(server.url, lambda: multipart(pieces), target="/twins/pump-7/ledgers/personal",
                     guard={})
    assert (refusal.value.subcode, refusal.value.description) == (
        400589, "path::twin: value is not a valid uuid")


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("guard", [{}, {"report_only": True}], ids=["enforcing", "report_only"])
def test_a_body_under_a_content_encoding_is_sent_unjudged(
        server: Running, upstream: Upstream, library: str, guard: dict[str, Any]) -> None:
    # The server may or may not decode it: gzip's bytes are no UTF-8, what they hold is refused.
    gzipped = {"Content-Encoding": "gzip"}
    stream = io.StringIO()
    for body in (gzip.compress(REFUSED), gzip.compress(b"x" * 100_000)):
        seen = post(library, server.url, body, headers=gzipped, reporter=Reporter(stream),
                    **guard)
        assert seen == post(library, server.url, body, headers=gzipped, guarded=False)
        assert seen == (201, body)
    unguarded, guarded = received(upstream)[2:]
    assert guarded == unguarded
    assert records(stream) == []
    with pytest.raises(TTError) as refusal:  # the path is judged still
        post(library, server.url, ACCEPTED, target="/twins/pump-7/ledgers/personal",
             headers=gzipped)
    assert (refusal.value.subcode, refusal.value.description) == (
        400589, "path::twin: value is not a valid uuid")
    with pytest.raises(TTError) as refusal:  # identity is no encoding
        post(library, server.url, REFUSED, headers={"Content-Encoding": "identity"})
    assert (refusal.value.subcode, refusal.value.description) == OURS


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("guard", [{}, {"report_only": True}], ids=["enforcing", "report_only"])
def test_a_body_left_unjudged_that_the_server_refuses_is_no_miss_of_ttguards(
        server: Running, library: str, guard: dict[str, Any]) -> None:
    # ttguard never read it: the server's word on it is nothing to hold against ttguard.
    stream, registry = io.StringIO(), CollectorRegistry()
    seen = post(library, server.url, gzip.compress(ACCEPTED), answer="missed",
                headers={"Content-Encoding": "gzip"}, reporter=Reporter(stream),
                metrics=GuardMetrics(registry), **guard)
    assert seen[0] == 400
    assert records(stream) == []
    assert registry.get_sample_value("ttguard_disagreements_total",
                                     {"operation": "create_twin", "kind": "missed"}) is None


@pytest.mark.parametrize("guard", [{}, {"report_only": True}], ids=["enforcing", "report_only"])
def test_aiohttp_compress_sends_the_body_unjudged(server: Running, upstream: Upstream,
                                                  guard: dict[str, Any]) -> None:
    stream = io.StringIO()

    async def send(guarded: bool) -> int:
        session = (guarded_client_session(server.url, reporter=Reporter(stream), **guard)
                   if guarded else aiohttp.ClientSession())
        async with session, session.post(f"{server.url}/twins", data=REFUSED,
                                         compress="deflate") as response:
            return response.status

    statuses = [asyncio.run(send(guarded)) for guarded in (False, True)]
    assert statuses == [201, 201]
    unguarded, guarded = received(upstream)
    assert guarded == unguarded
    assert (b"content-encoding", b"deflate") in unguarded[1]
    assert zlib.decompress(unguarded[0]) == REFUSED
    assert records(stream) == []
