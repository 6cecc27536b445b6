"""The catalogue as an OpenAPI 3.1 document (``ttguard openapi``, ``ttguard serve --openapi``).

Trusted Twin publishes no OpenAPI. :func:`openapi_document` writes one from the catalogue: every
operation of ``schemas/operations.json`` once, with its path and query parameters, its request
body schema, and the error answers ttguard (and its gateway) can give it, each with the server's
error body and the subcodes that operation can get.

**Leniency spelled out.** ttguard judges as the server's pydantic v1 does (see
:mod:`ttguard.core.keywords`), which accepts more than the catalogue's schemas say when read by
the JSON Schema standard. The exported schemas say it in standard keywords, so that a standard
validator reading the document refuses no more than ttguard does:

* a body value is what pydantic coerces: a number or boolean for a ``string``; a number, a
  boolean or an integer-like string (``" ١٢ "``, ``"1_000"``; its bounds spelled in the pattern)
  for an ``integer``; a float-like string for a ``number``; ``0``, ``1`` and the words
  ``yes``/``off``/... for a ``boolean``; a list of pairs (or ``""``) for an ``object``;
* an optional body field may be ``null``;
* a path or query parameter is a string on the wire: its schema takes the typed value a client
  serialises (``5``, ``true``) or the string forms pydantic reads (``"+5"``, ``"Yes"``);
* ``pattern`` is rewritten from Python's syntax to ECMA 262's where the two differ: ``$`` becomes
  ``(?=\\n?(?![\\s\\S]))`` (Python's ``$`` also matches before a final newline), ``.`` becomes
  ``[^\\n]`` (ECMA's ``.`` also refuses ``\\r``, ``\\u2028``, ``\\u2029``). A pattern using what
  has no ECMA spelling (Python's Unicode ``\\d``, ``\\w``, ``\\s``, ``\\b``, flags...) is left
  out, which accepts more. ``x-ttguard-pattern`` keeps the pattern ttguard runs wherever the
  exported one differs.

Where an exact spelling is impossible, the export accepts more than ttguard (a superset), and
``x-ttguard`` (on the document, or on the schema concerned) says what ttguard checks beyond it:
the body quota, UTF-8, a regex timeout that accepts, bounds on a float-like string, the
fields and keys of an object sent as a list of pairs. The one exception is a UUID: its
pattern spells the forms clients write (8-4-4-4-12 or the 32 digits alone, in braces or not,
after ``urn:uuid:`` or not), and its ``x-ttguard`` names the rarer ones ttguard also takes.

Cost: one pass over each operation's schema; the document is built once per server URL.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from .core import DEFAULT_MAX_BODY, Subcode, operations
from .core.catalogue import TEXT_KEYWORDS, path_parameters, request_schema
from .core.patterns import tokens

__all__ = ["DEFAULT_SERVER", "body_schema", "ecma_pattern", "openapi_document",
           "operation_subcodes", "parameter_schema"]

DEFAULT_SERVER = "https://rest.trustedtwin.com"
OPENAPI_VERSION = "3.1.0"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Keywords rewritten with the schema's types (see _typed).
_TYPE_KEYWORDS = ("type", "pattern", "x-pattern-printed")
#: Keywords that mean the same to ttguard and to a standard validator (each applies to values
#: of one JSON type only, as ttguard's keyword functions do; ttguard's bounds also apply to
#: numeric strings, which only makes it stricter): copied as they are.
_COPIED = frozenset({"$comment", "title", "description", "enum", "const", "required",
                     "maxLength", "minLength", "maxItems", "minItems", "maximum", "minimum"})
#: Keywords whose value is a schema for what the value holds.
_NESTED = ("propertyNames", "additionalProperties", "items")
_BOUNDS = ("minimum", "maximum")

# -- character classes, as the running Python reads them ---------------------------------------

#: What ``int()`` and ``float()`` strip: ASCII's whitespace, and the ``str.isspace()``
#: characters above ASCII (none above U+3000), which CPython reads as a space; U+001C..U+001F,
#: whitespace to ``str.isspace()``, they refuse.
_WHITESPACE = " \t\n\v\f\r" + "".join(chr(code) for code in range(0x80, 0x3001)
                                     if chr(code).isspace())


def _class(characters: Iterable[str]) -> str:
    """A character class of ``characters``, as ranges of literal characters."""
    codes = sorted({ord(character) for character in characters})
    parts: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code == previous + 1:
            previous = code
            continue
        parts.append(_literal(start) if start == previous
                     else f"{_literal(start)}-{_literal(previous)}")
        start = previous = code
    return "[" + "".join(parts) + "]"


def _literal(code: int) -> str:
    character = chr(code)
    return "\\" + character if character in "\\]^-[" else character


@cache
def _digits(low: int = 0, high: int = 9) -> str:
    """The class of every Unicode decimal digit whose value is in ``[low, high]``: what
    ``int()`` and ``float()`` read as a digit."""
    return _class(chr(code) for code in range(0x110000)
                  if low <= unicodedata.decimal(chr(code), -1) <= high)


def _digit_run(count: int | None = None) -> str:
    """``count`` digits (any number, at least one, if ``None``), underscores between allowed."""
    digit = _digits()
    return f"{digit}(?:_?{digit})" + ("*" if count is None else f"{{{count - 1}}}")


def _same_length_range(low: str, high: str) -> str:
    """Digit strings of ``len(low)`` digits whose value is in ``[low, high]``, underscores
    allowed between digits."""
    if not low:
        return ""
    rest = len(low) - 1
    tail = "" if rest == 0 else "_?"
    if low[0] == high[0]:
        return _digits(int(low[0]), int(low[0])) + tail + _same_length_range(low[1:], high[1:])
    branches = [_digits(int(low[0]), int(low[0])) + tail
                + _same_length_range(low[1:], "9" * rest)]
    if int(high[0]) - int(low[0]) > 1:
        middle = _digits(int(low[0]) + 1, int(high[0]) - 1)
        branches.append(middle + ("" if rest == 0 else "_?" + _digit_run(rest)))
    branches.append(_digits(int(high[0]), int(high[0])) + tail
                    + _same_length_range("0" * rest, high[1:]))
    return "(?:" + "|".join(branches) + ")"


def _magnitudes(low: int, high: int | None) -> str:
    """The digit strings of a value in ``[low, high]`` (``low >= 0``; no upper bound if
    ``None``), leading zeros and underscores as ``int()`` takes them."""
    zeros = f"(?:{_digits(0, 0)}_?)*"
    branches = []
    if low == 0:
        branches.append(_digits(0, 0))
        low = 1
    if high is None or low <= high:
        top = len(str(low)) if high is None else len(str(high))
        for length in range(len(str(low)), top + 1):
            floor = max(low, 10 ** (length - 1))
            ceiling = 10 ** length - 1 if high is None else min(high, 10 ** length - 1)
            if floor <= ceiling:
                branches.append(_same_length_range(str(floor), str(ceiling)))
        if high is None:
            branches.append(_digits(1, 9) + f"(?:_?{_digits()}){{{top},}}")
    if not branches:
        return "(?!)"
    return zeros + "(?:" + "|".join(branches) + ")"


def _integer_string(minimum: float | None, maximum: float | None) -> str:
    """The strings ``int()`` reads as an integer in ``[minimum, maximum]``."""
    low = None if minimum is None else math.ceil(minimum)
    high = None if maximum is None else math.floor(maximum)
    signed = []
    if high is None or high >= 0:
        signed.append(r"\+?" + _magnitudes(max(low or 0, 0), high))
    if low is None or low <= 0:
        # "-0" is 0: a negative sign reaches the values down to low, and 0 when it is in range.
        floor = 0 if high is None or high >= 0 else -high
        signed.append("-" + _magnitudes(floor, None if low is None else -low))
    blank = _class(_WHITESPACE)
    return f"^{blank}*(?:{'|'.join(signed)}){blank}*$"


@cache
def _float_string() -> str:
    """The strings ``float()`` reads as a number."""
    digits, blank = _digit_run(), _class(_WHITESPACE)
    decimal = rf"(?:{digits}(?:\.(?:{digits})?)?|\.{digits})(?:[eE][+-]?{digits})?"
    words = "[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN]"
    return f"^{blank}*[+-]?(?:{decimal}|{words}){blank}*$"


#: The strings pydantic v1 reads as a boolean (its words, any case).
_BOOLEAN_STRING = ("^(?:[01]|[oO](?:[nN]|[fF][fF])|[fF](?:[aA][lL][sS][eE])?|[nN][oO]?"
                   "|[tT](?:[rR][uU][eE])?|[yY](?:[eE][sS])?)$")

# -- patterns ------------------------------------------------------------------------------------

#: Escapes that mean the same in Python and in ECMA 262 (with or without its ``u`` flag).
_SAME_ESCAPES = frozenset("\\^$.|?*+()[]{}/ntrfv")
#: Escaped punctuation that is a plain literal in Python; ECMA's ``u`` flag refuses the escape.
_PLAIN_ESCAPES = frozenset("-#=<>!:,;'\"&%@~` _")
#: ECMA's end of input, followed by Python's "or just before a final newline".
_PYTHON_END = r"(?=\n?(?![\s\S]))"
#: Group openings that mean the same in both: non-capturing, look-ahead.
_SAME_GROUPS = ("(?:", "(?=", "(?!")


def ecma_pattern(pattern: str) -> str | None:
    """``pattern``, which ttguard searches for with Python's syntax, in ECMA 262's syntax with
    the same meaning, or ``None`` where it uses what has no ECMA spelling: Python's Unicode
    ``\\d``, ``\\w``, ``\\s`` and ``\\b``, ``\\A``, ``\\Z``, back references, inline flags,
    named groups, look-behind."""
    translated: list[str] = []
    for token in tokens(pattern):
        character = token.text
        if character.startswith("\\"):
            escaped = character[1:]
            if escaped in _PLAIN_ESCAPES and not (token.in_class and escaped == "-"):
                translated.append(escaped)
            elif (escaped and escaped in _SAME_ESCAPES) or (token.in_class and escaped == "-"):
                translated.append(character)
            else:
                return None
        elif token.in_class:
            translated.append(character)
        elif character == "[":
            if pattern.startswith(("]", "^]"), token.at + 1):
                return None  # a leading "]" is a literal in Python, the end of the class in ECMA
            translated.append(character)
        elif character == "$":
            translated.append(_PYTHON_END)
        elif character == ".":
            translated.append(r"[^\n]")
        elif character == "(" and pattern.startswith("?", token.at + 1):
            if not pattern.startswith(_SAME_GROUPS, token.at):
                return None
            translated.append(character)
        else:
            translated.append(character)
    return "".join(translated)


# -- schemas -------------------------------------------------------------------------------------


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _string_keywords(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The ``pattern`` of a schema, as a standard validator can read it, with its notes."""
    if "pattern" not in schema:
        return {}
    python = schema["pattern"]
    ecma = ecma_pattern(python)
    exported: dict[str, Any] = {} if ecma is None else {"pattern": ecma}
    if ecma != python:
        exported["x-ttguard-pattern"] = python
    if "x-pattern-printed" in schema:
        exported["x-ttguard-pattern-printed"] = schema["x-pattern-printed"]
    return exported


_COMPONENTS = "#/components/schemas/"


def _integer_string_schema(minimum: float | None, maximum: float | None) -> dict[str, Any]:
    if minimum is None and maximum is None:
        return {"$ref": _COMPONENTS + "IntegerString"}
    return {"type": "string", "pattern": _integer_string(minimum, maximum)}


def _coerced_schemas() -> dict[str, Any]:
    """The component schemas of the values pydantic v1 coerces, shared by every operation."""
    return {
        "IntegerString": {"type": "string", "pattern": _integer_string(None, None),
                          "description": "What int() reads: Unicode digits, underscores "
                                         "between them, a sign, surrounding whitespace."},
        "NumberString": {"type": "string", "pattern": _float_string(),
                         "description": "What float() reads."},
        "BooleanString": {"type": "string", "pattern": _BOOLEAN_STRING,
                          "description": "The words pydantic v1 reads as a boolean, any case."},
        "Pairs": {
            "type": "array",
            "description": "What dict() takes besides a dict: a list of pairs.",
            "x-ttguard": "ttguard checks what dict() reads of it (and of \"\", an empty "
                         "object) against the object's schema, as pydantic v1 does (fields, "
                         "keys, values; a repeated key's last value counts); this schema "
                         "cannot say so, and takes any pairs",
            "items": {"anyOf": [
                {"type": "array", "minItems": 2, "maxItems": 2,
                 "prefixItems": [{"not": {"type": ["array", "object"]}}]},
                {"type": "string", "minLength": 2, "maxLength": 2},
                {"type": "object", "minProperties": 2, "maxProperties": 2}]},
        },
    }


def _body_branches(name: str, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JSON values pydantic v1 coerces to ``name``, each as one standard schema."""
    if name == "string":
        # pydantic's UUID takes no number or boolean.
        return [{"type": "string" if schema.get("format") == "uuid" else
                 ["string", "number", "boolean"]}]
    if name == "integer":
        return [{"type": ["number", "boolean"]},
                _integer_string_schema(schema.get("minimum"), schema.get("maximum"))]
    if name == "number":
        return [{"type": ["number", "boolean"]}, {"$ref": _COMPONENTS + "NumberString"}]
    if name == "boolean":
        return [{"type": "boolean"}, {"enum": [0, 1]}, {"$ref": _COMPONENTS + "BooleanString"}]
    if name == "object":
        return [{"type": "object"}, {"$ref": _COMPONENTS + "Pairs"}, {"const": ""}]
    return [{"type": name}]


def _parameter_branches(name: str, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The typed values a client may serialise for ``name``, and the strings pydantic reads."""
    bounds = {key: schema[key] for key in _BOUNDS if key in schema}
    if name == "integer":
        return [{"type": "integer", **bounds},
                _integer_string_schema(bounds.get("minimum"), bounds.get("maximum"))]
    if name == "number":
        return [{"type": "number", **bounds}, {"$ref": _COMPONENTS + "NumberString"}]
    if name == "boolean":
        return [{"type": "boolean"}, {"$ref": _COMPONENTS + "BooleanString"}]
    return [{"type": name}]


def _typed(schema: Mapping[str, Any], rest: dict[str, Any], *, parameter: bool
           ) -> dict[str, Any]:
    """``rest`` (the schema's other keywords, translated) constrained to the schema's types."""
    names = _types(schema)
    if not names:
        return {**rest, **_string_keywords(schema)}
    branches = [branch for name in names
                for branch in (_parameter_branches if parameter else _body_branches)(
                    name, schema)]
    exported = dict(rest)
    if names == ["string"]:
        exported["type"] = "string" if parameter else branches[0]["type"]
    else:
        exported["anyOf"] = branches
    exported.update(_string_keywords(schema))
    if "number" in names and ("minimum" in schema or "maximum" in schema):
        exported["x-ttguard"] = ("ttguard also checks the bounds of a number given as a "
                                 "string; this schema does not")
    if not parameter and names == ["string"] and not TEXT_KEYWORDS.isdisjoint(schema) \
            and schema.get("format") != "uuid":
        exported["x-ttguard"] = ("ttguard also checks the str() of a number or boolean given "
                                 "here against the pattern and length, as pydantic does; this "
                                 "schema does not")
    return exported


def _translated(schema: Any, *, parameter: bool) -> dict[str, Any]:
    """A catalogue schema as a standard validator must read it to refuse no more than ttguard.

    Raises ``ValueError`` for a keyword this export does not know: copied as it is, it could
    refuse what ttguard's keyword functions accept.
    """
    rest: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _TYPE_KEYWORDS or key == "$schema" or (parameter and key in _BOUNDS):
            continue
        if key == "properties":
            required = schema.get("required", ())
            rest[key] = {name: _optional(_translated(child, parameter=parameter),
                                         nullable=name not in required)
                         for name, child in value.items()}
        elif key in _NESTED:
            rest[key] = _translated(value, parameter=parameter) if isinstance(value, dict) \
                else value
        elif key == "format" and value == "uuid":
            # The spellings uuid.UUID() reads that clients write: validators differ on the
            # format, and all it reads has no regex (it drops "urn:" and "uuid:" wherever they
            # are, and every hyphen).
            rest[key] = value
            rest["pattern"] = _UUID_SPELLINGS
            rest["x-ttguard"] = ("ttguard also takes the rarer spellings uuid.UUID() reads "
                                 "(hyphens anywhere; braces, urn: and uuid: elsewhere; "
                                 "whitespace, underscores or other scripts' digits among the "
                                 "digits), as pydantic's UUID does; this pattern does not")
        elif key in _COPIED:
            rest[key] = value
        else:
            raise ValueError(f"the OpenAPI export has no reading of {key!r}: {value!r}")
    return _typed(schema, rest, parameter=parameter)


#: A UUID as clients write it, and uuid.UUID() reads it: 8-4-4-4-12 hex digits or the 32
#: alone, in braces or not, after "urn:uuid:" or not.
_UUID_SPELLINGS = ("^(?:urn:uuid:)?\\{?(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
                   "-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})\\}?$")


def _optional(schema: dict[str, Any], *, nullable: bool) -> dict[str, Any]:
    # pydantic v1: a field with a default of None is Optional, so null passes whatever follows.
    return {"anyOf": [{"type": "null"}, schema]} if nullable and schema else schema


def body_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A catalogue body schema as a standard schema for JSON values, with ttguard's leniency."""
    return _translated(schema, parameter=False)


def parameter_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A catalogue path or query parameter schema as a standard schema for its wire value."""
    return _translated(schema, parameter=True)


# -- the document --------------------------------------------------------------------------------

_ERROR_BODY = {
    "type": "object",
    "description": "The Trusted Twin server's error body (TTExceptionBodyResponse in "
                   "trustedtwin-utils).",
    "required": ["subcode", "trace", "description"],
    "properties": {
        "subcode": {"type": "integer", "description": "The HTTP status, then three digits."},
        "trace": {"type": "string", "description": "Identifies this one error instance."},
        "description": {"type": "string"},
        "help": {"type": "string"},
    },
}
_GENERIC = (Subcode.QUOTA_VIOLATION, Subcode.INVALID_CHARACTERS, Subcode.NOT_A_VALID_JSON,
            Subcode.CORRUPTED_REQUEST)
#: The answers of the gateway (``ttguard serve``) beyond the request checks.
_GATEWAY = {
    "401": ("No Authorization header (`ttguard serve --require-authorization`).",
            [Subcode.UNAUTHORIZED]),
    "500": ("The upstream could not be reached, or did not answer in time (gateway).",
            [Subcode.INTERNAL_ERROR, Subcode.RESPONSE_TIMEOUT]),
}


def _has_required(node: Any) -> bool:
    if isinstance(node, Mapping):
        return bool(node.get("required")) or any(_has_required(child) for child in node.values())
    if isinstance(node, list):
        return any(_has_required(child) for child in node)
    return False


def operation_subcodes(name: str) -> list[int]:
    """The ``400`` subcodes ttguard can answer ``name`` with, in the order it checks them."""
    schema = request_schema(name)
    subcodes = [*_GENERIC]
    if schema is not None:
        subcodes.append(Subcode.REQUEST_FORMAT)
        if _has_required(schema):
            subcodes.append(Subcode.FIELD_REQUIRED)
    return sorted(int(subcode) for subcode in subcodes)


def _error_response(description: str, subcodes: Iterable[int]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {
        "allOf": [{"$ref": _COMPONENTS + "Error"},
                  {"properties": {"subcode": {"enum": list(subcodes)}}}]}}}}


def _parameters(name: str, path: str, schema: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    parts = {} if schema is None else schema.get("properties", {})
    declared_path = parts.get("path", {}).get("properties", {})
    query = parts.get("query", {})
    parameters = [{"name": parameter, "in": "path", "required": True,
                   "schema": parameter_schema(declared_path.get(parameter, {"type": "string"}))}
                  for parameter in path_parameters(path)]
    parameters += [{"name": parameter, "in": "query",
                    "required": parameter in query.get("required", ()),
                    "schema": parameter_schema(child)}
                   for parameter, child in query.get("properties", {}).items()]
    return parameters


def _request_body(method: str, schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    body = None if schema is None else schema.get("properties", {}).get("body")
    if body is None:
        if method not in _BODY_METHODS:
            return None
        return {"required": False, "content": {"application/json": {"schema": {}}}}
    exported = body_schema(body)
    required = bool(body.get("required"))
    if not required:
        # An empty body, or null, is judged as {}: with no field required, it passes.
        exported = {"anyOf": [{"type": "null"}, exported]}
    return {"required": required, "content": {"application/json": {"schema": exported}}}


def _operation(name: str) -> dict[str, Any]:
    operation = operations()[name]
    schema = request_schema(name)
    exported: dict[str, Any] = {
        "operationId": name,
        "summary": name.replace("_", " "),
        "parameters": _parameters(name, operation.path, schema),
    }
    if schema is not None and "$comment" in schema:
        exported["description"] = schema["$comment"]
    elif schema is None:
        exported["description"] = "ttguard has no schema for this operation: only the body's " \
                                  "size, UTF-8 and JSON syntax are checked."
    body = _request_body(operation.method, schema)
    if body is not None:
        exported["requestBody"] = body
    exported["responses"] = {
        "2XX": {"description": "Accepted by ttguard and answered by the API."},
        "400": _error_response("Refused as the Trusted Twin server would refuse it.",
                               operation_subcodes(name)),
        **{status: _error_response(description, [int(code) for code in codes])
           for status, (description, codes) in _GATEWAY.items()},
    }
    return exported


@cache
def openapi_document(server: str = DEFAULT_SERVER) -> dict[str, Any]:
    """The catalogue as an OpenAPI 3.1 document, for the API served at ``server``.

    Each call with the same ``server`` returns the same object: copy it before changing it.
    """
    # Imported here: the rules bring the regex package, which `import ttguard` does not load.
    from .core.rules import REGEX_TIMEOUT, UNTIMED_LENGTH

    paths: dict[str, dict[str, Any]] = {}
    for operation in operations().values():
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(
            operation.name)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Trusted Twin REST API, as ttguard checks it",
            "version": "1",
            "description": "Every operation of the official trustedtwin client, with the "
                           "request schemas ttguard checks and the answers it gives. Generated "
                           "by `ttguard openapi` from ttguard's catalogue.",
        },
        "servers": [{"url": server}],
        "x-ttguard": {
            "body": f"at most {DEFAULT_MAX_BODY} bytes (400141), UTF-8 (400314), JSON "
                    "(400415, Python's json: NaN and Infinity pass): none of it is in the "
                    "schemas",
            "pattern": "searched with Python's syntax by the regex package, where $ also "
                       "matches before a final newline and \\d, \\w, \\s, \\b are Unicode; "
                       "the exported pattern is its ECMA 262 spelling, the original in "
                       "x-ttguard-pattern where they differ; a pattern with no ECMA spelling "
                       "is left out (the schema accepts more); a search of over "
                       f"{REGEX_TIMEOUT} s (only strings of over {UNTIMED_LENGTH} characters "
                       "are timed) accepts",
            "coercion": "body values and parameters are read as pydantic v1 reads them; the "
                        "schemas spell the values it coerces",
            "query": "a query parameter of one value that the query repeats is read by its "
                     "last value, as FastAPI reads it",
        },
        "components": {
            "schemas": {"Error": _ERROR_BODY, **_coerced_schemas()},
            "securitySchemes": {"UserSecret": {"type": "apiKey", "in": "header",
                                               "name": "Authorization"}},
        },
        "security": [{"UserSecret": []}],
        "paths": paths,
    }
