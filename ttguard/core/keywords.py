"""JSON Schema keyword functions that judge and word a value as the Trusted Twin server does.

The server validates requests with pydantic v1 models (its descriptions carry pydantic v1's
``__key__`` locations and messages), so each function here follows pydantic v1 in two ways:

* **Wording**: messages are pydantic v1's (``field required``, ``str type expected``, ...), except
  ``string does not match regex <pattern>``, which the server prints without pydantic's quotes.
* **Leniency**: pydantic v1 coerces before it checks: a number is a valid ``str``, ``"12"`` a
  valid ``int``, ``"yes"`` a valid ``bool``, anything ``dict()`` accepts a valid ``dict``; an
  optional field may be ``null``. A type check refuses only what pydantic v1 refuses, and the
  checks that follow it (pattern, length, bounds) look only at values of the JSON type they
  are about, so a coerced value is never refused by them.

``pattern`` is JSON Schema's unanchored search, anchored only as printed, with Python's regex
syntax (``$`` also matches before a final newline), run by the ``regex`` package, with a
timeout on strings of over :data:`UNTIMED_LENGTH` characters. pydantic v1 matches at the start
(``re.match``), pydantic v2 searches with Rust's ``regex`` (whose ``$`` is the end only); a
Python search accepts everything either accepts. A search that times out accepts, since only the
server can then decide.

**Order of errors.** pydantic reports a model's fields in declaration order, a dict's items in
their order (each key before its value), a list's items in order. Each container keyword below
prepends its step to an error's ``rank``; the smallest rank is the error the server reports first.

**Proven values.** A request narrowed by the fast engine (:mod:`ttguard.core.fast_engine`)
holds its ``PROVEN`` in place of a value already proven valid: the container keywords do not
descend into it, while the keywords about the container itself (``required``,
``propertyNames``, extra fields, item counts) still see its key or its place.

Each function has jsonschema's keyword signature ``(validator, value, instance, schema)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import regex
from jsonschema.exceptions import ValidationError

from .fast_engine import PROVEN

__all__ = ["KEYWORDS", "MISSING_FIELD", "rank"]

#: Seconds a single regex match may take before it is given up (and the value accepted). The
#: ``regex`` package reads C's ``clock()``: the CPU time of the whole process, all its threads,
#: so in a threaded server the clock runs as many times faster as threads are busy (other
#: processes do not count). The bound only stops a backtracking pattern (no catalogue pattern
#: is one: see tests/test_adversarial.py), and sits far above a linear match (a few ms on
#: 64 kB) so as not to turn a refusal into an acceptance under load. Reading that clock is a
#: system call (about 0.7 us here, twice a search), the largest cost of a pattern check.
REGEX_TIMEOUT = 1.0
#: Strings up to this many characters are searched without the timeout. The bound stops a
#: search whose cost grows faster than the string: none of the catalogue's patterns grows past a
#: polynomial (tests/test_adversarial.py runs each on pathological strings of 64 kB), and on so
#: short a string a polynomial search ends in well under a millisecond, where the bound cannot
#: fire. Keys and identifiers, the strings most patterns judge, are this short; their search
#: then costs 0.15 us instead of 1.5.
UNTIMED_LENGTH = 256
#: The location pydantic v1 gives a dict key.
KEY_LOCATION = "__key__"
MISSING_FIELD = "field required"

Rank = tuple[tuple[int, int], ...]
_KEY, _VALUE = 0, 1


def rank(error: ValidationError) -> Rank:
    """Where an error stands in the server's reporting order (smaller comes first)."""
    return getattr(error, "rank", ())


def _ranked(errors: Iterable[ValidationError], step: tuple[int, int]) -> Iterator[ValidationError]:
    for error in errors:
        error.rank = (step, *rank(error))
        yield error


# -- types -------------------------------------------------------------------------------------

_BOOLEAN_WORDS = frozenset({0, 1, "0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y",
                            "yes"})


def _coerces_to_string(value: object) -> bool:
    return isinstance(value, (str, int, float))


def _coerces_to_integer(value: object) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            int(value)
        except ValueError:
            return False
        return True
    return False


def _coerces_to_number(value: object) -> bool:
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _coerces_to_boolean(value: object) -> bool:
    if isinstance(value, str):
        value = value.lower()
    try:
        return value in _BOOLEAN_WORDS
    except TypeError:  # unhashable: a dict or a list
        return False


def _coerces_to_object(value: object) -> bool:
    if isinstance(value, dict):
        return True
    try:
        dict(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    return True


_TYPES: Mapping[str, tuple[Any, str]] = {
    "string": (_coerces_to_string, "str type expected"),
    "integer": (_coerces_to_integer, "value is not a valid integer"),
    "number": (_coerces_to_number, "value is not a valid float"),
    "boolean": (_coerces_to_boolean, "value could not be parsed to a boolean"),
    "object": (_coerces_to_object, "value is not a valid dict"),
    "array": (lambda value: isinstance(value, list), "value is not a valid list"),
}


def type_(validator: Any, types: str | list[str], instance: Any, schema: Any) -> Iterator[Any]:
    names = (types,) if isinstance(types, str) else types
    if instance is None:
        if "null" not in names:
            yield ValidationError("none is not an allowed value")
        return
    refusal = None  # the first type's message, if no type accepts the value
    for name in names:
        if name != "null":
            accepts, message = _TYPES[name]
            if accepts(instance):
                return
            refusal = refusal or message
    if refusal is not None:
        yield ValidationError(refusal)


# -- strings -----------------------------------------------------------------------------------


@cache
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern, flags=regex.VERSION0)


def pattern(validator: Any, checked: str, instance: Any, schema: Any) -> Iterator[Any]:
    # Where the docs print several variants, the schema checks a lenient union of them and
    # names the one the message prints in "x-pattern-printed".
    if not isinstance(instance, str):
        return
    if len(instance) <= UNTIMED_LENGTH:
        matched = _compiled(checked).search(instance)
    else:
        try:
            matched = _compiled(checked).search(instance, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            return
    if matched is None:
        printed = schema.get("x-pattern-printed", checked)
        yield ValidationError(f"string does not match regex {printed}")


def max_length(validator: Any, limit: int, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, str) and len(instance) > limit:
        yield ValidationError(f"ensure this value has at most {limit} characters")


def min_length(validator: Any, limit: int, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, str) and len(instance) < limit:
        yield ValidationError(f"ensure this value has at least {limit} characters")


_UUID = regex.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", flags=regex.VERSION0)


def format_(validator: Any, name: str, instance: Any, schema: Any) -> Iterator[Any]:
    # "uuid" is the only format the catalogue uses. The docs call the UUIDs "version 4" but
    # print examples that are not, so any 8-4-4-4-12 hex string passes.
    if name == "uuid" and isinstance(instance, str) and not _UUID.fullmatch(instance):
        yield ValidationError("value is not a valid uuid")


# -- numbers -----------------------------------------------------------------------------------


def _as_number(value: object) -> float | None:
    """The number pydantic would compare with a bound: numbers, and numeric strings (a query
    parameter is always a string); ``None`` for what the type check judges instead."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def maximum(validator: Any, limit: float, instance: Any, schema: Any) -> Iterator[Any]:
    number = _as_number(instance)
    if number is not None and number > limit:
        yield ValidationError(f"ensure this value is less than or equal to {limit}")


def minimum(validator: Any, limit: float, instance: Any, schema: Any) -> Iterator[Any]:
    number = _as_number(instance)
    if number is not None and number < limit:
        yield ValidationError(f"ensure this value is greater than or equal to {limit}")


# -- choices -----------------------------------------------------------------------------------


def _same(left: object, right: object) -> bool:
    # JSON equality: 1 equals 1.0, but true is not 1.
    return isinstance(left, bool) is isinstance(right, bool) and left == right


def _permitted(values: Iterable[object]) -> str:
    return ", ".join(repr(value) for value in values)


def enum(validator: Any, values: list[Any], instance: Any, schema: Any) -> Iterator[Any]:
    if not any(_same(instance, value) for value in values):
        yield ValidationError(
            f"value is not a valid enumeration member; permitted: {_permitted(values)}")


def const(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not _same(instance, value):
        yield ValidationError(f"unexpected value; permitted: {_permitted([value])}")


# -- containers --------------------------------------------------------------------------------


def _declared(schema: Mapping[str, Any]) -> list[str]:
    return list(schema.get("properties", ()))


def properties(validator: Any, declared: dict[str, Any], instance: Any, schema: Any
               ) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    required = schema.get("required", ())
    for position, (name, subschema) in enumerate(declared.items()):
        if name not in instance:
            continue
        value = instance[name]
        # Proven by the fast engine; or, in pydantic v1, a field with a default of None is
        # Optional.
        if value is PROVEN or (value is None and name not in required):
            continue
        yield from _ranked(
            validator.descend(value, subschema, path=name, schema_path=name),
            (position, _VALUE))


def required(validator: Any, names: list[str], instance: Any, schema: Any) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    declared = _declared(schema)
    for index, name in enumerate(names):
        if name not in instance:
            error = ValidationError(MISSING_FIELD, path=(name,))
            position = declared.index(name) if name in declared else len(declared) + index
            error.rank = ((position, _KEY),)
            yield error


def property_names(validator: Any, names_schema: Any, instance: Any, schema: Any
                   ) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    offset = len(_declared(schema))
    for index, key in enumerate(instance):
        yield from _ranked(validator.descend(key, names_schema, path=KEY_LOCATION),
                           (offset + index, _KEY))


def additional_properties(validator: Any, extra: Any, instance: Any, schema: Any
                          ) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    declared = _declared(schema)
    offset = len(declared)
    for index, (key, value) in enumerate(instance.items()):
        if key in declared:
            continue
        step = (offset + index, _VALUE)
        if extra is False:
            error = ValidationError("extra fields not permitted", path=(key,))
            error.rank = (step,)
            yield error
        elif isinstance(extra, dict) and value is not PROVEN:
            yield from _ranked(validator.descend(value, extra, path=key), step)


def items(validator: Any, item_schema: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not isinstance(instance, list) or not isinstance(item_schema, dict):
        return
    for index, item in enumerate(instance):
        if item is not PROVEN:
            yield from _ranked(validator.descend(item, item_schema, path=index),
                               (index, _VALUE))


def max_items(validator: Any, limit: int, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, list) and len(instance) > limit:
        yield ValidationError(f"ensure this value has at most {limit} items")


def min_items(validator: Any, limit: int, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, list) and len(instance) < limit:
        yield ValidationError(f"ensure this value has at least {limit} items")


#: Each keyword's function, by the keyword's name.
KEYWORDS: Mapping[str, Callable[[Any, Any, Any, Any], Iterator[Any]]] = {
    "type": type_,
    "pattern": pattern,
    "maxLength": max_length,
    "minLength": min_length,
    "format": format_,
    "maximum": maximum,
    "minimum": minimum,
    "enum": enum,
    "const": const,
    "properties": properties,
    "required": required,
    "propertyNames": property_names,
    "additionalProperties": additional_properties,
    "items": items,
    "maxItems": max_items,
    "minItems": min_items,
}
