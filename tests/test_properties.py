"""Laws of the streaming validator, checked by hypothesis.

* Any split of a body into chunks gives the same verdict as the whole body in one chunk.
* :func:`~ttguard.core.judge_whole` gives that verdict too, without a validator.
* The streaming verdict equals that of a plain buffered reference pipeline written here:
  ``len`` check, ``bytes.decode``, ``json.loads``, then the operation's schema by the exact
  (jsonschema) reference alone, so the fast engine is checked against it too.

Requests cover every operation with a schema, with path and query parameters. ``make fuzz``
runs the same law for longer (``fuzz/run.py``).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.conftest import split
from ttguard import StreamValidator, TTError, operations
from ttguard.core import judge_whole
from ttguard.core.catalogue import path_parameters, request_schema
from ttguard.core.reference import first_error
from ttguard.core.routes import parse_query

OPERATIONS: list[str | None] = [None, *(name for name in operations() if request_schema(name))]
Verdict = tuple[object, str]
Request = dict[str, Any]


def reference_verdict(body: bytes, operation: str | None, max_body: int,
                      parameters: Request) -> Verdict:
    """The buffered pipeline a user would write, step by step in the server's order."""
    if len(body) > max_body:
        return 400141, f"Request body is too large to process (limit: {max_body} bytes)."
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400314, "Request body contains invalid characters."
    text = text.removeprefix("\ufeff")
    value = None
    if text.strip(" \t\r\n"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return 400415, "Request body is not a valid JSON."
    if operation is not None:
        request = {"path": parameters["path"], "query": parse_query(parameters["query"], operation),
                   "body": {} if value is None else value}
        error = first_error(operation, request)
        if error is not None:
            return error.subcode, error.description
    return "accepted", json.dumps(value)


def streamed_verdict(chunks: list[bytes], operation: str | None, max_body: int,
                     content_length: int | None, parameters: Request) -> Verdict:
    try:
        validator = StreamValidator(operation, max_body=max_body, content_length=content_length,
                                    path_params=parameters["path"], query=parameters["query"])
        for chunk in chunks:
            validator.feed(chunk)
        return "accepted", json.dumps(validator.finish())
    except TTError as error:
        return error.subcode, error.description


UUID = "e834214a-e13d-412b-ffd6-911ab58c8733"
PLAUSIBLE = ["1D", "INF", "0D", "x", "red", "ab", "cancel", "access_optimized", "RFID#1", "a/b.pdf",
             "personal", UUID, "K", "true", "12", "-1", "1001", "1e3"]
json_keys = st.one_of(st.from_regex(r"[a-z_][0-9a-z_]{0,8}", fullmatch=True), st.text(max_size=6),
                      st.sampled_from(PLAUSIBLE))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
    | st.sampled_from(PLAUSIBLE),
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(json_keys, children, max_size=4)),
    max_leaves=12,
)


def field_names(schema: Any) -> set[str]:
    """Every property name a schema declares, at any depth."""
    if isinstance(schema, list):
        return set().union(*(field_names(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    declared = schema.get("properties")
    found = set(declared) if isinstance(declared, dict) else set()
    return found.union(*(field_names(value) for value in schema.values()))


FIELDS = sorted(set().union(*(field_names(request_schema(name)) for name in OPERATIONS if name))
                - {"path", "query", "body"})
request_like = st.recursive(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    lambda children: st.dictionaries(st.sampled_from(FIELDS) | json_keys, children, max_size=3),
    max_leaves=8,
)
parameters = st.fixed_dictionaries({
    "path": st.dictionaries(
        st.sampled_from(["twin", "ledger", "identity", "doc_name", "color", "batch"]),
        st.sampled_from(PLAUSIBLE) | st.text(max_size=6), max_size=3),
    "query": st.lists(st.tuples(st.sampled_from(["count", "limit", "details", "offset", "ge",
                                                 "show_public", "entries"]),
                                st.sampled_from(PLAUSIBLE)), max_size=3).map(urlencode),
})


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Valid, broken, non-UTF-8 and over-quota bodies, in proportions that reach every check."""
    body = draw(st.one_of(
        request_like.map(lambda value: json.dumps(value, ensure_ascii=draw(st.booleans()))),
        json_values.map(json.dumps),
        st.text(max_size=40),
    )).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # damage it
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(max_size=3)) + body[at:]
    return body


#: How many requests the law was checked on in this process (the fuzz run reports it).
checked = 0
#: Requests per run: a short pass in the test suite, a long one in ``make fuzz``.
EXAMPLES = int(os.environ.get("TTGUARD_LAW_EXAMPLES", "400"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(body=bodies(), cuts=st.lists(st.integers(0, 10_000), max_size=8),
       operation=st.sampled_from(OPERATIONS), parameters=parameters,
       max_body=st.just(65536) | st.just(65536) | st.integers(0, 300),
       declare_length=st.booleans())
def test_any_chunking_agrees_with_the_whole_body_and_the_reference(
        body: bytes, cuts: list[int], operation: str | None, parameters: Request,
        max_body: int, declare_length: bool) -> None:
    global checked
    checked += 1
    if operation is not None:  # a name its path does not have is a ValueError, not a verdict
        named = path_parameters(operations()[operation].path)
        parameters = {**parameters, "path": {name: value for name, value
                                             in parameters["path"].items() if name in named}}
    content_length = len(body) if declare_length else None
    streamed = streamed_verdict(split(body, cuts), operation, max_body, content_length,
                                parameters)
    event(f"verdict {streamed[0]}")
    assert streamed == streamed_verdict([body], operation, max_body, None, parameters)
    assert streamed == reference_verdict(body, operation, max_body, parameters)
    assert streamed == whole_verdict(body, operation, max_body, parameters)


def whole_verdict(body: bytes, operation: str | None, max_body: int,
                  parameters: Request) -> Verdict:
    """judge_whole's answer: a body in one piece, without a validator."""
    judged = judge_whole(body, operation, max_body=max_body, path_params=parameters["path"],
                         query=parameters["query"])
    if isinstance(judged, TTError):
        assert judged.__traceback__ is None
        return judged.subcode, judged.description
    return "accepted", json.dumps(judged)
