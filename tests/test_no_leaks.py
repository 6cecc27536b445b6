"""No leaks in errors: a description names paths and patterns, never a value the client sent.

Request values (body values, path and query values, header values) may be secrets; the error
body goes back to the client and into logs, so it must not echo them. Keys are part of paths
and may appear; values may not. And the trace is random per error.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.servers import Recorder, uvicorn_server
from tests.test_properties import FIELDS, OPERATIONS
from ttguard import TTError, operations, validate
from ttguard.asgi import GuardMiddleware
from ttguard.core.catalogue import path_parameters

SECRET = "s3cr3tV4lue"
SECRET_NUMBER = 73519246803

secret_scalars = st.one_of(
    st.text(max_size=8).map(lambda text: f"{text}{SECRET}{text}"),
    st.just(SECRET_NUMBER), st.just(-SECRET_NUMBER), st.just(float(SECRET_NUMBER) + 0.5),
    st.just(str(SECRET_NUMBER)), st.just(SECRET.upper()),
)
secret_values = st.recursive(
    secret_scalars,
    lambda children: (st.lists(children, max_size=3)
                      | st.dictionaries(st.sampled_from(FIELDS), children, max_size=3)),
    max_leaves=8,
)
secret_requests = st.dictionaries(st.sampled_from(FIELDS), secret_values, max_size=4)


def assert_no_secret(description: str) -> None:
    for secret in (SECRET, SECRET.upper(), str(SECRET_NUMBER)):
        assert secret not in description, description


@settings(max_examples=300, deadline=None)
@given(body=secret_requests, operation=st.sampled_from([name for name in OPERATIONS if name]),
       path_value=secret_scalars.map(str), query_value=secret_scalars.map(str))
def test_schema_errors_never_echo_a_value(body: dict[str, Any], operation: str,
                                          path_value: str, query_value: str) -> None:
    path_params = dict.fromkeys(path_parameters(operations()[operation].path), path_value)
    query = urlencode({"count": query_value, "limit": query_value, "details": query_value})
    try:
        validate(json.dumps(body).encode(), operation, path_params=path_params, query=query)
    except TTError as error:
        assert_no_secret(error.description)
        assert_no_secret(json.dumps(error.to_dict()))


def test_the_middleware_echoes_no_header_or_body_value() -> None:
    secret_header = f"Bearer {SECRET}"
    ledger = "/twins/4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11/ledgers/personal"
    requests = [("/twins", f'{{"description": {{"Key": "{SECRET}"}}}}'),
                ("/twins", f'{{"description": "{SECRET}"'),
                (ledger, f'{{"entries": {{"k": {{"value": "{SECRET}", "history": [1]}}}}}}')]
    with uvicorn_server(GuardMiddleware(Recorder())) as running:
        answers = [httpx.post(f"{running.url}{path}", content=body,
                              headers={"Authorization": secret_header, "X-Api-Key": SECRET})
                   for path, body in requests]
        answers.append(httpx.get(f"{running.url}/twins/{SECRET}",
                                 headers={"Authorization": secret_header}))
    assert [answer.status_code for answer in answers] == [400] * 4
    for answer in answers:
        assert SECRET not in answer.text
        assert SECRET not in "".join(f"{name}{value}" for name, value in answer.headers.items())


def test_each_error_has_its_own_trace() -> None:
    traces = set()
    for _ in range(200):
        try:
            validate(b"{", "create_twin")
        except TTError as error:
            traces.add(error.trace)
    assert len(traces) == 200
