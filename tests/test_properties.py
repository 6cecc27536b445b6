"""Laws of the streaming validator, checked by hypothesis.

* Any split of a body into chunks gives the same verdict as the whole body in one chunk.
* The streaming verdict equals that of a plain buffered reference pipeline written here:
  ``len`` check, ``bytes.decode``, ``json.loads``, then the operation's schema.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ttguard import StreamValidator, TTError
from ttguard.core.schema import check_request

OPERATIONS = [None, "create_twin", "add_twin_ledger_entry"]
Verdict = tuple[object, str]


def reference_verdict(body: bytes, operation: str | None, max_body: int) -> Verdict:
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
        try:
            body_value = {} if value is None else value
            check_request(operation, {"path": {}, "query": {}, "body": body_value})
        except TTError as error:
            return error.subcode, error.description
    return "accepted", json.dumps(value)


def streamed_verdict(chunks: list[bytes], operation: str | None, max_body: int,
                     content_length: int | None) -> Verdict:
    try:
        validator = StreamValidator(operation, max_body=max_body, content_length=content_length)
        for chunk in chunks:
            validator.feed(chunk)
        return "accepted", json.dumps(validator.finish())
    except TTError as error:
        return error.subcode, error.description


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    edges = [0, *points, len(body)]
    return [body[start:end] for start, end in itertools.pairwise(edges)]


json_keys = st.one_of(st.from_regex(r"[a-z_][0-9a-z_]{0,8}", fullmatch=True), st.text(max_size=6))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(json_keys, children, max_size=4)),
    max_leaves=12,
)
request_like = st.fixed_dictionaries({}, optional={
    "description": st.dictionaries(json_keys, json_values, max_size=4) | json_values,
    "entries": st.dictionaries(json_keys, st.fixed_dictionaries({}, optional={
        "value": json_values,
        "visibility": st.none() | st.text(max_size=8),
        "history": st.sampled_from(["1D", "INF", "0D", "12W", "x"]) | json_values,
    }) | json_values, max_size=4),
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


@settings(max_examples=400, deadline=None)
@given(body=bodies(), cuts=st.lists(st.integers(0, 10_000), max_size=8),
       operation=st.sampled_from(OPERATIONS),
       max_body=st.just(65536) | st.just(65536) | st.integers(0, 300),
       declare_length=st.booleans())
def test_any_chunking_agrees_with_the_whole_body_and_the_reference(
        body: bytes, cuts: list[int], operation: str | None, max_body: int,
        declare_length: bool) -> None:
    content_length = len(body) if declare_length else None
    streamed = streamed_verdict(split(body, cuts), operation, max_body, content_length)
    event(f"verdict {streamed[0]}")
    assert streamed == streamed_verdict([body], operation, max_body, None)
    assert streamed == reference_verdict(body, operation, max_body)
