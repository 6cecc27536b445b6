"""Schemathesis, a third-party API fuzzer, against ``ttguard serve --upstream local --openapi``.

A bounded run (a few requests per operation and mode); ``make fuzz`` runs a long one. What is
judged, and how a negative case that is accepted gets explained: tests/schemathesis_run.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.schemathesis_run import run
from tests.servers import Running, run_asgi, uvicorn_server
from ttguard.gateway import create_app
from ttguard.openapi import openapi_document

#: Requests per operation and mode: 85 operations, two modes, well under a minute.
EXAMPLES = 4


@pytest.fixture(scope="module")
def gateway() -> Iterator[Running]:
    with uvicorn_server(create_app("local", openapi=True)) as running:
        yield running


def test_the_gateway_serves_the_document(gateway: Running) -> None:
    response = httpx.get(f"{gateway.url}/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document("/")


def test_the_document_is_served_only_when_asked_for() -> None:
    with uvicorn_server(create_app("local")) as running:
        response = httpx.get(f"{running.url}/openapi.json")
    assert "x-echo-target" in response.headers  # forwarded to the upstream like any path


def test_under_a_prefix_the_documents_server_is_the_prefix() -> None:
    with uvicorn_server(create_app("local", prefix="/api/", openapi=True)) as running:
        document = httpx.get(f"{running.url}/openapi.json").json()
        forwarded = httpx.get(f"{running.url}/api/whoami")
    assert document["servers"] == [{"url": "/api"}]
    assert forwarded.headers["x-echo-target"] == "/whoami"


def test_under_a_root_path_the_document_and_its_server_are_below_it() -> None:
    # uvicorn --root-path /tt, behind a proxy that strips /tt: uvicorn puts /tt back in front of
    # the path, and the client's links must hold it.
    with uvicorn_server(create_app("local", prefix="/api", openapi=True),
                        root_path="/tt") as running:
        document = httpx.get(f"{running.url}/openapi.json").json()
        forwarded = httpx.get(f"{running.url}/api/whoami")
    assert document["servers"] == [{"url": "/tt/api"}]
    assert forwarded.headers["x-echo-target"] == "/whoami"


def test_under_a_mount_clients_percent_encode_the_server_is_a_url() -> None:
    # An ASGI root_path is decoded: /acme corp must go into the document as /acme%20corp.
    scope = {"type": "http", "method": "GET", "path": "/acme corp/openapi.json",
             "raw_path": b"/acme%20corp/openapi.json", "root_path": "/acme corp", "headers": []}
    sent = run_asgi(create_app("local", prefix="/api", openapi=True), scope, [])
    assert json.loads(sent[1]["body"])["servers"] == [{"url": "/acme%20corp/api"}]


def test_documents_for_many_mount_points_keep_no_more_memory_than_a_few() -> None:
    # A root_path taken from a request header (a proxy-headers middleware, say) must not make
    # the gateway keep a document for each value a client sends.
    cached = openapi_document.cache_info().currsize
    app = create_app("local", openapi=True)
    for index in range(50):
        scope = {"type": "http", "method": "GET", "path": f"/m{index}/openapi.json",
                 "root_path": f"/m{index}", "headers": []}
        run_asgi(app, scope, [])
    assert openapi_document.cache_info().currsize <= cached + 1


def test_schemathesis_finds_nothing(gateway: Running) -> None:
    report = run(gateway.url, examples=EXAMPLES)
    assert report.findings == [], report.summary()
    positive = sum(count for key, count in report.sent.items() if key.startswith("positive 2"))
    assert positive >= 85 * EXAMPLES // 2
    assert report.sent["negative 400"] >= 100
