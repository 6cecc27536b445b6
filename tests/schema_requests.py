"""Requests generated from the catalogue's own schemas, for the differential test of the engines.

:func:`requests` walks an operation's schema and builds a hypothesis strategy for whole requests
(path parameters, query, body bytes) that reaches every keyword: values that pass, values just
past each limit (length, bound, item count, pattern), pydantic v1's coercions (a number for a
string, ``"12"`` for an integer, ``"yes"`` or ``"OFF"`` for a boolean, a list of pairs for an
object), ``null`` for optional and required fields, non-ASCII text, wrong types, extra fields,
missing required fields, keys just inside and outside a key pattern, fields in any order.
(``hypothesis-jsonschema`` does not work with current hypothesis, and generates only valid
values.)
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from ttguard.core.catalogue import operations, path_parameters, request_schema
from ttguard.core.fast_engine import readable_text
from ttguard.core.routes import parse_query

Strategy = st.SearchStrategy[Any]

UUID = "e834214a-e13d-412b-ffd6-911ab58c8733"
NON_ASCII = ["Zażółć", "温度センサー", "☂", "é", "\u0661", "\uff41", "k\u2028", "😀"]
BOOLEAN_WORDS = ["yes", "no", "on", "off", "t", "f", "y", "n", "1", "0", "true", "false"]
json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
any_json = st.recursive(json_scalars, lambda children: (
    st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)),
    max_leaves=6)
#: Values of every JSON type, and pydantic's odd cases: a list of pairs is a dict to it.
odd_values = st.sampled_from([None, True, False, 0, 1, -1, 1.5, 1e300, "", "x", [], {},
                              [["a", 1]], ["ab"], [1, 2], {"a": 1}, *NON_ASCII])


def _near(text: str) -> list[str]:
    """Strings one step from ``text``: around its edges, its case, a final newline."""
    return [text, text + "\n", text + "x", "x" + text, text[:-1], text.upper(), text.lower(),
            text + "é", " " + text, text * 2]


def _strings(schema: dict[str, Any]) -> Strategy:
    options: list[Strategy] = [st.text(max_size=10), st.sampled_from(NON_ASCII)]
    if schema.get("format") == "uuid":
        # The other spellings uuid.UUID() reads, as pydantic's UUID does, among them.
        options += [st.uuids().map(str), st.uuids().map(lambda uuid: str(uuid).upper()),
                    st.uuids().map(lambda uuid: uuid.hex),
                    st.uuids().map(lambda uuid: f"{{{uuid}}}"),
                    st.uuids().map(lambda uuid: f"urn:uuid:{uuid}"),
                    st.sampled_from(_near(UUID))]
    if "pattern" in schema:
        found = st.from_regex(schema["pattern"])
        options += [found, found, found.flatmap(lambda text: st.sampled_from(_near(text)))]
    if "maxLength" in schema:
        limit = schema["maxLength"]
        options.append(st.sampled_from(["a" * limit, "a" * (limit + 1), "é" * limit,
                                        "😀" * (limit + 1)]))
    if "minLength" in schema:
        limit = schema["minLength"]
        options.append(st.sampled_from(["a" * limit, "a" * max(limit - 1, 0)]))
    return st.one_of(options)


def _numbers(schema: dict[str, Any], integral: bool) -> Strategy:
    bounds = [schema[key] for key in ("minimum", "maximum") if key in schema]
    edges = [edge + step for edge in bounds for step in (-1, 0, 1)]
    near = [*edges, 0, 1, -1, 12]
    return st.one_of(
        st.integers(-(2**70), 2**70), st.sampled_from(near),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([str(number) for number in near] + ["1.5", "1e3", " 12 ", "+7", "1_0",
                                                            "12abc", "0x10", "", "-0", "٣"]),
        st.booleans(),
        *([] if integral else [st.sampled_from([0.5, -2.25, "2.5", ".5", "5."])]),
    )


def _booleans() -> Strategy:
    # U+017F (long s) is "S" to Rust's case folding, not to str.lower().
    words = [*BOOLEAN_WORDS, *(word.upper() for word in BOOLEAN_WORDS), "Yes", "oFf", "maybe",
             "2", "fal\u017fe", "ye\u017f", ""]
    return st.booleans() | st.sampled_from([*words, 0, 1, 2, -1, 0.0, 1.0, 0.5])


def _object(schema: dict[str, Any]) -> Strategy:
    declared: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    names = schema.get("propertyNames")
    fields = {name: values(subschema) | st.none() for name, subschema in declared.items()}
    present = st.fixed_dictionaries(
        {name: strategy for name, strategy in fields.items() if name in required},
        optional={name: strategy for name, strategy in fields.items() if name not in required})
    # Now and then a required field goes missing.
    present = present | present.map(lambda fields: dict(list(fields.items())[1:]))
    keys = (_strings(names) if isinstance(names, dict) else st.text(max_size=6)) | st.sampled_from(
        sorted(declared) or ["x"])
    extra_values = values(extra) if isinstance(extra, dict) else any_json
    extras = st.dictionaries(keys, extra_values, max_size=3)
    if extra is False or not isinstance(extra, dict):
        extras = st.just({}) | st.just({}) | extras
    objects = st.tuples(present, extras, st.booleans()).map(
        lambda parts: {**parts[1], **parts[0]} if parts[2] else {**parts[0], **parts[1]})
    # Now and then as the list of its pairs, which pydantic reads by dict() and then checks.
    return objects | objects.map(lambda read: [[key, value] for key, value in read.items()])


def _array(schema: dict[str, Any]) -> Strategy:
    items = values(schema.get("items", {}))
    lists = st.lists(items, max_size=4)
    if "maxItems" in schema:
        limit = schema["maxItems"]
        lists = lists | st.lists(st.just("a"), min_size=limit, max_size=limit + 1)
    if "minItems" in schema:
        lists = lists | st.lists(items, max_size=schema["minItems"])
    return lists


#: Each schema node's strategy, by the node's id; the node is kept with it, so that its id is
#: never given to another (a default such as ``{}`` made for one call would free its id, and a
#: later node taking it would get this strategy: data generation that differs from run to run).
_MEMO: dict[int, tuple[Any, Strategy]] = {}


def values(schema: Any) -> Strategy:
    """Values for one schema node: passing ones, near misses, coercible and wrong ones."""
    if not isinstance(schema, dict):
        return any_json
    if id(schema) in _MEMO:
        return _MEMO[id(schema)][1]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    options: list[Strategy] = [odd_values]
    if "enum" in schema or "const" in schema:
        allowed = schema.get("enum", [schema.get("const")])
        options.append(st.sampled_from(allowed))
        options.append(st.sampled_from([near for value in allowed if isinstance(value, str)
                                        for near in _near(value)] or [None]))
    for name in types:
        if name == "string":
            options += [_strings(schema), _strings(schema), _numbers(schema, integral=False)]
        elif name in ("integer", "number"):
            options += [_numbers(schema, integral=name == "integer")] * 2
        elif name == "boolean":
            options += [_booleans()] * 2
        elif name == "object":
            options += [_object(schema)] * 3
        elif name == "array":
            options += [_array(schema)] * 2
    if not types:
        options.append(any_json)
        if "pattern" in schema:
            options.append(_strings(schema))
    strategy = st.one_of(options)
    _MEMO[id(schema)] = (schema, strategy)
    return strategy


def _as_text(value: object) -> str:
    """A value as it would appear in a URL: path parameters and queries are text."""
    return value if isinstance(value, str) else json.dumps(value)


#: The schemas of a request part the operation's schema leaves out: one object each, made once,
#: since values() keeps every node it is given (a fresh default per draw grew without bound:
#: 3 GB over a long fuzz run).
_ANY_OBJECT: dict[str, Any] = {"type": "object"}
_ANYTHING: dict[str, Any] = {}


@st.composite
def requests(draw: st.DrawFn, operation: str) -> tuple[dict[str, str], str, bytes]:
    """A request for ``operation``: its path parameters, query string and body bytes."""
    schema = request_schema(operation)
    assert schema is not None
    parts = schema.get("properties", {})
    path = draw(values(parts.get("path", _ANY_OBJECT)))
    query = draw(values(parts.get("query", _ANY_OBJECT)))
    body = draw(values(parts.get("body", _ANYTHING)))
    # Only the names in the operation's path: no route gives another, and validate() refuses it.
    named = path_parameters(operations()[operation].path)
    path = {str(name): _as_text(value) for name, value in path.items()
            if str(name) in named} if isinstance(path, dict) else {}
    query = urlencode([(str(name), _as_text(value)) for name, value in query.items()]
                      ) if isinstance(query, dict) else ""
    encoded = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    return path, query, encoded


def as_parsed(drawn: tuple[dict[str, str], str, bytes], operation: str
              ) -> tuple[dict[str, object], bool]:
    """A drawn request as the core judges it for ``operation`` (query parsed, body parsed), and
    whether the Rust engine reads it as it is (:func:`~ttguard.core.fast_engine.readable_text`)."""
    path, query, body = drawn
    text = body.decode("utf-8", "surrogatepass")
    return ({"path": path, "query": parse_query(query, operation), "body": json.loads(text)},
            readable_text(text))
