"""The fast engine: proves requests valid at parse speed.

Most requests are valid, and proving it should cost about what parsing costs; a refused one
should cost little more. So the core asks this engine first: ``orjson`` parses the body and
``jsonschema-rs`` (compiled, in Rust) checks the request against a *lenient* reading of the
operation's schema, one that accepts only what the reference (:mod:`ttguard.core.reference`)
accepts, written in plain JSON Schema:

* **pydantic v1's coercions spelled out.** Where a string is expected a number or a boolean also
  passes (but for a string with a ``pattern``, a length or a ``format``, which pydantic checks
  on the number's ``str()`` or refuses it for: there only a string passes); where an integer
  is, a number, a boolean or a string of decimal digits; where a number is, a number, a boolean
  or a decimal numeral; where a boolean is, ``0``, ``1`` and the words pydantic reads as
  booleans (``"yes"``, ``"off"``, any case). Each is a subset of what
  :mod:`ttguard.core.rules` accepts, expressed with keywords that apply to one JSON type only
  (``pattern`` to strings, ``minimum`` to numbers), so the schema's own checks keep theirs.
  Under a bound (``minimum``/``maximum``) the reference compares a numeric string's value,
  which JSON Schema cannot: there a string passes only as the decimal numeral of an integer
  within the bounds, spelled out as a regex of the range (a query's ``count=100`` is a string).
* **An optional property may be** ``null``, as the reference skips it.
* ``format: uuid`` becomes the pattern of its usual 8-4-4-4-12 spelling (the reference also
  takes the others ``uuid.UUID()`` reads, as pydantic does); patterns are the catalogue's, run
  by Rust's ``regex``, whose classes are those printed: it accepts a subset of what a Python
  search accepts. Rust's
  ``$`` is the end only, Python's also matches before a final newline, so the final ``$`` of
  each alternative is spelled as Python reads it (:func:`_python_end`); any other keeps Rust's
  reading.
  Each is searched as ``^(?s:.)*?(?:pattern)``, the same search (any characters, then the
  pattern), which Rust runs faster than the unanchored pattern; one anchored in each of its
  alternatives, as it is (:func:`_rust_search`).

A schema with a keyword this reading does not know has no fast engine: the reference judges it.

Operations:

* :func:`fast_parse`: the JSON value of a body, exactly as ``json.loads`` gives it;
  ``NOT_JSON`` for one it refuses (found by the parser's syntax error, where ``json.loads``
  reads nothing more than the standard); ``NOT_UTF8``; or ``NOT_PROVEN``. Both parsers it uses
  accept a subset of what ``json.loads`` accepts (no ``NaN``, no byte order mark) and return
  the same value. A body of ASCII with few escapes goes to ``msgspec``, which reads integers of
  any length exactly as ``json.loads`` does (up to the interpreter's digit limit), and floats
  with ``float``, as ``json.loads`` does. Any other body goes to ``orjson``, which is faster on
  escapes and non-ASCII text but turns integers outside 64 bits into floats: there a body with
  an integer of 19 or more digits is not proven.
* :func:`lenient_schema`: the lenient reading of a schema, for any node of it (the walk of
  :mod:`ttguard.core.fast_refusal` compiles one for each node it may prove, its root among
  them: the proof of a request, whatever its size);
* :func:`rust_validator`: Rust's validator of a lenient schema, spelled as Rust checks it
  fastest. (Until the fourteenth round of issue 12 a body of 16 kB and more was proven by a
  split proof, Rust's pass without the object keywords and a Python walk of those, because
  Rust read a collection's keys in a pass of their own; spelled as ``patternProperties``, one
  pass costs less at every size: 64 kB of identities, 131 us against 154; 256 kB, 288 against
  337.)

A request the fast engine does not prove, whatever its size, is walked for its first error
(:mod:`ttguard.core.fast_refusal`), which stops there: a body with an error in each of its
thousand entries costs what a body with one does. (Until it was walked, a large refused request
was narrowed to its failing values for the reference: a 50 kB body with 1 200 bad entries took
57 times its parse.)

``tests/test_fast_engine.py`` checks the lenient reading and the parsers against the reference
and against each other, on requests generated from the catalogue's schemas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec
import orjson

from .catalogue import ANNOTATIONS, TEXT_KEYWORDS
from .patterns import tokens

__all__ = [
    "NOT_JSON",
    "NOT_PROVEN",
    "NOT_UTF8",
    "UnknownKeyword",
    "exact_pattern",
    "fast_parse",
    "lenient_schema",
    "readable_text",
    "rust_validator",
]

#: What :func:`fast_parse` returns when it cannot vouch for a value.
NOT_PROVEN: Final = object()
#: What :func:`fast_parse` returns for a body that ``json.loads`` refuses, once it is UTF-8.
NOT_JSON: Final = object()
#: What :func:`fast_parse` returns for a body that is not UTF-8.
NOT_UTF8: Final = object()
# orjson parses integers outside int64 and uint64 as floats; -2**63 - 1 has 19 digits. Such an
# integer is a run of 19 digits after a character that may precede a number (`:[, -` and JSON
# whitespace). It is found by marking digits and those characters and searching the marks: one
# pass in C, whatever the body (a regex search took from 0.1x to 1x of a parse). Digits in text
# such as "RFID#0000..." are not marked as a number; in ": 0000..." within a string they are,
# which only sends that body the exact way. The marks are searched from the end: CPython's
# reverse search skips well on runs of marks, where the forward one took 0.2x of a parse on
# identities keys padded with zeros, and 0.6x on a list of zeros (0.01x and 0.02x backwards;
# at worst, a body of 18-digit numbers, 0.1x).
_MARKS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x3A if byte in b":[, \t\n\r-" else 0x20
               for byte in range(256))
_LONG_INTEGER = b":" + b"0" * 19
# msgspec's own reading of a float is exact, but a literal near the limits of a double (1e+308,
# 5e-324) takes it 5 to 9 us, 40 times what json.loads pays: 64 kB of them took 70 ms. Read by
# ``float``, as json.loads reads them, each costs what json.loads pays (a common float, 0.03 us
# more than msgspec's reading).
_MSGSPEC: Final = msgspec.json.Decoder(float_hook=float)

# -- the lenient schema ------------------------------------------------------------------------

_UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Strings `int()` and `float()` read, kept short of the interpreter's int-string digit limit:
# a sign, decimal digits with single underscores between them (PEP 515), `float()`'s words in
# any case, whitespace around. Without the whitespace, underscores and words, each such value
# failed Rust's pass and was walked: 1 000 identities with "validity_ts": " 1" cost 10x a parse
# (now 1.0x); with ASCII digits only, 64 kB of them in Arabic-Indic digits cost 8.6x.
#: The first of each run of ten decimal digits (Unicode category Nd, 0 to 9), which int() and
#: float() read in any script (Unicode 14, Python 3.11; a later Python reads more, which the
#: walk then judges).
_DIGIT_ZEROS = (
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0)
_DIGIT = "[" + "".join(f"{chr(zero)}-{chr(zero + 9)}" for zero in _DIGIT_ZEROS) + "]"
#: The whitespace int() and float() strip: str.isspace() but for U+001C to U+001F, which
#: they refuse.
_BLANK = ("[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
          "\\u205f\\u3000]*")
_DIGITS = f"{_DIGIT}(?:_?{_DIGIT})*"
_INTEGER_TEXT = f"{_BLANK}[+-]?{_DIGIT}(?:_?{_DIGIT}){{0,99}}{_BLANK}"
_NUMBER_TEXT = (f"{_BLANK}[+-]?(?:(?:{_DIGITS}(?:\\.(?:{_DIGITS})?)?|\\.{_DIGITS})"
                f"(?:[eE][+-]?{_DIGITS})?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
                f"{_BLANK}")
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


class UnknownKeyword(ValueError):
    """A keyword the lenient reading cannot vouch for."""


Bounds = tuple[float | None, float | None]
#: Integers a float holds exactly. The reference compares float(text) with a bound: a numeral
#: within a larger bound may round past it.
_EXACT_FLOATS = 2**53
#: Leading zeros a numeral within bounds may have; with its digits, short of the interpreter's
#: int-string digit limit, as in _INTEGER_TEXT.
_ZEROS = "0{0,50}"


def _numerals_between(low: int, high: int | None) -> str:
    """A regex of the decimal numerals, without sign or leading zero, of the integers from
    ``low`` (at least 1) to ``high`` (``None``: no end).

    The range is cut into runs that share their leading digits and end in a digit range then
    free digits (1-9, 10-99, 100-999, ... for 1 to 999; 1000-1000 is "100[0-0]"), each one
    alternative: a few for each decimal order of the range.
    """
    alternatives = []
    if high is None:
        width = len(str(low))
        alternatives.append(f"[1-9][0-9]{{{width},48}}")
        high = 10 ** width - 1
    while low <= high:
        step = 1  # the free digits' place value: low is a multiple of it
        while low % (step * 10) == 0 and low + step * 10 - 1 <= high:
            step *= 10
        head, digit = divmod(low // step, 10)
        count = 1
        while digit + count <= 9 and low + (count + 1) * step - 1 <= high:
            count += 1
        free = len(str(step)) - 1
        alternatives.append(f"{head or ''}[{digit}-{digit + count - 1}]" + "[0-9]" * free)
        low += count * step
    return "|".join(alternatives)


def _integer_text_within(minimum: float | None, maximum: float | None) -> str:
    """A regex of the strings ``int()`` reads as an integer within the bounds (``None``: none),
    in the plain forms: an optional sign, leading zeros, digits."""
    low = None if minimum is None else math.ceil(minimum)
    high = None if maximum is None else math.floor(maximum)
    alternatives = []
    if (low is None or low <= 0) and (high is None or high >= 0):
        alternatives.append("[+-]?0{1,51}")
    positive_low = 1 if low is None else max(low, 1)
    if high is None or positive_low <= high:
        alternatives.append(f"\\+?{_ZEROS}(?:{_numerals_between(positive_low, high)})")
    # The negative ones, by their magnitudes.
    negative_low = 1 if high is None else max(-high, 1)
    negative_high = None if low is None else -low
    if negative_high is None or negative_low <= negative_high:
        alternatives.append(f"-{_ZEROS}(?:{_numerals_between(negative_low, negative_high)})")
    return f"^(?:{'|'.join(alternatives)})$" if alternatives else "[^\\s\\S]"


def _lenient_type(types: str | list[str], bounds: Bounds | None
                  ) -> tuple[list[str], list[Any]]:
    """The JSON types a declared ``type`` accepts, and the restrictions on some of them."""
    coercions = [_COERCIONS[name] for name in ([types] if isinstance(types, str) else types)]
    json_types = sorted({json_type for coercion in coercions for json_type in coercion.json_types})
    # Each restriction applies to one JSON type only, so a list of them reads as their union.
    restrictions: list[Any] = []
    texts = [coercion.strings for coercion in coercions if "string" in coercion.json_types]
    if bounds is not None:
        # The reference bounds a numeric string by its value: only integers' numerals within
        # the bounds are spelled out here; other strings are left to it.
        if texts and all(text == _INTEGER_TEXT for text in texts) and all(
                bound is None or abs(bound) <= _EXACT_FLOATS for bound in bounds):
            restrictions.append({"pattern": _integer_text_within(*bounds)})
        else:
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


def _branches(pattern: str) -> list[str]:
    """The alternatives of ``pattern`` at its top level: split at each ``|`` outside a group, a
    class and an escape."""
    branches, start, depth = [], 0, 0
    for token in tokens(pattern):
        if token.in_class:
            continue
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif token.text == "|" and depth == 0:
            branches.append(pattern[start:token.at])
            start = token.at + 1
    return [*branches, pattern[start:]]


def _python_end(pattern: str) -> str:
    r"""``pattern`` with the final ``$`` of each top-level alternative spelled for Rust as Python
    reads it: the end, or before a newline that ends the string (``\n?\z``).

    Else a key such as ``"abc\n"``, which Python's ``^[a-z_]...$`` accepts (and pydantic v1's
    ``re.match``), fails every Rust pass, and the reference judges such a body key by key:
    3 000 of them took 10 ms, 40 times the same body without the newlines. A ``$`` that more
    of its alternative follows keeps Rust's reading, which accepts less: consuming the newline
    could let what follows match where Python's would not.
    """
    spelled = []
    for branch in _branches(pattern):
        last = list(tokens(branch))[-1:]
        if last and last[0] == (len(branch) - 1, "$", False):
            branch = branch[:-1] + r"(?:\n?\z)"
        spelled.append(branch)
    return "|".join(spelled)


#: The syntax both engines read alike: ASCII literals and escaped punctuation, ``.``, groups,
#: alternation, greedy and lazy quantifiers, ``^``, ``$``, and classes of ASCII members, none
#: negated. Left out: ``\d``, ``\w``, ``\s`` and ``\b`` (Unicode's tables differ between
#: Python's and Rust's), flags, lookarounds, backreferences, ``{,n}``, non-ASCII literals, and in
#: a class ``[``, ``&``, ``~``, ``:`` and ``--`` (Rust reads nested classes and set operations
#: there, Python literals).
_SHARED_SYNTAX = re.compile(r"""(?:
      [A-Za-z0-9_\#\ =:@,/-]
    | \\[-./\#_=+*?()\[\]{}|^$\\]
    | [.^$|)] | \((?:\?:|(?!\?))
    | (?:[*+?]|\{[0-9]+(?:,[0-9]*)?\})\??
    | \[-?(?:[A-Za-z0-9](?:-[A-Za-z0-9])?|[_\ =+\#./@,]|\\[-./\]\\])+-?\]
    )*""", re.VERBOSE)


def exact_pattern(pattern: str) -> str | None:
    """``pattern`` as the lenient schema spells it for Rust, where Rust's search then accepts
    exactly the strings Python's accepts; None where it may accept fewer.

    Python's and Rust's regex engines read alike what :data:`_SHARED_SYNTAX` allows, but for
    ``$``, spelled as Python reads it only at the end of a top-level alternative
    (:func:`_python_end`): a ``$`` anywhere else keeps Rust's reading. That syntax tells no two
    characters outside ASCII apart, so one may stand in for another: U+FFFD for a lone
    surrogate, which Rust cannot read. Rust runs the search in linear time: 0.1 us for a key
    where Python's ``regex`` takes 0.4 us, 85 us for 60 kB where it takes 1 to 7 ms.
    ``tests/test_fast_engine.py`` checks the equality on every catalogue pattern, and on
    patterns generated in that syntax.
    """
    if _SHARED_SYNTAX.fullmatch(pattern) is None:
        return None
    for branch in _branches(pattern):
        ends = [token.at for token in tokens(branch) if token == (token.at, "$", False)]
        if ends and ends != [len(branch) - 1]:
            return None
    return _rust_search(pattern)


def _rust_search(pattern: str) -> str:
    """Python's search for ``pattern``, spelled for Rust.

    A pattern whose every alternative starts with ``^`` stays as it is: Rust stops where it
    fails (a 60 kB string refused in 0.08 us). Any other is spelled as a match from the start
    (any characters, then the pattern), which Rust's regex runs 10% to 25% faster than the
    unanchored pattern (the identities keys: 5.9 -> 4.3 us for 92 keys), and in linear time:
    spelled so, an anchored pattern took 85 us to refuse those 60 kB.
    """
    spelled = _python_end(pattern)
    if all(branch.startswith("^") for branch in _branches(pattern)):
        return spelled
    return f"^(?s:.)*?(?:{spelled})"


def lenient_schema(schema: Any) -> Any:
    """The schema read as the reference reads it (:mod:`ttguard.core.rules` and
    :mod:`ttguard.core.keywords`), in plain JSON Schema."""
    if not isinstance(schema, dict):
        return schema
    bounds: Bounds | None = ((schema.get("minimum"), schema.get("maximum"))
                             if "minimum" in schema or "maximum" in schema else None)
    if bounds is not None and "type" not in schema:
        raise UnknownKeyword("a bound without a type")  # it would bound numeric strings too
    lenient: dict[str, Any] = {}
    restrictions: list[Any] = []
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS:
            continue
        if keyword == "type":
            if value == "string" and not (TEXT_KEYWORDS | {"format"}).isdisjoint(schema):
                # pydantic checks these on the str() of a number or boolean, and its UUID
                # (format) takes neither: such a value is left to the reference's rules.
                lenient["type"] = ["string"]
                continue
            lenient["type"], restricted = _lenient_type(value, bounds)
            restrictions += restricted
        elif keyword == "properties":
            required = schema.get("required", ())
            lenient[keyword] = {name: lenient_schema(sub) if name in required
                                else _nullable(lenient_schema(sub)) for name, sub in value.items()}
        elif keyword in ("propertyNames", "additionalProperties", "items"):
            lenient[keyword] = lenient_schema(value)
        elif keyword == "pattern":
            lenient[keyword] = _rust_search(value)
        elif keyword == "format" and value == "uuid":
            restrictions.append({"pattern": _UUID_PATTERN})
        elif keyword in _AGREED:
            lenient[keyword] = value
        else:
            raise UnknownKeyword(keyword)
    if restrictions:
        lenient["allOf"] = restrictions
    return lenient


def rust_validator(schema: Any, formats: Mapping[str, Callable[[str], bool]] | None = None
                   ) -> Any:
    """Rust's validator of a lenient ``schema`` (``jsonschema_rs``), spelled as it checks it
    fastest (:func:`_rust_spelling`), its patterns run by Rust's ``regex`` crate; ``ValueError``
    for a schema it cannot compile. ``formats`` names the functions that judge a ``format`` of
    the schema's (a lenient schema has none of its own); any makes each pass dearer, though
    unused (about 0.4k instructions an entry of a collection).

    Not by ``fancy-regex``, jsonschema_rs's default, which matches ``a+b*a+`` against ``"a"``
    and ``a+(x[ab])*?a+`` against ``"ab"`` (jsonschema_rs 0.60.3): a lenient reading must
    accept only what Python accepts. The ``regex`` crate reads every pattern the lenient schema
    spells, as fast.
    """
    import jsonschema_rs  # 25 ms to import: paid by the first request checked, not on import

    schema = _rust_spelling(schema)
    if formats is None:
        return jsonschema_rs.validator_for(schema, pattern_options=jsonschema_rs.RegexOptions())
    return jsonschema_rs.validator_for(schema, pattern_options=jsonschema_rs.RegexOptions(),
                                       formats=dict(formats), validate_formats=True)


#: The keywords whose value is a schema, a mapping of names to schemas, a list of schemas.
_SUBSCHEMA = frozenset({"additionalProperties", "items", "propertyNames", "not", "if", "then",
                        "else", "contains"})
_SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties"})
_SUBSCHEMA_LISTS = frozenset({"prefixItems", "allOf", "anyOf", "oneOf"})


def _rust_spelling(schema: Any) -> Any:
    """``schema`` spelled as jsonschema_rs checks it fastest, accepting the same values.

    An object whose keys are held to a pattern, with no declared field (a collection: ledger
    entries, identities, a description), is spelled ``patternProperties`` (the pattern, over
    the values' schema) with ``additionalProperties: false``, not ``propertyNames`` beside
    ``additionalProperties``: a key either matches the pattern, and its value is held to the
    values' schema, or it fails, as before. jsonschema_rs reads ``propertyNames`` as a pass of
    its own over the keys, each made a value to check: 0.57k instructions a key more (the 1 kB
    identities body's ten: 24.0k against 17.4k; an accepted request costs 6k, 10%, less). Its
    one cost: a pass now checks each key beside its value, so one that stops at a refused value
    has checked the keys before it, where the old one had checked no key yet (the identities
    with a bad value last: 17.6k against 14.0k).
    """
    if not isinstance(schema, dict):
        return schema
    spelled: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in _SUBSCHEMA:
            spelled[keyword] = _rust_spelling(value)
        elif keyword in _SUBSCHEMA_MAPS:
            spelled[keyword] = {name: _rust_spelling(sub) for name, sub in value.items()}
        elif keyword in _SUBSCHEMA_LISTS:
            spelled[keyword] = [_rust_spelling(sub) for sub in value]
        else:
            spelled[keyword] = value
    names = spelled.get("propertyNames")
    if (isinstance(names, dict) and "pattern" in names and names.keys() <= {"type", "pattern"}
            and "string" in names.get("type", ["string"])  # a key is a string
            and not _SUBSCHEMA_MAPS & spelled.keys()
            and spelled.get("additionalProperties") is not False):
        del spelled["propertyNames"]
        spelled["patternProperties"] = {names["pattern"]: spelled.pop("additionalProperties", True)}
        spelled["additionalProperties"] = False
    return spelled


# -- operations --------------------------------------------------------------------------------


#: Backslashes (escapes) in the :data:`_ESCAPES_SAMPLE` bytes from the first one, past which a
#: body goes to orjson: 8 a kilobyte.
_FEW_ESCAPES = 2
_ESCAPES_SAMPLE = 256


def _few_escapes(body: bytes | bytearray) -> bool:
    """Whether ``body`` is ASCII with few escapes, which msgspec parses faster than orjson.

    msgspec reads an escape (``json.dumps`` writes each non-ASCII character as one) and
    non-ASCII text more slowly than orjson: Chinese text escaped 1.3x-1.6x slower. Without
    them it is 10% to 40% faster than orjson with the scan for long integers, which it does not
    need; with a few escapes it stays faster (measured crossover: 5 to 8 a kilobyte at 8 kB).
    The test reads memory in C: 0.4 us for 8 kB without escapes, 0.2 us more with some. The
    escapes are counted in a sample: ``bytes.count`` takes 0.4 ns a byte (a kilobyte's count
    was 0.6 us of a 1 kB ledger body's 2.4 us parse).
    """
    if not body.isascii():
        return False
    first = body.find(b"\\")
    return first < 0 or body.count(b"\\", first, first + _ESCAPES_SAMPLE) <= _FEW_ESCAPES


def fast_parse(body: bytes | bytearray) -> object:
    """The JSON value of a body, exactly as ``json.loads`` gives it after a UTF-8 decode;
    ``NOT_JSON`` for a body ``json.loads`` refuses, if it decodes; ``NOT_UTF8`` for one orjson
    found is not UTF-8; or ``NOT_PROVEN``.

    orjson refuses what is not UTF-8 (surrogates included), so a body it parses decodes too. A
    syntax error a parser finds settles the verdict (:func:`_syntax_error`): before, the exact
    path parsed a body cut short again, 2.0x to 2.2x ``json.loads`` at 1 kB. Any other refusal
    (a number out of a parser's range, nesting past its budget) leaves it to the exact path.
    """
    if _few_escapes(body):
        try:
            return _MSGSPEC.decode(body)
        except msgspec.ValidationError:  # a number past msgspec's range
            return NOT_PROVEN
        except msgspec.DecodeError as error:
            return _syntax_error(body, cut_short=str(error).startswith(_MSGSPEC_CUT_SHORT))
        except RecursionError:
            pass  # nesting past msgspec's budget and within orjson's: orjson reads it, as before
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        message = error.msg
    else:
        # Searched once orjson has read the body: a body it refuses is not searched.
        # bytearray.translate runs 1.4x faster than bytes.translate (18.9 against 26.4 us for
        # 64 kB of non-ASCII text, with the copy): a body in one piece comes as bytes.
        marks = (body if isinstance(body, bytearray) else bytearray(body)).translate(_MARKS)
        if marks.rfind(_LONG_INTEGER) >= 0 or marks.startswith(_LONG_INTEGER[1:]):
            return NOT_PROVEN
        return value
    if message.startswith(_ORJSON_NOT_UTF8):
        return NOT_UTF8  # found before any syntax: orjson checks the whole body first
    if message.startswith(_ORJSON_CUT_SHORT):
        return _syntax_error(body, cut_short=True)
    return (_syntax_error(body, cut_short=False) if message.startswith(_ORJSON_SYNTAX_ERRORS)
            else NOT_PROVEN)


#: How the parsers' messages begin for a body that ends before its value does.
_MSGSPEC_CUT_SHORT = "Input data was truncated"
_ORJSON_CUT_SHORT = "unexpected end of data"
#: How orjson's message begins for bytes that are not UTF-8 (its check is the standard's, as
#: Python's strict decoder's is).
_ORJSON_NOT_UTF8 = "str is not valid UTF-8"
#: How orjson's other messages for a syntax error begin. Its remaining refusals are of bytes
#: json.loads may read: a float past the largest double (as infinity), nesting past orjson's
#: limit, a byte order mark, a lone surrogate. An orjson whose messages read otherwise leaves
#: the verdict to the exact path.
_ORJSON_SYNTAX_ERRORS = (
    "unexpected character", "unexpected content after document", "trailing comma",
    "unexpected control character", "invalid escape", "no digit", "number with leading zero")
_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\n\r"


def _syntax_error(body: bytes | bytearray, *, cut_short: bool) -> object:
    """``NOT_JSON`` for a body msgspec or orjson refused for its syntax (``cut_short``: it
    ended first), unless ``json.loads``, which reads the same standard and more, may read it;
    then ``NOT_PROVEN``.

    What it reads more: a blank body (which ttguard reads as no body); the escape of a lone
    surrogate (msgspec may say such a string ends the body); ``NaN``, ``Infinity`` and
    ``-Infinity``; a byte order mark. A body cut short ran to its end without meeting the last
    two, which stop a parser where they stand; after another error each is searched in C
    (64 kB: up to 80 us, a third of the parse it saves).
    """
    if not body.strip(_JSON_WHITESPACE):
        return NOT_PROVEN
    escape = body.find(b"\\")  # memchr: a body of few escapes has none to search for a surrogate
    if escape >= 0 and _SURROGATE_ESCAPE_BYTES.search(body, escape) is not None:
        return NOT_PROVEN
    if not cut_short and (b"NaN" in body or b"Infinity" in body or body.startswith(_BOM)):
        return NOT_PROVEN
    return NOT_JSON


#: The escape of a surrogate: where it is not half of a pair, json.loads gives a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(_SURROGATE_ESCAPE.pattern.encode())


def readable_text(text: str) -> bool:
    """Whether the value ``json.loads`` gives for ``text`` reaches the Rust engine as it is.

    ``NaN`` and ``Infinity`` reach it as ``null``, which an optional field accepts whatever its
    type, while the reference refuses them as integers. A lone surrogate does not reach it at
    all: each pass over it raises. (msgspec and orjson parse a surrogate pair, so a text with
    one escaped comes here only with something else they refuse.)
    """
    return ("NaN" not in text and "Infinity" not in text
            and _SURROGATE_ESCAPE.search(text) is None)
