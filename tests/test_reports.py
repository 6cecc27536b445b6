"""Report-only, disagreements with the server, metrics and logs, in the middleware and gateway.

A real upstream on 127.0.0.1 answers the Trusted Twin error each test chooses (by the
``x-answer`` header), so that it disagrees with ttguard on purpose in every way there is.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from benchmarks.load import subprocess_server
from tests.conftest import cyclic_garbage
from tests.servers import (
    RecordingUpstream,
    Running,
    read_body,
    send_request,
    uvicorn_server,
    wait_until,
)
from ttguard import StreamValidator, Subcode, TTError, metrics
from ttguard.asgi import GuardMiddleware
from ttguard.core.compare import Agreement, Answer, compare, read_answer
from ttguard.gateway import create_app
from ttguard.metrics import GuardMetrics
from ttguard.report import JsonFormatter, Reporter

TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
BAD_KEY = "body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$"
INVALID = b'{"description": {"Secret": "s3cr3t"}}'
VALID = b'{"description": {"name": "s3cr3t"}}'
SECRET_HEADER = "Bearer top-s3cr3t"


# -- compare, on its own ------------------------------------------------------------------------

REFUSED = TTError(Subcode.REQUEST_FORMAT, BAD_KEY)


def error_body(subcode: int | str, description: str = BAD_KEY) -> bytes:
    return json.dumps({"subcode": subcode, "trace": "t", "description": description}).encode()


@pytest.mark.parametrize(("verdict", "status", "body", "agreement"), [
    (None, 201, b"", Agreement.AGREE),
    (REFUSED, 201, b"", Agreement.FALSE_REJECTION),
    (None, 400, error_body(400589), Agreement.MISSED),
    (None, 400, error_body(400141), Agreement.MISSED),
    (REFUSED, 400, error_body(400589), Agreement.AGREE),
    (REFUSED, 400, error_body("400589"), Agreement.AGREE),
    (REFUSED, 400, error_body(400589, "other words"), Agreement.OTHER_WORDING),
    (REFUSED, 400, error_body(400926), Agreement.OTHER_SUBCODE),
    (REFUSED, 400, b"<html>bad gateway</html>", Agreement.UNREADABLE),
    (REFUSED, 400, b'{"subcode": true}', Agreement.UNREADABLE),
    (REFUSED, 400, b"[400589]", Agreement.UNREADABLE),
    (REFUSED, 400, b"[" * 100_000, Agreement.UNREADABLE),
    (REFUSED, 400, None, Agreement.UNREADABLE),
    (None, 400, error_body(400358), Agreement.NOT_COMPARABLE),
    (REFUSED, 401, error_body(401000), Agreement.NOT_COMPARABLE),
    (REFUSED, 404, error_body(404653), Agreement.NOT_COMPARABLE),
    (REFUSED, 409, b"", Agreement.NOT_COMPARABLE),
    (None, 500, b"boom", Agreement.NOT_COMPARABLE),
    (None, 302, b"", Agreement.NOT_COMPARABLE),
])
def test_each_kind_of_agreement(verdict: TTError | None, status: int, body: bytes | None,
                                agreement: Agreement) -> None:
    assert compare(verdict, read_answer(status, body)) == agreement


def test_an_answer_keeps_the_servers_parts() -> None:
    assert read_answer(400, error_body(400589, "d")) == Answer(400, 400589, "d", "t")
    assert read_answer(201, b"anything") == Answer(201)


# -- the gateway, against an upstream that disagrees on purpose ----------------------------------


async def disagreeing_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers what the request's ``x-answer`` asks: ``201``, ``<subcode>:<description>``,
    ``garbage`` (a 400 that is no error body) or ``cut`` (a 400 that stops mid-body)."""
    if scope["type"] != "http" or await read_body(receive) is None:
        return
    answer = dict(scope["headers"]).get(b"x-answer", b"201").decode()
    status, body = 201, b"{}"
    if answer == "garbage":
        status, body = 400, b"<html>Bad Request</html>"
    elif answer == "cut":
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-length", b"200")]})
        await send({"type": "http.response.body", "body": b'{"subcode": 4', "more_body": True})
        raise RuntimeError("the upstream breaks off its answer")
    elif answer != "201":
        subcode, _, description = answer.partition(":")
        status, body = int(subcode) // 1000, json.dumps(
            {"subcode": int(subcode), "trace": "upstream-trace", "description": description,
             "help": "https://trustedtwin.com/docs"}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def upstream() -> Iterator[Running]:
    with uvicorn_server(disagreeing_upstream) as running:
        yield running


class Reported:
    """A gateway in report-only mode, its records and its metrics."""

    def __init__(self, upstream: Running, *, include_values: bool = False) -> None:
        self.records = io.StringIO()
        self.registry = CollectorRegistry()
        self.app = create_app(upstream.url, report_only=True,
                              reporter=Reporter(self.records, include_values=include_values),
                              metrics=GuardMetrics(self.registry))

    def entries(self) -> list[dict[str, Any]]:
        entries = [json.loads(line) for line in self.records.getvalue().splitlines()]
        for entry in entries:
            assert entry.pop("time")
        return entries

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def server(status: int, subcode: int | None = None, description: str | None = None,
           trace: str | None = "upstream-trace") -> dict[str, Any]:
    return {"status": status, "subcode": subcode, "description": description,
            "trace": trace if subcode is not None else None}


TTGUARD_REFUSED = {"subcode": 400589, "description": BAD_KEY}
# body, x-answer, the record written (None: none)
DISAGREEMENTS: list[tuple[bytes, str, dict[str, Any] | None]] = [
    (INVALID, "201", {"kind": "false_rejection", "ttguard": TTGUARD_REFUSED,
                      "server": server(201)}),
    (VALID, f"400589:{BAD_KEY}", {"kind": "missed", "ttguard": None,
                                  "server": server(400, 400589, BAD_KEY)}),
    (INVALID, "400589:another wording", {"kind": "other_wording", "ttguard": TTGUARD_REFUSED,
                                         "server": server(400, 400589, "another wording")}),
    (INVALID, "400926:body::x: field required", {
        "kind": "other_subcode", "ttguard": TTGUARD_REFUSED,
        "server": server(400, 400926, "body::x: field required")}),
    (INVALID, "garbage", {"kind": "unreadable", "ttguard": TTGUARD_REFUSED,
                          "server": server(400)}),
    (INVALID, "cut", {"kind": "unreadable", "ttguard": TTGUARD_REFUSED, "server": server(400)}),
    (INVALID, f"400589:{BAD_KEY}", None),
    (VALID, "201", None),
    (INVALID, "404653:The requested resource does not exist.", None),
]


@pytest.mark.parametrize(("body", "answer", "record"), DISAGREEMENTS,
                         ids=[answer[:20] for _, answer, _ in DISAGREEMENTS])
def test_each_disagreement_is_recorded_and_counted(upstream: Running, body: bytes, answer: str,
                                                   record: dict[str, Any] | None) -> None:
    reported = Reported(upstream)
    with uvicorn_server(reported.app) as gateway:
        try:
            httpx.post(f"{gateway.url}/twins", content=body,
                       headers={"x-answer": answer, "Authorization": SECRET_HEADER})
        except httpx.HTTPError:
            assert answer == "cut"  # the connection to the client is dropped mid-body
        # The verdict is accounted for when the upstream's answer has ended.
        assert wait_until(lambda: reported.sample("ttguard_requests_total",
                                                  operation="create_twin",
                                                  verdict="accepted" if body == VALID
                                                  else "400589") == 1)
    expected = [] if record is None else [{
        **record, "operation": "create_twin", "method": "POST", "path_template": "/twins"}]
    assert reported.entries() == expected
    assert "s3cr3t" not in reported.records.getvalue()
    kind = None if record is None else record["kind"]
    for agreement in Agreement:
        assert reported.sample("ttguard_disagreements_total", operation="create_twin",
                               kind=agreement.value) == (agreement.value == kind)


def test_values_are_recorded_only_when_asked_for(upstream: Running) -> None:
    reported = Reported(upstream, include_values=True)
    with uvicorn_server(reported.app) as gateway:
        httpx.post(f"{gateway.url}/twins?x=1", content=VALID,
                   headers={"x-answer": f"400589:{BAD_KEY}", "Authorization": SECRET_HEADER})
        assert wait_until(lambda: bool(reported.records.getvalue()))
    [entry] = reported.entries()
    assert (entry["target"], entry["body"]) == ("/twins?x=1", VALID.decode())
    assert SECRET_HEADER not in reported.records.getvalue()


def test_a_records_file_gets_one_line_per_disagreement(upstream: Running,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "disagreements.jsonl"
    reporter = Reporter(path)
    app = create_app(upstream.url, report_only=True, reporter=reporter)
    with uvicorn_server(app) as gateway:
        for _ in range(3):
            httpx.post(f"{gateway.url}/twins", content=INVALID, headers={"x-answer": "201"})
        assert wait_until(lambda: len(path.read_text().splitlines()) == 3)
    reporter.close()
    assert {json.loads(line)["kind"] for line in path.read_text().splitlines()} == {
        "false_rejection"}


@pytest.mark.parametrize(("records", "kind"), [
    (None, "NoneType"), (5, "int"), (b"disagreements.jsonl", "bytes"),
    (io.BytesIO(), "BytesIO"),
])
def test_a_reporter_refuses_records_it_could_not_write_to(records: object, kind: str) -> None:
    with pytest.raises(TypeError) as refused:
        Reporter(records)  # type: ignore[arg-type]
    assert str(refused.value) == ("records is where to write: a path (str or pathlib.Path), a "
                                  f"text stream or a logging.Logger, not {kind}")


def test_a_reporter_reads_a_temporary_files_mode() -> None:
    # tempfile's wrapper is no io base class: its mode tells a binary file ("rb+") from text.
    with tempfile.NamedTemporaryFile() as binary, tempfile.TemporaryFile("w+") as text:
        with pytest.raises(TypeError, match="not _TemporaryFileWrapper"):
            Reporter(binary)  # type: ignore[arg-type]
        Reporter(text).close()  # type: ignore[arg-type]


def test_a_reporter_takes_a_path_a_text_stream_or_a_logger(tmp_path: Path) -> None:
    for records in (str(tmp_path / "a.jsonl"), tmp_path / "b.jsonl", io.StringIO(),
                    logging.getLogger("ttguard.test")):
        Reporter(records).close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]


# -- report-only forwards as if ttguard were absent --------------------------------------------


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[Running, RecordingUpstream]]:
    with RecordingUpstream.running() as recording, \
            uvicorn_server(create_app(recording.url, report_only=True)) as gateway:
        yield gateway, recording


@pytest.mark.parametrize("body", [INVALID, b"{", b'{"description": "\xff"}', b"x" * 70_000,
                                  VALID], ids=["400589", "400415", "400314", "400141", "valid"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_report_only_forwards_every_body_byte_for_byte(
        recorded: tuple[Running, RecordingUpstream], body: bytes, framing: str) -> None:
    gateway, recording = recorded
    recording.received.clear()
    pieces = [body[index:index + 1000] for index in range(0, len(body), 1000)]
    response = send_request(gateway, "POST", f"/twins/{TWIN}/identities?q=1", pieces,
                            content_length=len(body) if framing == "content-length" else None)
    assert response.status == 200
    [received] = recording.received
    assert (received.target, received.body) == (f"/twins/{TWIN}/identities?q=1", body)
    headers = dict(received.headers)
    if framing == "chunked":
        assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers
    else:
        assert headers.get("content-length") == str(len(body))
        assert "transfer-encoding" not in headers


def test_report_only_forwards_64_mib_whole(recorded: tuple[Running, RecordingUpstream]) -> None:
    gateway, recording = recorded
    recording.received.clear()
    piece = b"x" * 65536
    response = send_request(gateway, "POST", "/twins", [piece] * 1024)
    assert response.status == 200
    [received] = recording.received
    assert len(received.body) == 64 * 2**20 and received.body == piece * 1024


def test_report_only_middleware_hands_messages_on_as_they_come() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.extend([await receive(), await receive()])

    messages = [{"type": "http.request", "body": b'{"description": ', "more_body": True},
                {"type": "http.request", "body": b'{"A": 1}}', "more_body": False}]
    incoming = list(messages)

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("report-only answers nothing itself")

    scope = {"type": "http", "method": "POST", "path": "/twins", "raw_path": b"/twins",
             "query_string": b"", "headers": []}
    asyncio.run(GuardMiddleware(app, report_only=True)(scope, receive, send))
    assert seen == messages


@pytest.mark.parametrize(("version", "headers", "reported"), [
    ("1.1", [], True),  # no body: the verdict needs none
    ("1.1", [(b"content-length", b"0")], True),
    ("1.1", [(b"content-length", b"2")], False),  # a body nobody read: its verdict is unknown
    ("1.1", [(b"transfer-encoding", b"chunked")], False),
    ("2", [], False),  # an HTTP/2 body needs no length
    ("2", [(b"content-length", b"0")], True),
])
def test_report_only_judges_a_request_whose_body_the_application_never_reads(
        caplog: pytest.LogCaptureFixture, version: str, headers: list[tuple[bytes, bytes]],
        reported: bool) -> None:
    # A GET handler reads no body; enforcing, the guard refuses this one for its path.
    caplog.set_level(logging.INFO, logger="ttguard")
    answered: list[int] = []

    async def get_handler(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> dict[str, Any]:
        raise AssertionError("nobody reads the body")

    async def send(message: dict[str, Any]) -> None:
        answered.extend([message["status"]] if "status" in message else [])

    scope = {"type": "http", "http_version": version, "method": "GET", "path": "/twins/pump-7",
             "raw_path": b"/twins/pump-7", "query_string": b"", "headers": headers}
    asyncio.run(GuardMiddleware(get_handler, report_only=True)(scope, receive, send))
    # This thread's: a server another test left may still log the last request it served.
    logged = [record.getMessage() for record in caplog.records
              if record.name == "ttguard" and record.thread == threading.get_ident()]
    assert answered == [200]
    assert logged == (["GET /twins/{twin} refused (report only: forwarded): 400589 "
                       "path::twin: value is not a valid uuid"]
                      if reported else [])


def test_report_only_reports_the_get_a_starlette_handler_answers(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ttguard")

    async def get_twin(request: Request) -> JSONResponse:
        return JSONResponse({"twin": request.path_params["twin"]})

    app = Starlette(routes=[Route("/twins/{twin}", get_twin)],
                    middleware=[Middleware(GuardMiddleware, report_only=True)])
    with uvicorn_server(app) as running:
        response = httpx.get(f"{running.url}/twins/pump-7")
    logged = [record.getMessage() for record in caplog.records
              if record.name == "ttguard" and record.thread == running.thread]
    assert (response.status_code, response.json()) == (200, {"twin": "pump-7"})
    assert logged == ["GET /twins/{twin} refused (report only: forwarded): 400589 "
                      "path::twin: value is not a valid uuid"]


# -- logs ---------------------------------------------------------------------------------------


def test_each_refused_request_is_logged_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ttguard")
    with uvicorn_server(GuardMiddleware(disagreeing_upstream)) as running:
        httpx.post(f"{running.url}/twins", content=INVALID,
                   headers={"Authorization": SECRET_HEADER})
    # The module's report-only gateway may still be logging the last request it forwarded.
    [record] = [record for record in caplog.records
                if record.name == "ttguard" and record.thread == running.thread]
    entry = json.loads(JsonFormatter().format(record))
    assert entry.pop("time")
    assert entry == {"level": "INFO", "logger": "ttguard",
                     "message": f"POST /twins refused: 400589 {BAD_KEY}",
                     "operation": "create_twin", "method": "POST", "path_template": "/twins",
                     "subcode": 400589, "description": BAD_KEY, "report_only": False}
    assert "s3cr3t" not in caplog.text


# -- metrics ------------------------------------------------------------------------------------


def test_metric_labels_stay_bounded_over_10000_distinct_paths() -> None:
    registry = CollectorRegistry()
    app = GuardMiddleware(disagreeing_upstream, metrics=GuardMetrics(registry))

    async def call(method: str, path: str, body: bytes) -> None:
        incoming = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            pass

        await app({"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                   "query_string": b"", "headers": []}, receive, send)

    async def everyone() -> None:
        for index in range(10_000):
            twin = uuid.UUID(int=index)
            await call(*[("GET", f"/twins/{twin}", b""), ("GET", f"/twins/pump-{index}", b""),
                         ("POST", f"/twins/{twin}/ledgers/personal", b'{"entries": {}}'),
                         ("POST", f"/nothing/{index}", b"{}")][index % 4])

    asyncio.run(everyone())
    labels = {tuple(sorted(sample.labels.items())) for family in registry.collect()
              for sample in family.samples}
    assert len(labels) < 40, labels
    assert registry.get_sample_value("ttguard_requests_total",
                                     {"operation": "get_twin", "verdict": "accepted"}) == 2500
    assert registry.get_sample_value("ttguard_requests_total",
                                     {"operation": "get_twin", "verdict": "400589"}) == 2500


def exposed(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample a registry exposes but the ``_created`` times, by name and labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in registry.collect() for sample in family.samples
            if not sample.name.endswith("_created")}


def test_a_process_on_its_own_counts_as_prometheus_clients_objects_would(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # On its own, a process keeps the checks' metrics in plain numbers; in multiprocess mode,
    # in prometheus-client's objects. Values on a bucket's bound, between bounds, past the last.
    checks = [("create_twin", None, 1e-05, 0), ("create_twin", None, 2e-05, 256),
              ("create_twin", REFUSED, 0.5, 70000), ("update_twin", REFUSED, 2.0, 300000),
              ("update_twin", TTError(Subcode.FIELD_REQUIRED, "body::x: field required"),
               3e-4, 1024)]
    seen = []
    for summed in (False, True):
        monkeypatch.setattr(metrics, "_summed_across_processes", lambda summed=summed: summed)
        registry = CollectorRegistry()
        guard_metrics = GuardMetrics(registry)
        for operation, verdict, seconds, body_bytes in checks:
            guard_metrics.checked(operation, verdict, seconds=seconds, body_bytes=body_bytes)
        seen.append(exposed(registry))
    tallied, objects = seen
    assert tallied == objects
    assert tallied[("ttguard_requests_total", (("operation", "update_twin"),
                                                ("verdict", "400589")))] == 1
    assert tallied[("ttguard_check_duration_seconds_bucket", (("le", "1e-05"),))] == 1
    assert tallied[("ttguard_body_size_bytes_bucket", (("le", "+Inf"),))] == 5
    assert tallied[("ttguard_body_size_bytes_sum", ())] == 371280


def test_a_process_on_its_own_exposes_every_bucket_before_any_request() -> None:
    registry = CollectorRegistry()
    GuardMetrics(registry)
    buckets = [key for key in exposed(registry) if key[0] == "ttguard_body_size_bytes_bucket"]
    assert len(buckets) == 8
    assert exposed(registry)[("ttguard_check_duration_seconds_count", ())] == 0


ALREADY_REGISTERED = ("the ttguard metrics are already registered in this registry: share one "
                      "GuardMetrics (GuardMetrics.default() for prometheus-client's default "
                      "registry) or give each a CollectorRegistry of its own")


def test_the_metrics_registered_twice_in_one_registry_say_what_to_do() -> None:
    registry = CollectorRegistry()
    GuardMetrics(registry)
    with pytest.raises(ValueError) as refused:
        GuardMetrics(registry)
    assert str(refused.value) == ALREADY_REGISTERED
    GuardMetrics.default()  # made once, on the default registry, by this test or another
    with pytest.raises(ValueError) as refused:
        GuardMetrics()
    assert str(refused.value) == ALREADY_REGISTERED


def test_the_metrics_without_prometheus_client_name_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "ttguard.metrics")
    with pytest.raises(ImportError) as refused:
        importlib.import_module("ttguard.metrics")
    assert str(refused.value).startswith(
        "ttguard.metrics needs prometheus-client: pip install 'ttguard[metrics]' (")


def test_a_refusal_leaves_no_garbage_for_the_cyclic_collector() -> None:
    # A verdict kept with its traceback would hold the frames that hold its keeper: a cycle
    # that only the collector frees (1-2 us a refusal, and its pauses). In process, where the
    # collector can be asked; the middleware never waits here, so no event loop is needed.
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guards = [GuardMiddleware(app), GuardMiddleware(app, report_only=True),
              GuardMiddleware(app, metrics=GuardMetrics(CollectorRegistry()))]
    oversized = [(b"content-length", b"70000")]  # refused before the body is read

    def refuse(guard: GuardMiddleware, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        incoming = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            pass

        scope = {"type": "http", "method": "POST", "path": "/twins", "raw_path": b"/twins",
                 "query_string": b"", "headers": headers}
        with pytest.raises(StopIteration):
            guard(scope, receive, send).send(None)

    def refuse_each() -> None:
        for guard in guards:
            refuse(guard, INVALID, [])
            refuse(guard, b"{}", oversized)

    refuse_each()  # first uses: imports, caches
    # Every such cycle holds a verdict. Frames are not counted: this module's servers run in
    # threads of this process, and theirs are none of this test's business.
    assert cyclic_garbage(refuse_each, TTError, StreamValidator) == []


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_two_workers_sum_their_metrics_on_one_port() -> None:
    metrics_port = free_port()
    with subprocess_server(lambda port: [
            sys.executable, "-m", "ttguard", "serve", "--upstream", "local", "--port", str(port),
            "--workers", "2", "--metrics-port", str(metrics_port)]) as (port, _):
        # Fresh connections, so that both workers take some.
        statuses = [httpx.post(f"http://127.0.0.1:{port}/twins",
                               content=VALID if index % 2 else INVALID).status_code
                    for index in range(40)]
        assert statuses == [400, 201] * 20

        def counted(verdict: str) -> float:
            key = ("ttguard_requests_total",
                   (("operation", "create_twin"), ("verdict", verdict)))
            try:
                return scrape(metrics_port).get(key, 0.0)
            except httpx.HTTPError:
                return 0.0

        assert wait_until(lambda: counted("accepted") == 20 and counted("400589") == 20)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_served_json_log_has_one_line_per_refusal(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "stderr"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ttguard", "serve", "--upstream", "local", "--port", str(port),
             "--log-format", "json"], stderr=stderr, cwd=Path(__file__).parents[1])
    try:
        def answered() -> bool:
            try:
                return httpx.post(f"http://127.0.0.1:{port}/twins",
                                  content=INVALID).status_code == 400
            except httpx.HTTPError:
                return False

        assert wait_until(answered)
        assert wait_until(lambda: '"subcode": 400589' in log.read_text())
    finally:
        process.terminate()
        process.wait(10)
    [entry] = [json.loads(line) for line in log.read_text().splitlines()
               if '"subcode": 400589' in line]
    assert (entry["logger"], entry["operation"], entry["description"]) == (
        "ttguard", "create_twin", BAD_KEY)
