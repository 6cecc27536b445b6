"""The catalogue as an OpenAPI 3.1 document: valid, complete, and never stricter than ttguard."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_spec

import ttguard
from tests.exported import ABSENT, refusals
from ttguard.cli import main
from ttguard.core import Subcode, operations, parse_query
from ttguard.core.catalogue import request_schema
from ttguard.core.reference import RequestValidator
from ttguard.openapi import (
    _BOOLEAN_STRING,
    _UUID_SPELLINGS,
    _float_string,
    _integer_string,
    body_schema,
    ecma_pattern,
    openapi_document,
    operation_subcodes,
    parameter_schema,
)

UUID = "e834214a-e13d-412b-ffd6-911ab58c8733"
#: Strings near and far from what the catalogue's formats accept: valid ones, coercible ones,
#: non-ASCII, trailing newlines, case and length changes.
STRINGS = [
    "", "a", "abc", "A", "Key", "key_1", "key-1", "_k", "k" * 64, "k" * 65, "a" * 600,
    "12", " 12 ", "+0_1", "-7", "1_000", "1__0", "١٢", "1.5", ".5e3", " nan ", "-Infinity", "1e",
    "yes", "Off", "TRUE", "n", "2", "personal", "owner", "default", UUID, UUID.upper(),
    UUID + "\n", UUID + "\n\n", UUID[:-1], "key\n", "key\n\n", "é", "ключ", "1D", "999Y", "INF",
    "xINF", "1Dx", "a#b", "Ab_1#xyz=", "#", "Pump 7", "p", "red-1", "ab", "doc/name.pdf",
    "a\rb", "a\u2028b", "a/b/c/d/e/f/g", "access_optimized", "cost_optimized", "cancel",
    "create", "refresh", "allow", "deny", "read", "f" * 64, "F" * 64, "\x00",
]
#: JSON values of every type, including those pydantic v1 coerces.
VALUES: list[Any] = [
    *STRINGS, None, True, False, 0, 1, -1, 1.5, 1e300, 10**20, 1000, 1001, 100, 101,
    [], [["a", 1]], [["A", 1]], ["ab"], [{"a": 1, "b": 2}], [[[1], 2]], ["abc"], [1], ["a", "b"],
    {}, {"a": 1}, {"colour": "red"}, {"A": 1}, {"value": 1}, {"recipients": []},
]


def _accepts(schema: Any, value: Any) -> bool:
    return not any(True for _ in RequestValidator(schema).iter_errors(value))


def _sample(schema: Any) -> Any:
    """A value ttguard accepts for ``schema`` alone, built from the pools."""
    if not isinstance(schema, dict):
        return None
    if "properties" in schema or schema.get("type") == "object":
        return {name: _sample(schema["properties"][name]) for name in schema.get("required", ())}
    return next((value for value in VALUES if _accepts(schema, value)), None)


def _variants(schema: Any, depth: int = 0) -> Iterator[Any]:
    """Values for the place ``schema`` describes: every pool value there, then the skeleton of
    an accepted value with each place inside it varied in turn."""
    yield from VALUES
    if not isinstance(schema, dict) or depth > 4:
        return
    base = _sample(schema)
    if isinstance(base, dict):
        for name, child in schema.get("properties", {}).items():
            for value in _variants(child, depth + 1):
                yield {**base, name: value}
        extra = schema.get("additionalProperties")
        if "propertyNames" in schema or isinstance(extra, dict):
            for key in STRINGS:
                yield {**base, key: _sample(extra) if isinstance(extra, dict) else 1}
            key = _sample(schema.get("propertyNames", {"type": "string"}))
            if isinstance(extra, dict) and isinstance(key, str):
                for value in _variants(extra, depth + 1):
                    yield {**base, key: value}
    items = schema.get("items")
    if isinstance(items, dict):
        for value in _variants(items, depth + 1):
            yield [value]


def _requests(name: str) -> Iterator[tuple[dict[str, str], dict[str, Any], Any]]:
    """(path, query, body) requests for ``name``, from its catalogue schema."""
    schema = request_schema(name) or {}
    parts = schema.get("properties", {})
    path_schemas = parts.get("path", {}).get("properties", {})
    query_schemas = parts.get("query", {}).get("properties", {})
    # Path parameters the catalogue does not check (a PIN, a handler) still fill the path.
    template = re.findall(r"\{([^}]+)\}", operations()[name].path)
    path = {key: _sample(path_schemas.get(key, {"type": "string"})) for key in template}
    for key in path_schemas:
        for value in STRINGS:
            yield {**path, key: value}, {}, ABSENT
    for key in query_schemas:
        for value in [*STRINGS, ["1", "2"], ["true"]]:
            yield path, {key: value}, ABSENT
    if "body" in parts:
        yield path, {}, ABSENT
        for body in _variants(parts["body"]):
            yield path, {}, body


def _ttguard_accepts(name: str, path: dict[str, str], query: dict[str, Any], body: Any) -> bool:
    raw = b"" if body is ABSENT else json.dumps(body).encode()
    try:
        ttguard.validate(raw, name, path_params=path, query=query)
    except ttguard.TTError:
        return False
    return True


def test_the_document_is_valid_openapi_3_1() -> None:
    document = copy.deepcopy(openapi_document())
    validate_spec(document)
    assert document["openapi"] == "3.1.0"
    assert json.loads(json.dumps(document)) == document


def test_every_operation_appears_exactly_once() -> None:
    document = openapi_document()
    found = [(method.upper(), path, operation["operationId"])
             for path, item in document["paths"].items() for method, operation in item.items()]
    assert sorted(found) == sorted((operation.method, operation.path, operation.name)
                                   for operation in operations().values())
    assert len(found) == len({name for _, _, name in found}) == 87


def test_each_operation_lists_the_subcodes_it_can_get() -> None:
    responses = openapi_document()["paths"]["/twins/{twin}/ledgers/{ledger}"]["post"][
        "responses"]
    listed = responses["400"]["content"]["application/json"]["schema"]["allOf"][1]
    assert listed["properties"]["subcode"]["enum"] == [400141, 400314, 400415, 400589, 400793,
                                                       400926]
    # No schema: only the generic checks; no required field: never 400926.
    assert Subcode.REQUEST_FORMAT not in operation_subcodes("get_account")
    assert Subcode.FIELD_REQUIRED not in operation_subcodes("create_twin")
    assert set(responses) == {"2XX", "400", "401", "500"}


def test_the_error_body_is_the_servers() -> None:
    error = openapi_document()["components"]["schemas"]["Error"]
    assert error["required"] == ["subcode", "trace", "description"]


def test_the_cli_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--server", "http://127.0.0.1:8080"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["servers"] == [{"url": "http://127.0.0.1:8080"}]
    assert printed["paths"] == openapi_document()["paths"]


@pytest.mark.parametrize("name", [name for name in operations() if request_schema(name)])
def test_every_request_ttguard_accepts_the_exported_document_accepts(name: str) -> None:
    accepted = refused = 0
    for path, query, body in _requests(name):
        if _ttguard_accepts(name, path, query, body):
            accepted += 1
            # The query as the server reads it: a repeated single-valued parameter, its last.
            assert refusals(name, path, parse_query(query, name), body) == [], (path, query, body)
        else:
            refused += 1
    assert accepted > 0
    if any(key in (request_schema(name) or {}).get("properties", {}) for key in ("body", "path")):
        assert refused > 0


def test_a_request_ttguard_refuses_is_mostly_refused_by_the_document_too() -> None:
    """The export is a superset, but not a vacuous one."""
    assert refusals("add_twin_ledger_entry", {"twin": UUID, "ledger": "personal"}, {}, {})
    assert refusals("scan_twins", {}, {"count": "1001"}, ABSENT)
    assert refusals("create_twin", {}, {}, {"description": {"Colour": "red"}})
    assert refusals("get_twin", {"twin": "nope"}, {}, ABSENT)
    assert refusals("create_twin", {}, {}, {"description": 5})


def test_a_keyword_the_export_cannot_read_is_an_error_not_a_stricter_schema() -> None:
    with pytest.raises(ValueError, match="no reading of 'format'"):
        body_schema({"type": "string", "format": "date-time"})
    assert body_schema({"type": "object", "properties": {"a": {"type": "integer"}}}) == {
        "anyOf": [{"type": "object"}, {"$ref": "#/components/schemas/Pairs"}, {"const": ""}],
        "properties": {"a": {"anyOf": [{"type": "null"}, {"anyOf": [
            {"type": ["number", "boolean"]}, {"$ref": "#/components/schemas/IntegerString"}]}]}},
    }


def test_a_pattern_with_no_ecma_spelling_is_left_out_and_noted() -> None:
    exported = parameter_schema({"type": "string", "pattern": r"^\d+$"})
    assert exported == {"type": "string", "x-ttguard-pattern": r"^\d+$"}
    exported = parameter_schema({"type": "string", "pattern": "^[a-z]+$"})
    assert exported == {"type": "string", "pattern": r"^[a-z]+(?=\n?(?![\s\S]))",
                        "x-ttguard-pattern": "^[a-z]+$"}


@pytest.mark.parametrize(("python", "ecma"), [
    ("^[a-z_][0-9a-z_]{0,63}$", r"^[a-z_][0-9a-z_]{0,63}(?=\n?(?![\s\S]))"),
    ("(.[a-z]{1,8})?$", r"([^\n][a-z]{1,8})?(?=\n?(?![\s\S]))"),
    (r"[0-9A-Za-z\-]{3,48}", r"[0-9A-Za-z\-]{3,48}"),
    (r"a\/b\-c[$.]", r"a\/b-c[$.]"),
    (r"^\d+$", None), (r"\w", None), (r"(?i)abc", None), (r"(?P<x>a)", None), (r"(a)\1", None),
    (r"[]a]", None), (r"a\Z", None),
])
def test_python_patterns_are_spelled_for_ecma(python: str, ecma: str | None) -> None:
    assert ecma_pattern(python) == ecma


TEXT = st.text(alphabet=st.sampled_from(
    # Arabic-Indic one and two, an ideographic space, a separator, double-struck zero, a numeral.
    [*"0123456789_+-.eEinfatyINFATYxo ", "\u0661", "\u0662", "\u3000", "\x1c", "\n",
     "\U0001d7d8", "\u216b"]),
    max_size=8)


@settings(max_examples=400, deadline=None)
@given(TEXT)
# Found by Schemathesis: U+001C is whitespace to str.isspace(), not to int() or float().
@example("\x1c1")
@example("\u2001+nAn\u2007")
def test_the_number_string_patterns_read_as_int_and_float_do(text: str) -> None:
    def reads(function: Any) -> bool:
        try:
            function(text)
        except ValueError:
            return False
        return True

    assert bool(re.search(_integer_string(None, None), text)) == reads(int)
    assert bool(re.search(_float_string(), text)) == reads(float)
    for low, high in ((-5, 100), (1, 1000), (None, 100)):
        in_range = reads(int) and (low is None or low <= int(text)) and int(text) <= high
        assert bool(re.search(_integer_string(low, high), text)) == in_range


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["yes", "no", "on", "off", "t", "f", "y", "n", "true", "false", "0",
                        "1", "2", "ye", "tru", "nope", ""]).flatmap(
    lambda word: st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in word))))
def test_the_boolean_string_pattern_reads_as_pydantic_does(letters: tuple[str, ...]) -> None:
    word = "".join(letters)
    expected = word.lower() in {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y",
                                "yes"}
    assert bool(re.search(_BOOLEAN_STRING, word)) == expected


@settings(max_examples=300)
@given(text=st.from_regex(_UUID_SPELLINGS, fullmatch=True))
def test_every_uuid_the_exported_pattern_spells_is_one_ttguard_takes(text: str) -> None:
    # The one place the document takes less than ttguard: it must not take more.
    assert ttguard.validate(None, "get_twin", path_params={"twin": text}) is None


def test_the_exported_uuid_pattern_spells_the_usual_forms() -> None:
    usual = str(uuid.uuid4())
    for text in (usual, usual.upper(), usual.replace("-", ""), f"{{{usual}}}",
                 f"urn:uuid:{usual}"):
        assert re.fullmatch(_UUID_SPELLINGS, text), text
