"""The fast engine: proves requests valid at parse speed, and narrows the others for the reference.

Most requests are valid, and proving it should cost about what parsing costs; a refused one
should cost little more. So the core asks this engine first: ``orjson`` parses the body and
``jsonschema-rs`` (compiled, in Rust) checks the request against a *lenient* reading of the
operation's schema, one that accepts only what the reference (:mod:`ttguard.core.reference`)
accepts, written in plain JSON Schema:

* **pydantic v1's coercions spelled out.** Where a string is expected a number or a boolean also
  passes; where an integer is, a number, a boolean or a string of decimal digits; where a number
  is, a number, a boolean or a decimal numeral; where a boolean is, ``0``, ``1`` and the words
  pydantic reads as booleans (``"yes"``, ``"off"``, any case). Each is a subset of what
  :mod:`ttguard.core.keywords` accepts, expressed with keywords that apply to one JSON type only
  (``pattern`` to strings, ``minimum`` to numbers), so the schema's own checks keep theirs.
  Under a bound (``minimum``/``maximum``) no string passes: the reference compares a numeric
  string's value, which JSON Schema cannot.
* **An optional property may be** ``null``, as the reference skips it.
* ``format: uuid`` becomes its pattern; patterns are the catalogue's, run by Rust's ``regex``,
  whose ``$`` is the end only and whose classes are those printed: it accepts a subset of what a
  Python search accepts.

A schema with a keyword this reading does not know has no fast engine: the reference judges it.

Operations:

* :func:`fast_parse`: the JSON value of a body, exactly as ``json.loads`` gives it, or
  ``NOT_PROVEN``. ``orjson`` accepts a subset of what ``json.loads`` accepts (no ``NaN``, no lone
  surrogates, no byte order mark) and returns the same value, except that it turns integers
  outside 64 bits into floats: a body with a run of 19 or more digits is not proven, nor is a
  body that is not ASCII (where orjson brings no speed).
* :func:`unproven`: ``None`` when the request is proven valid; else the request *narrowed* to
  what the fast engine could not prove, on which the reference finds the same first error as on
  the whole request (or none, when the lenient reading was only stricter).

**Narrowing.** ``iter_errors`` gives each failing instance path. A subtree with no error at or
below it is valid under the lenient schema, hence under the reference (the lenient schema is
sound node by node), so the reference need not walk it. In each object on a failing path the
narrowed request keeps, in their order, the keys on a failing path, the keys that failed as keys
(``propertyNames``, ``additionalProperties: false``; Rust reports both at the object) and the
required keys; a kept key whose value is proven holds :data:`PROVEN`, which the reference's
container keywords (:mod:`ttguard.core.keywords`) do not descend into. Dropping the other keys
changes no error the reference finds: no keyword of the catalogue counts an object's keys, and
the rank of an extra key only orders it among its siblings, whose order is kept. A list keeps
its length, each proven item held by ``PROVEN``. An error that may hide others below it (a
failed ``type``, which may coerce the value, ``enum``, ``anyOf``) keeps its subtree whole.

Cost: valid, one ``orjson`` parse and one Rust pass; refused, a second Rust pass that collects
the errors, one Python pass over the children of the objects on failing paths, and the reference
over what is kept (a few small values for a few errors, whatever the body's size).
``tests/test_fast_engine.py`` checks all this differentially against the reference, on requests
generated from the catalogue's schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

import orjson

from .catalogue import request_schema

__all__ = ["NOT_PROVEN", "PROVEN", "fast_parse", "readable_text", "unproven"]

#: What :func:`fast_parse` returns when it cannot vouch for a value.
NOT_PROVEN: Final = object()
#: Stands for a value proven valid in a narrowed request: the reference does not descend into it.
PROVEN: Final = object()
# orjson parses integers outside int64 and uint64 as floats; -2**63 - 1 has 19 digits. A run of
# 19 digits is found by marking digits and searching the marks: one pass in C, whatever the body
# (a regex search took from 0.1x to 1x of a parse, depending on the body).
_DIGIT_MARKS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 19

# -- the lenient schema ------------------------------------------------------------------------

_UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Strings `int()` and `float()` read, kept short of the interpreter's int-string digit limit.
_INTEGER_TEXT = "[+-]?[0-9]{1,100}"
_NUMBER_TEXT = "[+-]?(?:[0-9]{1,100}\\.?[0-9]{0,100}|\\.[0-9]{1,100})(?:[eE][+-]?[0-9]{1,4})?"
# pydantic v1's boolean words, in any case: ASCII classes, since Rust's (?i) would also fold
# characters such as U+017F into "s", which Python's str.lower() does not.
_BOOLEAN_WORDS = ("0", "1", "off", "f", "false", "n", "no", "on", "t", "true", "y", "yes")
_BOOLEAN_TEXT = "|".join("".join(f"[{char.upper()}{char}]" if char.isalpha() else char
                                 for char in word) for word in _BOOLEAN_WORDS)


@dataclass(frozen=True)
class _Coercion:
    """What one declared type accepts, by JSON type: every string/number, or those listed."""

    json_types: tuple[str, ...]
    strings: str | None = None  # None: every string (when "string" is among json_types)
    numbers: Mapping[str, int] | None = None  # keywords restricting numbers; None: every number


_COERCIONS: Mapping[str, _Coercion] = {
    "string": _Coercion(("string", "number", "boolean")),
    "integer": _Coercion(("string", "number", "boolean"), strings=_INTEGER_TEXT),
    "number": _Coercion(("string", "number", "boolean"), strings=_NUMBER_TEXT),
    "boolean": _Coercion(("string", "number", "boolean"), strings=_BOOLEAN_TEXT,
                         numbers={"minimum": 0, "maximum": 1, "multipleOf": 1}),
    "object": _Coercion(("object",)),
    "array": _Coercion(("array",)),
    "null": _Coercion(("null",)),
}
#: Keywords the lenient reading copies as they are: JSON Schema and the reference agree on them
#: for the JSON types they apply to (lengths count code points in both).
_AGREED = frozenset({"pattern", "maxLength", "minLength", "maximum", "minimum", "enum", "const",
                     "required", "maxItems", "minItems"})
_ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description", "x-pattern-printed"})


class _Unknown(Exception):
    """A keyword the lenient reading cannot vouch for."""


def _lenient_type(types: str | list[str], bounded: bool) -> tuple[list[str], list[Any]]:
    """The JSON types a declared ``type`` accepts, and the restrictions on some of them."""
    coercions = [_COERCIONS[name] for name in ([types] if isinstance(types, str) else types)]
    json_types = sorted({json_type for coercion in coercions for json_type in coercion.json_types})
    # Each restriction applies to one JSON type only, so a list of them reads as their union.
    restrictions: list[Any] = []
    texts = [coercion.strings for coercion in coercions if "string" in coercion.json_types]
    if bounded:
        # The reference bounds a numeric string by its value: leave strings to it.
        json_types = [json_type for json_type in json_types if json_type != "string"]
    elif texts and None not in texts:
        restrictions.append({"pattern": f"^(?:{'|'.join(f'(?:{text})' for text in texts)})$"})
    numbers = [coercion.numbers for coercion in coercions if "number" in coercion.json_types]
    if numbers and None not in numbers:
        restrictions.extend(restriction for restriction in numbers if restriction)
    return json_types, restrictions


def _nullable(lenient: dict[str, Any]) -> dict[str, Any]:
    """The lenient schema of an optional property, which may also be ``null``."""
    nullable = dict(lenient)
    if "type" in nullable:
        nullable["type"] = sorted({*nullable["type"], "null"})
    if "const" in nullable:
        nullable["enum"] = [nullable.pop("const")]
    if "enum" in nullable:
        nullable["enum"] = [*nullable["enum"], None]
    return nullable


def _lenient(schema: Any) -> Any:
    """The schema read as :mod:`ttguard.core.keywords` reads it, in plain JSON Schema."""
    if not isinstance(schema, dict):
        return schema
    bounded = "minimum" in schema or "maximum" in schema
    if bounded and "type" not in schema:
        raise _Unknown("a bound without a type")  # it would bound numeric strings too
    lenient: dict[str, Any] = {}
    restrictions: list[Any] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "type":
            lenient["type"], restricted = _lenient_type(value, bounded)
            restrictions += restricted
        elif keyword == "properties":
            required = schema.get("required", ())
            lenient[keyword] = {name: _lenient(sub) if name in required
                                else _nullable(_lenient(sub)) for name, sub in value.items()}
        elif keyword in ("propertyNames", "additionalProperties", "items"):
            lenient[keyword] = _lenient(value)
        elif keyword == "format" and value == "uuid":
            restrictions.append({"pattern": _UUID_PATTERN})
        elif keyword in _AGREED:
            lenient[keyword] = value
        else:
            raise _Unknown(keyword)
    if restrictions:
        lenient["allOf"] = restrictions
    return lenient


@cache
def _compiled(operation: str) -> Any | None:
    schema = request_schema(operation)
    if schema is None:
        return None
    import jsonschema_rs  # 25 ms to import: paid by the first request checked, not on import

    try:
        return jsonschema_rs.validator_for(_lenient(schema))
    except (_Unknown, ValueError, jsonschema_rs.ValidationError):
        return None


# -- operations --------------------------------------------------------------------------------


def fast_parse(body: bytes | bytearray) -> object:
    """The JSON value of a UTF-8 body, exactly as ``json.loads`` gives it, or ``NOT_PROVEN``.

    Only an ASCII body is worth it: on non-ASCII text orjson is no faster than ``json.loads``,
    which the exact path runs anyway. (The official client sends ASCII: ``json.dumps``.)
    """
    if not body.isascii() or _LONG_NUMBER in body.translate(_DIGIT_MARKS):
        return NOT_PROVEN
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return NOT_PROVEN


def readable_text(text: str) -> bool:
    """Whether the value ``json.loads`` gives for ``text`` reaches the Rust engine as it is.

    ``NaN`` and ``Infinity`` reach it as ``null``, which an optional field accepts whatever its
    type, while the reference refuses them as integers.
    """
    return "NaN" not in text and "Infinity" not in text


#: Rust error kinds reported at a value without hiding any error below it.
_LOCAL_KINDS = frozenset({"Required", "PropertyNames", "AdditionalProperties", "Pattern",
                          "MaxLength", "MinLength", "Maximum", "Minimum", "MultipleOf",
                          "MaxItems", "MinItems"})
Path = tuple[str | int, ...]


@dataclass
class _Findings:
    """Where the Rust engine found errors, as the narrowing needs them."""

    #: Each failing path and its ancestors, with the children through which errors lie.
    children: dict[Path, set[str | int]] = field(default_factory=dict)
    #: Objects whose keys failed as keys, and those keys.
    bad_keys: dict[Path, set[str]] = field(default_factory=dict)
    #: Values whose whole subtree the reference must see.
    whole: set[Path] = field(default_factory=set)

    def add(self, path: Path, kind: Any) -> None:
        for depth in range(len(path)):
            self.children.setdefault(path[:depth], set()).add(path[depth])
        self.children.setdefault(path, set())
        name = type(kind).__name__
        if name == "PropertyNames":
            self.bad_keys.setdefault(path, set()).add(kind.error.instance)
        elif name == "AdditionalProperties":
            self.bad_keys.setdefault(path, set()).update(kind.unexpected)
        elif name not in _LOCAL_KINDS:
            self.whole.add(path)


def _narrowed(value: Any, schema: Any, path: Path, findings: _Findings) -> Any:
    if path in findings.whole or not isinstance(schema, dict):
        return value
    below = findings.children.get(path, set())
    if isinstance(value, list):
        item_schema = schema.get("items", {})
        return [_narrowed(item, item_schema, (*path, index), findings)
                if index in below else PROVEN for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    declared = schema.get("properties", {})
    extra = schema.get("additionalProperties", {})
    kept = below | findings.bad_keys.get(path, set()) | set(schema.get("required", ()))
    return {key: _narrowed(item, declared.get(key, extra), (*path, key), findings)
            if key in below else PROVEN
            for key, item in value.items() if key in kept}


def unproven(operation: str, request: Mapping[str, object], *,
             readable: bool = True) -> Mapping[str, object] | None:
    """``None`` if the request is proven valid, else the request narrowed for the reference.

    ``readable`` is ``False`` when the request may hold a value the Rust engine misreads (see
    :func:`readable_text`), and then nothing is proven: the whole request goes to the reference.
    """
    validator = _compiled(operation)
    if validator is None:
        return None if request_schema(operation) is None else request
    if not readable:
        return request
    try:
        if validator.is_valid(request):
            return None
        errors: Iterable[Any] = validator.iter_errors(request)
        findings = _Findings()
        for error in errors:
            findings.add(tuple(error.instance_path), error.kind)
    except (ValueError, OverflowError):  # a lone surrogate cannot become a Rust string
        return request
    narrowed: Mapping[str, object] = _narrowed(request, request_schema(operation), (), findings)
    return narrowed
