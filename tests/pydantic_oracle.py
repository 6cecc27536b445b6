"""pydantic v1 models of the catalogue's body schemas: the server's own engine, as an oracle.

The server's descriptions are pydantic v1's (``body::a->b: field required``), so pydantic v1
itself (``pydantic.v1``, shipped with pydantic 2) judges a body as the server would, without
any of ttguard's code. :func:`body_model` builds, from an operation's catalogue schema, the
model the server would declare: ``str`` (``constr`` with a pattern or a length), ``UUID`` for
``format: uuid``, an ``Enum`` for ``enum``, ``int``/``float`` (``conint``/``confloat`` with
bounds), ``bool``, ``List``/``conlist``, a model for an object with declared fields (extra
fields forbidden where ``additionalProperties`` is false, else ignored), a ``Dict`` for one with
keys and values only, ``Any`` for a schema that says nothing; a field not required is
``Optional``.

One reading is ttguard's, not pydantic v1's: a ``pattern`` is searched for, as pydantic v2
(the version ``trustedtwin-utils`` now requires) does (``re.search``, here a ``re.match`` of
``(?s:.)*?(?:pattern)``), where pydantic v1 matches at the start; a search accepts all that
either accepts.
"""

from __future__ import annotations

import enum
import itertools
from typing import Any, Optional
from uuid import UUID

from pydantic.v1 import BaseModel, Extra, confloat, conint, conlist, constr, create_model

from ttguard.core.catalogue import request_schema

_names = itertools.count()
_STRING_KEYWORDS = ("pattern", "maxLength", "minLength", "format")


def _string(schema: dict[str, Any]) -> Any:
    if schema.get("format") == "uuid":
        return UUID
    limits = {"regex": f"(?s:.)*?(?:{schema['pattern']})" if "pattern" in schema else None,
              "max_length": schema.get("maxLength"), "min_length": schema.get("minLength")}
    limits = {name: value for name, value in limits.items() if value is not None}
    return constr(**limits) if limits else str


def _bounded(schema: dict[str, Any], kind: Any, constrained: Any) -> Any:
    bounds = {name: schema[keyword] for keyword, name in (("minimum", "ge"), ("maximum", "le"))
              if keyword in schema}
    return constrained(**bounds) if bounds else kind


def _object(schema: dict[str, Any]) -> Any:
    declared = schema.get("properties")
    if declared:
        required = schema.get("required", ())
        fields: dict[str, Any] = {
            # Optional, as pydantic v1 reads it (X | None too, where X is a type)
            name: (_type(sub), ...) if name in required else (Optional[_type(sub)], None)  # noqa: UP045
            for name, sub in declared.items()}

        class Config:
            extra = Extra.forbid if schema.get("additionalProperties") is False else Extra.ignore

        return create_model(f"Model{next(_names)}", __config__=Config, **fields)
    if "propertyNames" in schema or isinstance(schema.get("additionalProperties"), dict):
        key = _type(schema.get("propertyNames", {"type": "string"}))
        return dict[key, _type(schema.get("additionalProperties", {}))]  # type: ignore[valid-type]
    return dict


def _type(schema: Any) -> Any:
    """The pydantic v1 type a field of ``schema`` would be declared with."""
    if not isinstance(schema, dict):
        return Any
    declared = schema.get("type")
    if "enum" in schema:
        return enum.Enum(f"Enum{next(_names)}",  # type: ignore[misc]
                         {f"member{index}": value for index, value in enumerate(schema["enum"])},
                         type=str)
    if declared == "string" or (declared is None and any(
            keyword in schema for keyword in _STRING_KEYWORDS)):
        return _string(schema)
    if declared == "integer":
        return _bounded(schema, int, conint)
    if declared == "number":
        return _bounded(schema, float, confloat)
    if declared == "boolean":
        return bool
    if declared == "array":
        item = _type(schema.get("items", {}))
        sizes = {name: schema[keyword] for keyword, name in (("maxItems", "max_items"),
                                                             ("minItems", "min_items"))
                 if keyword in schema}
        return conlist(item, **sizes) if sizes else list[item]  # type: ignore[valid-type]
    if declared == "object" or "properties" in schema:
        return _object(schema)
    return Any


def body_model(operation: str) -> type[BaseModel] | None:
    """A model with one field, ``body``, of the operation's body type; None without a body."""
    schema = request_schema(operation)
    body = None if schema is None else schema.get("properties", {}).get("body")
    if body is None:
        return None
    return create_model(f"Request{next(_names)}", body=(_type(body), ...))


def parameters_model(operation: str) -> type[BaseModel] | None:
    """A model with the fields ``path`` and ``query`` the operation's schema declares, each of
    its parameters' types; None where it declares neither."""
    schema = request_schema(operation)
    parts = {} if schema is None else schema.get("properties", {})
    fields = {part: (_type(parts[part]), ...) for part in ("path", "query") if part in parts}
    return create_model(f"Parameters{next(_names)}", **fields) if fields else None


def first_error(model: type[BaseModel], **request: object) -> tuple[str, str] | None:
    """pydantic's first error on the ``request``'s parts (``body=``, or ``path=`` and
    ``query=``) as the server words it: (``body::a->b``, message); None if it has none."""
    try:
        model(**request)
    except ValueError as refused:  # pydantic.v1's ValidationError
        error = refused.errors()[0]  # type: ignore[attr-defined]
        location, *steps = (str(step) for step in error["loc"])
        return f"{location}::{'->'.join(steps) if steps else '__root__'}", error["msg"]
    return None
