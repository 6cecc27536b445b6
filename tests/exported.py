"""What a standard validator reading the exported OpenAPI document accepts.

Shared by the corpus test (tests/test_openapi.py) and the Schemathesis run
(tests/test_schemathesis.py): a request is judged by the document alone, with jsonschema's plain
Draft 2020-12 keywords (and jsonschema-rs, a second engine with ECMA-like regexes), never by
ttguard's keyword functions. Parameters are judged as the strings they are on the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from ttguard.core import operations
from ttguard.openapi import openapi_document

#: A body that is not there (as opposed to the JSON value null).
ABSENT = object()
#: A body that is not JSON in UTF-8: no application/json schema describes it.
NOT_JSON = object()


@dataclass
class ExportedOperation:
    """One operation of the exported document, ready to judge requests."""

    parameters: dict[tuple[str, str], Any] = field(default_factory=dict)
    required: set[tuple[str, str]] = field(default_factory=set)
    body: Any | None = None
    body_required: bool = False


def _validators(schema: Any, components: Any) -> tuple[Any, Any]:
    # Each schema is checked on its own, with the document's components beside it, so that
    # its "#/components/schemas/..." references resolve from its own root.
    rooted = {**schema, "components": components}
    return Draft202012Validator(rooted), jsonschema_rs.validator_for(rooted)


@cache
def exported(name: str) -> ExportedOperation:
    """The exported document's view of the operation ``name``."""
    document = openapi_document()
    catalogued = operations()[name]
    operation = document["paths"][catalogued.path][catalogued.method.lower()]
    components = document["components"]
    judged = ExportedOperation()
    for parameter in operation["parameters"]:
        key = (parameter["in"], parameter["name"])
        judged.parameters[key] = _validators(parameter["schema"], components)
        if parameter["required"]:
            judged.required.add(key)
    body = operation.get("requestBody")
    if body is not None:
        judged.body = _validators(body["content"]["application/json"]["schema"], components)
        judged.body_required = body["required"]
    return judged


def _refusals(validators: tuple[Any, Any], value: Any, where: str) -> list[str]:
    python, rust = validators
    found = [f"{where}: {error.message}" for error in python.iter_errors(value)]
    if not rust.is_valid(value):
        found.append(f"{where}: refused by jsonschema-rs")
    return found


def refusals(name: str, path: dict[str, str], query: dict[str, Any], body: Any = ABSENT
             ) -> list[str]:
    """Why the exported document refuses a request (empty if it accepts it).

    ``path`` and ``query`` hold the parameters as strings (a repeated query parameter as a
    list of them); ``body`` is the parsed JSON body, or ``ABSENT``.
    """
    operation = exported(name)
    found: list[str] = []
    given = {("path", key): value for key, value in path.items()}
    given |= {("query", key): value for key, value in query.items()}
    for key in sorted(operation.required - set(given)):
        found.append(f"{key[0]}::{key[1]}: missing")
    for key, value in given.items():
        if key in operation.parameters:
            found += _refusals(operation.parameters[key], value, f"{key[0]}::{key[1]}")
    if body is NOT_JSON:
        found.append("body: not JSON")
    elif body is ABSENT:
        if operation.body_required:
            found.append("body: missing")
    elif operation.body is not None:
        found += _refusals(operation.body, body, "body")
    return found


def parse_body(raw: bytes) -> Any:
    """A request body as ttguard parses it: ``ABSENT`` when empty or blank, ``NOT_JSON`` when
    it is not JSON in UTF-8."""
    try:
        text = raw.decode("utf-8").lstrip("\ufeff")
        return ABSENT if not text.strip(" \t\n\r") else json.loads(text)
    except (ValueError, RecursionError):
        return NOT_JSON
