"""The walk of a refused request finds the reference's first error, word for word, whether Rust
proves parts of it or not (:mod:`ttguard.core.fast_refusal`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Answer, answer
from tests.schema_requests import as_parsed, requests
from ttguard import TTError, operations, validate
from ttguard.core.catalogue import request_schema
from ttguard.core.fast_engine import readable_text, rust_validator
from ttguard.core.fast_refusal import Walk, _first_failing, _first_marked, _marking, walk
from ttguard.core.keywords import rank
from ttguard.core.reference import RequestValidator, describe, first_error

OPERATIONS = [name for name in operations() if request_schema(name)]
EXAMPLES = int(os.environ.get("TTGUARD_DIFFERENTIAL_EXAMPLES", "60"))


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_walk_answers_as_the_reference_with_and_without_proofs(operation: str,
                                                                   data: st.DataObject) -> None:
    request, readable = as_parsed(data.draw(requests(operation)), operation)
    expected = answer(first_error(operation, request))
    unproven = walk(operation, proofs=False)
    assert unproven is not None
    assert answer(unproven.verdict(request)) == expected, request
    if readable:  # else Rust reads NaN as null: the core walks such a body without proofs
        walked = walk(operation)
        assert walked is not None
        assert answer(walked.verdict(request)) == expected, request


@settings(max_examples=300, deadline=None)
@given(flags=st.lists(st.sampled_from(["a", "b", "\ud800"]), max_size=40), data=st.data())
def test_the_bisection_finds_the_first_item_not_proven(flags: list[str],
                                                        data: st.DataObject) -> None:
    # A lone surrogate is an item Rust cannot read (it raises): a pass over it proves nothing.
    proof = rust_validator({"items": {"pattern": "^a$"}})
    start = data.draw(st.integers(0, len(flags)))
    stop = data.draw(st.integers(start, len(flags)))
    expected = next((index for index in range(start, stop) if flags[index] != "a"), stop)
    assert _first_failing(proof, flags, start, stop) == expected
    assert _first_failing(proof, flags, start, stop, resumed=True) == expected  # by a gallop
    if expected < stop:  # told that one fails, the search skips its pass over them all
        assert _first_failing(proof, flags, start, stop, failing=True) == expected


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(st.tuples(st.sampled_from(["k", "x", "\ud800"]), st.sampled_from([0, "v"])),
                        max_size=40))
def test_one_marking_pass_finds_the_first_entry_the_bisection_finds(
        entries: list[tuple[str, object]]) -> None:
    # Keys made unique, as a dict's are; one is refused by its key ("x"), its value ("v"),
    # or read by no Rust pass (a lone surrogate).
    pairs = [(f"{flag}{index}", item) for index, (flag, item) in enumerate(entries)]
    schemas = [{"pattern": "^k"}, {"type": "integer"}]
    marked = _first_marked(_marking(rust_validator, schemas), pairs)
    first = _first_failing(rust_validator({"items": {"prefixItems": schemas}}), pairs, 0,
                           len(pairs))
    expected = pairs[first][0] if first < len(pairs) else len(pairs)
    if any(key.startswith("\ud800") for key, _ in pairs):
        # Rust cannot read one: the bisection searches them (unless Rust, reading lazily, stops
        # at the first it refuses before it).
        assert marked in (None, expected)
    else:
        assert marked == expected


def _reference(schema: dict[str, Any], instance: object) -> Answer:
    first = min(RequestValidator(schema).iter_errors(instance), key=rank, default=None)
    return None if first is None else answer(describe(first))


CLOSED = {"type": "object", "required": ["a"],
          "properties": {"a": {}, "b": {"type": "integer"}},
          "propertyNames": {"maxLength": 1}, "additionalProperties": False}
MIXED = {"type": "object", "properties": {"a": {"type": "integer"}},
         "additionalProperties": {"type": "object", "required": ["v"],
                                  "properties": {"v": {"type": "string"}}}}


@pytest.mark.parametrize(("schema", "instance", "expected"), [
    (CLOSED, {"a": 1, "x": 2}, "x::__root__: extra fields not permitted"),
    # A key's own error comes before its value's.
    (CLOSED, {"a": 1, "xy": 2}, "__key__::__root__: ensure this value has at most 1 characters"),
    # A missing field stands where it is declared, before the fields after it.
    (CLOSED, {"b": "q", "x": 1}, "a::__root__: field required"),
    (CLOSED, {"a": 1, "b": "q"}, "b::__root__: value is not a valid integer"),
    (MIXED, {"a": "q", "x": {}}, "a::__root__: value is not a valid integer"),
    (MIXED, {"x": {"v": 1}, "y": {}}, "y::v: field required"),
    (MIXED, {"a": 1, "x": {"v": []}}, "x::v: str type expected"),
    (MIXED, {"a": 1, "x": {"v": "ok"}}, None),
])
def test_the_walk_orders_keys_fields_and_extra_fields_as_the_reference(
        schema: dict[str, Any], instance: dict[str, Any], expected: str | None) -> None:
    # No operation of the catalogue closes an object, nor declares fields beside undeclared
    # ones: the walk's reading of them is checked on schemas of their own.
    walked = Walk.of(schema, rust_validator)
    found = answer(walked.verdict(instance))
    assert found == _reference(schema, instance)
    assert (None if found is None else found[1]) == expected


def _nested(depth: int) -> dict[str, Any]:
    """An object whose field "a" holds such an object, ``depth`` times, then an integer."""
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema, "b": {"type": "string"}},
                  "required": ["a"]}
    return schema


@pytest.mark.parametrize("depth", [1, 12, 40])
def test_a_deep_walk_written_out_in_place_or_called_answers_as_the_reference(
        depth: int) -> None:
    # The walks below a node are written out in its function down to an indentation Python
    # reads (40 levels of objects pass it), then called.
    schema = _nested(depth)
    walked = Walk.of(schema, rust_validator)
    for leaf, missing_at in (("x", None), (None, None), (1, None), (1, depth - 1)):
        instance: Any = leaf
        for level in range(depth):
            instance = {} if level == missing_at else {"a": instance, "b": "q"}
        found = answer(walked.verdict(instance))
        assert found == _reference(schema, instance)
        assert (found is None) == (leaf == 1 and missing_at is None)


@pytest.mark.parametrize("schema", [
    {"type": "object", "required": ["a"]},  # a required name not declared ranks among the keys
    {"properties": {"a": {"anyOf": [{"type": "string"}]}}},  # a keyword without a rule
    {"propertyNames": True},
])
def test_a_schema_the_walk_cannot_order_has_no_walk(schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Walk.of(schema, rust_validator)


def test_an_operation_without_a_schema_has_no_walk() -> None:
    assert walk("who_am_i") is None


def test_a_key_rust_cannot_read_is_judged_by_the_walk_itself() -> None:
    # Rust cannot take a lone surrogate: its pass proves nothing, and the walk goes in.
    request = {"path": {}, "query": {}, "body": {"description": {"ok": 1, "\ud800": 2}}}
    walked = walk("create_twin")
    assert walked is not None
    assert answer(walked.verdict(request)) == answer(first_error("create_twin", request)) == (
        400589, "body::description->__key__: string does not match regex "
                "^[a-z_][0-9a-z_]{0,63}$")


LEDGER = {"twin": "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11", "ledger": "personal"}
LONG = 60_000


@pytest.mark.parametrize(("operation", "path", "body"), [
    ("add_twin_ledger_entry", LEDGER, {"entries": {"a" * LONG + "!": {"value": 1}}}),
    ("add_twin_ledger_entry", LEDGER, {"entries": {"a-" * (LONG // 2): {"value": 1}}}),
    ("add_twin_ledger_entry", LEDGER, {"entries": {"a": {"history": "1" * LONG}}}),
    ("add_twin_ledger_entry", LEDGER, {"entries": {"a" * LONG + "\ud800": {}}}),
    ("create_twin_identity", {"twin": LEDGER["twin"]},
     {"identities": {("A" * 8 + "#!") * (LONG // 10): {}}}),
    ("create_user", {}, {"name": ("a" + "_" * 32) * (LONG // 33)}),
    ("put_sticker", {"twin": LEDGER["twin"]}, {"stickers": {"ab!" * (LONG // 3): {}}}),
    ("attach_twin_doc", {"twin": LEDGER["twin"]}, {"doc_name": "a/" * (LONG // 2)}),
])
def test_long_strings_are_searched_for_their_pattern_as_the_reference_searches_them(
        operation: str, path: dict[str, str], body: dict[str, Any]) -> None:
    # Rust searches the catalogue's patterns, in linear time (Python's regex took up to 7 ms
    # on these 60 kB); U+FFFD stands in for a lone surrogate, which Rust cannot read.
    request = {"path": path, "query": {}, "body": body}
    walked = walk(operation)
    assert walked is not None
    assert answer(walked.verdict(request)) == answer(first_error(operation, request))


@pytest.mark.parametrize(("identities", "expected"), [
    ({"RFID#1": {"visibility": "a"}, "RFID#2": {"visibility": "\ud800"}}, None),
    ({"RFID#1": {"visibility": "\ud800"}, "RFID#2": {"validity_ts": "soon"}},
     (400589, "body::identities->RFID#2->validity_ts: value is not a valid float")),
    ({"RFID#1": {"visibility": "\ud800"}, "bad key": {}},
     (400589, "body::identities->__key__: string does not match regex "
              "[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}")),
])
def test_a_collection_refused_only_for_what_rust_cannot_read_is_searched_to_its_end(
        identities: dict[str, Any], expected: Answer) -> None:
    # The walk takes a refused collection whose keys hold to hold a failing value, and skips a
    # pass; a value Rust cannot read refuses every pass over it, though it may hold.
    request = {"path": {}, "query": {}, "body": {"identities": identities}}
    walked = walk("create_twin_identity")
    assert walked is not None
    assert answer(walked.verdict(request)) == answer(
        first_error("create_twin_identity", request)) == expected


class CountedProof:
    """Rust's validator, counting the items it is handed: one for a value, the length of a list."""

    items = 0

    def __init__(self, schema: object,
                 formats: Mapping[str, Callable[[str], bool]] | None = None) -> None:
        self.proof = rust_validator(schema, formats)

    def is_valid(self, value: object) -> bool:
        CountedProof.items += len(value) if isinstance(value, list) else 1
        return bool(self.proof.is_valid(value))


@pytest.mark.parametrize("count", [50, 400])
def test_items_rust_refuses_but_the_rules_accept_cost_a_bounded_number_of_passes_each(
        count: int) -> None:
    # "\u0661" (ARABIC-INDIC DIGIT ONE) is a float to pydantic (float() reads Unicode digits),
    # not to the lenient reading: every identity is refused by Rust and accepted by the walk.
    # A pass over the rest after each would hand Rust count**2 / 2 items.
    identities = {f"RFID#{index:08d}": {"validity_ts": "\u0661"} for index in range(count)}
    request = {"path": {}, "query": {}, "body": {"identities": identities}}
    walked = Walk.of(request_schema("create_twin_identity"), CountedProof)
    CountedProof.items = 0
    assert walked.verdict(request) is None
    assert first_error("create_twin_identity", request) is None
    assert CountedProof.items <= 8 * count


def test_a_container_before_a_failing_field_of_rules_is_proven_not_searched() -> None:
    # "activity" (an object, a field of rules only) fails after the description (the body's last
    # container field): the description holds, which one pass proves; a search of its 200 keys,
    # as if the failure had to be there, would hand Rust about twice as many.
    description = {f"key_{index}": index for index in range(200)}
    request = {"path": {}, "query": {},
               "body": {"role": "e834214a-e13d-412b-ffd6-911ab58c8733",
                        "description": description, "activity": "active"}}
    walked = Walk.of(request_schema("create_user"), CountedProof)
    CountedProof.items = 0
    assert answer(walked.verdict(request)) == answer(first_error("create_user", request)) == (
        400589, "body::activity: value is not a valid dict")
    assert CountedProof.items <= 5


@pytest.mark.parametrize(("body", "expected"), [
    (r'{"identities": {"RFID#1\ud800": {}, "RFID#2\udfff": {"validity_ts": "soon"}}}',
     (400589, "body::identities->RFID#2\udfff->validity_ts: value is not a valid float")),
    (r'{"identities": {"RFID#1\ud800": {"validity_ts": NaN}}}', None),
    (r'{"identities": {"RFID#1": {"validity_ts": Infinity}, "bad": {}}}',
     (400589, "body::identities->__key__: string does not match regex "
              "[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}")),
])
def test_a_request_rust_cannot_read_is_walked_without_it(body: str, expected: Answer) -> None:
    # Lone surrogates make each Rust pass raise (34x a parse on 64 kB of such keys, walked with
    # proofs; 11x without), NaN Rust reads as null: the core walks such a request by the rules.
    assert not readable_text(body)
    request = {"path": {}, "query": {}, "body": json.loads(body)}
    assert answer(first_error("create_twin_identity", request)) == expected
    try:
        validate(body, "create_twin_identity")
    except TTError as error:
        assert answer(error) == expected
    else:
        assert expected is None


def test_threads_searching_at_once_each_find_their_own_first_failing_entry() -> None:
    # The marking pass notes the failing key per thread: threads judging at once, each its own
    # refused collection, must not read one another's.
    def refused_at(position: int) -> bytes:
        identities = {f"RFID#{index:08d}": {"validity_ts": "soon" if index == position else 1}
                      for index in range(20)}
        return json.dumps({"identities": identities}).encode()

    def judge(position: int) -> list[str]:
        descriptions = []
        for _ in range(200):
            try:
                validate(refused_at(position), "create_twin_identity",
                         path_params={"twin": "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"})
            except TTError as error:
                descriptions.append(error.description)
        return descriptions

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(range(20), pool.map(judge, range(20)), strict=True))
    for position, descriptions in found.items():
        assert descriptions == [f"body::identities->RFID#{position:08d}->validity_ts: value is "
                                "not a valid float"] * 200
