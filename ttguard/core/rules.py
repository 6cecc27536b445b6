"""The rules: how the Trusted Twin server judges one value by itself, and how it words a refusal.

The server validates requests with pydantic v1 models (its descriptions carry pydantic v1's
``__key__`` locations and messages), so each rule here follows pydantic v1 in two ways:

* **Wording**: messages are pydantic v1's (``str type expected``, ...), except ``string does
  not match regex <pattern>``, which the server prints without pydantic's quotes.
* **Leniency**: pydantic v1 coerces before it checks: a number is a valid ``str``, ``"12"`` a
  valid ``int``, ``"yes"`` a valid ``bool``, anything ``dict()`` accepts a valid ``dict``. A
  type check refuses only what pydantic v1 refuses; the checks that follow it judge the value
  pydantic made: a string's pattern and length the ``str()`` of a number or boolean
  (:func:`checked_text`), bounds the value of a numeric string, an object's fields and keys
  what ``dict()`` read (:func:`as_object`). A ``UUID`` (``format: uuid``) or an ``Enum``
  (``enum``) is no ``str`` to pydantic: it coerces nothing to one, and its rule words the
  refusal of any other value.

``pattern`` is JSON Schema's unanchored search, anchored only as printed, with Python's regex
syntax (``$`` also matches before a final newline), run by the ``regex`` package, with a
timeout on strings of over :data:`UNTIMED_LENGTH` characters. pydantic v1 matches at the start
(``re.match``), pydantic v2 searches with Rust's ``regex`` (whose ``$`` is the end only); a
Python search accepts everything either accepts. A search that times out accepts, since only the
server can then decide.

Each rule is a keyword that judges a value by itself, with the signature ``(keyword's value,
instance, schema)``; it returns the message of its refusal, or ``None``. Both engines apply
them: the reference as jsonschema keywords (:mod:`ttguard.core.keywords`, which adds the
container keywords and the server's order), the fast engine's walk directly
(:mod:`ttguard.core.fast_refusal`). Neither imports jsonschema here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sized
from functools import cache
from typing import Any
from uuid import UUID

import regex

__all__ = ["EXTRA_FIELD", "KEY_LOCATION", "MISSING_FIELD", "NOT_NONE", "REGEX_TIMEOUT", "RULES",
           "UNTIMED_LENGTH", "Rule", "as_object", "checked_text", "mismatch", "one_type",
           "one_type_test", "plain_types"]

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
#: pydantic's refusal of ``None`` for any field that is not Optional, before its type is asked.
NOT_NONE = "none is not an allowed value"
EXTRA_FIELD = "extra fields not permitted"
#: A rule: the message of its keyword's refusal of an instance, given the keyword's value and
#: the schema it sits in, or ``None``.
Rule = Callable[[Any, Any, Mapping[str, Any]], "str | None"]


# -- types -------------------------------------------------------------------------------------

_BOOLEAN_WORDS = frozenset({0, 1, "0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y",
                            "yes"})


def _coerces_to_string(value: object) -> bool:
    return isinstance(value, (str, int, float))


#: Every ASCII character ``int()`` or ``float()`` may read in a numeral: digits, signs, point,
#: exponent, underscore, the letters of "infinity" and "nan", whitespace. An ASCII string with
#: any other is no numeral, known without a conversion that fails (its exception costs 0.5 us,
#: on every refusal of such a value).
_NUMERAL_CHARACTERS = frozenset("0123456789+-._eEinfatyINFATY"
                                + "".join(char for char in map(chr, range(128)) if char.isspace()))


def _may_be_numeral(text: str) -> bool:
    # A set's test of the characters costs a third of a translation's (0.1 us against 0.3 on
    # a short word): every refusal of a numeric field's text pays it.
    return not text.isascii() or _NUMERAL_CHARACTERS.issuperset(text)


def _reads(convert: Callable[[str], object], text: str) -> bool:
    """Whether ``convert`` (``int`` or ``float``) reads ``text`` as a numeral."""
    if not _may_be_numeral(text):
        return False
    try:
        convert(text)
    except ValueError:
        return False
    return True


def _coerces_to_integer(value: object) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and _reads(int, value)


def _coerces_to_number(value: object) -> bool:
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and _reads(float, value)


def _coerces_to_boolean(value: object) -> bool:
    if isinstance(value, str):
        value = value.lower()
    try:
        return value in _BOOLEAN_WORDS
    except TypeError:  # unhashable: a dict or a list
        return False


def _read_by_dict(value: object) -> dict[Any, Any] | None:
    """What ``dict()`` reads of ``value``, or None where it refuses it."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return None if value else {}  # dict() takes each character for a pair: only "" passes
    if value is None or isinstance(value, (int, float)):
        return None  # dict() refuses them, with an exception that costs 0.5 us
    try:
        return dict(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return None


def _coerces_to_object(value: object) -> bool:
    return _read_by_dict(value) is not None


def as_object(instance: Any, schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The dict whose fields and keys pydantic v1 checks for ``instance`` where ``schema`` is of
    an object (``"type": "object"``), or None where there is none to check.

    A dict is itself. Any other value that ``dict()`` reads (a list of pairs, ``""``, a list of
    two-character strings) pydantic reads so and then checks as that dict: ``[]`` for a body
    with a required field is that field missing. A read with a key that is not a string (the
    pair ``[1, "x"]``) is None, which checks nothing, the lenient choice: given one, a model
    raises ``TypeError`` (keywords must be strings), no validation error, so only the server
    knows its answer.
    """
    if isinstance(instance, dict):
        return instance
    read = _read_by_dict(instance) if schema.get("type") == "object" else None
    return read if read is not None and all(isinstance(key, str) for key in read) else None


_TYPES: Mapping[str, tuple[Any, str]] = {
    "string": (_coerces_to_string, "str type expected"),
    "integer": (_coerces_to_integer, "value is not a valid integer"),
    "number": (_coerces_to_number, "value is not a valid float"),
    "boolean": (_coerces_to_boolean, "value could not be parsed to a boolean"),
    "object": (_coerces_to_object, "value is not a valid dict"),
    "array": (lambda value: isinstance(value, list), "value is not a valid list"),
}


#: The Python types each JSON type takes as they are, with nothing to coerce: the common case,
#: judged without the coercions.
_PLAIN: Mapping[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}


def plain_types(types: str | list[str]) -> tuple[type, ...]:
    """The Python types whose values ``type_`` accepts for ``types`` as they are (none for a
    list of types): a caller that sees one need not call the rule."""
    return _PLAIN.get(types, ()) if isinstance(types, str) else ()


def _typed_otherwise(schema: Mapping[str, Any]) -> bool:
    """Whether a string's schema is of a field whose pydantic type is not ``str``: a ``UUID``
    (``format: uuid``), an ``Enum`` (``enum``). pydantic coerces nothing to one, and refuses
    any other value in that type's words, which its rule (``format``, ``enum``) gives."""
    return schema.get("format") == "uuid" or "enum" in schema


def type_(types: str | list[str], instance: Any, schema: Any) -> str | None:
    if isinstance(types, str):
        if types == "null":
            return None  # "null" alone names no type whose test refuses, as in a list below
        if type(instance) in _PLAIN[types]:
            return None
        return one_type(one_type_test(types, schema), instance, schema)
    if instance is None:
        return None if "null" in types else NOT_NONE
    refusal = None  # the first type's message, if no type accepts the value
    for name in types:
        if name != "null":
            accepts, message = _TYPES[name]
            if accepts(instance):
                return None
            refusal = refusal or message
    return refusal


def one_type_test(name: str, schema: Mapping[str, Any]) -> tuple[Callable[[object], bool], str]:
    """What ``type_`` asks of a value where ``schema`` is of the one JSON type ``name`` (not
    ``"null"``): its test of the value, and its message. A walk that knows its schema makes it
    once (:func:`one_type`: 0.2 us less a refusal than ``type_``)."""
    if name == "string" and _typed_otherwise(schema):
        return _any_value, ""
    return _TYPES[name]


def _any_value(value: object) -> bool:
    return True


def one_type(test: tuple[Callable[[object], bool], str], instance: Any,
             schema: Any) -> str | None:
    """The ``type`` rule of a schema of one JSON type, ``test`` being :func:`one_type_test`'s.
    A walk writes these two lines out where it applies the rule
    (:meth:`ttguard.core.fast_refusal._Source.rule_lines`)."""
    if instance is None:
        return NOT_NONE
    accepts, message = test
    return None if accepts(instance) else message


# -- strings -----------------------------------------------------------------------------------


@cache
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern, flags=regex.VERSION0)


def checked_text(instance: Any, schema: Mapping[str, Any]) -> str | None:
    """The text whose pattern and length pydantic v1 checks: a string; where a string is
    expected (``"type": "string"``), a number or a boolean made one by ``str()``, as its
    ``str_validator`` does (``30`` for a history is ``"30"``, refused by its pattern); else
    None, a value those checks do not judge."""
    if isinstance(instance, str):
        return instance
    if isinstance(instance, (int, float)) and schema.get("type") == "string":
        return str(instance)
    return None


def pattern(checked: str, instance: Any, schema: Any) -> str | None:
    # Where the docs print several variants, the schema checks a lenient union of them and
    # names the one the message prints in "x-pattern-printed".
    instance = checked_text(instance, schema)
    if instance is None:
        return None
    if len(instance) <= UNTIMED_LENGTH:
        matched = _compiled(checked).search(instance)
    else:
        try:
            matched = _compiled(checked).search(instance, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            return None
    return None if matched is not None else mismatch(checked, schema)


def mismatch(checked: str, schema: Mapping[str, Any]) -> str:
    """The message of a string that ``pattern`` refuses, ``checked`` being the pattern."""
    return f"string does not match regex {schema.get('x-pattern-printed', checked)}"


_UUID = regex.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", flags=regex.VERSION0)


def _reads_as_uuid(text: str) -> bool:
    """Whether pydantic v1's ``UUID`` takes ``text``: whether ``uuid.UUID()`` reads it. That is
    more than the usual 8-4-4-4-12 spelling: 32 hex digits without hyphens (``uuid4().hex``),
    in braces, after ``urn:uuid:``, hyphens anywhere."""
    if _UUID.fullmatch(text):  # the usual spelling, without the exception a miss costs
        return True
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def format_(name: str, instance: Any, schema: Any) -> str | None:
    # "uuid" is the only format the catalogue uses: pydantic's UUID, with no version check (the
    # docs call the UUIDs "version 4" but print examples that are not). It takes a string only
    # (None is the type's to judge).
    if name == "uuid" and instance is not None and not (
            isinstance(instance, str) and _reads_as_uuid(instance)):
        return "value is not a valid uuid"
    return None


# -- numbers -----------------------------------------------------------------------------------


def _as_number(value: object) -> float | None:
    """The number pydantic would compare with a bound: numbers, and numeric strings (a query
    parameter is always a string); ``None`` for what the type check judges instead."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _may_be_numeral(value):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def maximum(limit: float, instance: Any, schema: Any) -> str | None:
    number = _as_number(instance)
    if number is not None and number > limit:
        return f"ensure this value is less than or equal to {limit}"
    return None


def minimum(limit: float, instance: Any, schema: Any) -> str | None:
    number = _as_number(instance)
    if number is not None and number < limit:
        return f"ensure this value is greater than or equal to {limit}"
    return None


# -- choices -----------------------------------------------------------------------------------


def _same(left: object, right: object) -> bool:
    # JSON equality: 1 equals 1.0, but true is not 1.
    return isinstance(left, bool) is isinstance(right, bool) and left == right


def _permitted(values: Iterable[object]) -> str:
    return ", ".join(repr(value) for value in values)


def enum(values: list[Any], instance: Any, schema: Any) -> str | None:
    if any(_same(instance, value) for value in values):
        return None
    if instance is None:  # where no type said so first
        return NOT_NONE
    return f"value is not a valid enumeration member; permitted: {_permitted(values)}"


def const(value: Any, instance: Any, schema: Any) -> str | None:
    if _same(instance, value):
        return None
    if instance is None:
        return NOT_NONE
    return f"unexpected value; permitted: {_permitted([value])}"


# -- lengths -----------------------------------------------------------------------------------


def _a_list(instance: Any, schema: Any) -> list[Any] | None:
    return instance if isinstance(instance, list) else None


#: What a length rule counts in an instance (given its schema), or None where it counts nothing.
Measured = Callable[[Any, Any], "Sized | None"]


def _at_most(measured: Measured, counted: str) -> Rule:
    """The rule of a maximum length (``maxLength``, ``maxItems``) of what ``measured`` gives."""
    def rule(limit: int, instance: Any, schema: Any) -> str | None:
        value = measured(instance, schema)
        if value is not None and len(value) > limit:
            return f"ensure this value has at most {limit} {counted}"
        return None
    return rule


def _at_least(measured: Measured, counted: str) -> Rule:
    """The rule of a minimum length (``minLength``, ``minItems``) of what ``measured`` gives."""
    def rule(limit: int, instance: Any, schema: Any) -> str | None:
        value = measured(instance, schema)
        if value is not None and len(value) < limit:
            return f"ensure this value has at least {limit} {counted}"
        return None
    return rule


#: The keywords that judge a value by itself, each by its rule. An error a rule reports stands
#: at the value, before any error below it in the server's order.
RULES: Mapping[str, Rule] = {
    "type": type_,
    "pattern": pattern,
    "maxLength": _at_most(checked_text, "characters"),
    "minLength": _at_least(checked_text, "characters"),
    "format": format_,
    "maximum": maximum,
    "minimum": minimum,
    "enum": enum,
    "const": const,
    "maxItems": _at_most(_a_list, "items"),
    "minItems": _at_least(_a_list, "items"),
}
