"""Fast accept, exact reject: compiled checks that may say "valid", never "invalid".

Most requests are valid, and proving it should cost about what parsing costs. So the core first
asks this module: ``orjson`` parses the body and ``jsonschema-rs`` (compiled, in Rust) checks it
against a *strict* reading of the operation's schema. Only when either says no does the core take
the exact path (``bytes.decode``, ``json.loads``, jsonschema with the server's keyword functions,
:mod:`ttguard.core.schema`), which alone words the verdict, and may still accept.

This is sound because every fast "yes" is also an exact "yes":

* ``orjson`` accepts a subset of what ``json.loads`` accepts (no ``NaN``, no lone surrogates, no
  byte order mark, stricter nesting) and returns the same value, except that it turns integers
  outside 64 bits into floats: a body with a run of 19 or more digits takes the exact path, as
  does a body that is not ASCII (where orjson brings no speed).
* The strict schema is the catalogue's schema read by the JSON Schema standard, which is stricter
  than ttguard's keyword functions everywhere they differ: no pydantic coercion, no ``null`` for
  optional fields, Rust's ``$`` (end only) and ECMA's ASCII ``\\d``/``\\w``; ``format: uuid``
  becomes its pattern. A schema the Rust engine cannot compile has no fast path.

``tests/test_fastpath.py`` checks that claim differentially, on random and adversarial inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, Final

import orjson

from .catalogue import request_schema

__all__ = ["NOT_PROVEN", "fast_parse", "fast_valid"]

#: What :func:`fast_parse` returns when it cannot vouch for a value.
NOT_PROVEN: Final = object()
# orjson parses integers outside int64 and uint64 as floats; -2**63 - 1 has 19 digits. A run of
# 19 digits is found by marking digits and searching the marks: one pass in C, whatever the body
# (a regex search took from 0.1x to 1x of a parse, depending on the body).
_DIGIT_MARKS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 19
_UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


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


def _strict(schema: Any) -> Any:
    """The schema as the JSON Schema standard reads it, with ``format: uuid`` spelled out."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items() if key != "format"}
    if schema.get("format") == "uuid":
        strict["allOf"] = [*strict.get("allOf", []), {"pattern": _UUID_PATTERN}]
    return strict


@cache
def _compiled(operation: str) -> Any | None:
    schema = request_schema(operation)
    if schema is None:
        return None
    import jsonschema_rs  # 25 ms to import: paid by the first request checked, not on import

    try:
        return jsonschema_rs.validator_for(_strict(schema))
    except (ValueError, jsonschema_rs.ValidationError):
        return None


def fast_valid(operation: str, request: Mapping[str, object]) -> bool:
    """Whether the request is proven valid (``False`` only means: ask the exact path)."""
    validator = _compiled(operation)
    return validator is not None and bool(validator.is_valid(request))
