"""Checking a request against its operation's schema, and wording the first error as the server.

A request is checked as one JSON value, ``{"path": {...}, "query": {...}, "body": <value>}``,
against the operation's schema from the catalogue, by a jsonschema validator whose keywords are
those of :mod:`ttguard.core.keywords`. Of all the errors found, the server reports the first in
its own order (path, then query, then body; fields in declaration order), as

    ``<location>::<path joined by '->'>: <message>``

e.g. ``body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$``. An
error on a location's root value itself is placed at pydantic's ``__root__``. A missing field is
``400926 field_required``; every other schema error ``400589 request_format``.

This is the exact path: the core asks it only about a request the compiled fast path
(:mod:`ttguard.core.fastpath`) could not prove valid, and imports it only then. Cost: one pass
over the value, linear in its size, collects the errors. Each validator is built once per
operation, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from .catalogue import request_schema
from .errors import Subcode, TTError
from .keywords import KEY_LOCATION, KEYWORDS, MISSING_FIELD, rank
from .locate import Key

__all__ = ["RequestValidator", "describe", "first_error", "first_error_at"]

#: A jsonschema validator class speaking the server's rules and words.
RequestValidator = validators.extend(Draft202012Validator, KEYWORDS)
ROOT_LOCATION = "__root__"


@cache
def _validator(operation: str) -> Any | None:
    schema = request_schema(operation)
    return None if schema is None else RequestValidator(schema)


def describe(error: ValidationError) -> TTError:
    """The server's answer to one schema error."""
    location, *path = [str(step) for step in error.absolute_path] or [ROOT_LOCATION]
    where = "->".join(path) if path else ROOT_LOCATION
    subcode = (Subcode.FIELD_REQUIRED if error.validator == "required"
               and error.message == MISSING_FIELD else Subcode.REQUEST_FORMAT)
    return TTError(subcode, f"{location}::{where}: {error.message}")


def first_error_at(operation: str, request: Mapping[str, object]
                   ) -> tuple[TTError, list[str | int | Key]] | None:
    """The server's answer to the request's first schema error, and where the error sits: the
    steps from the request's root (``"body"``, then keys and indexes), a dictionary key that is
    itself at fault as a :class:`~ttguard.core.locate.Key` (the description says ``__key__``)."""
    validator = _validator(operation)
    if validator is None:
        return None
    first = min(validator.iter_errors(dict(request)), key=rank, default=None)
    if first is None:
        return None
    steps: list[str | int | Key] = list(first.absolute_path)
    if steps and steps[-1] == KEY_LOCATION:
        steps[-1] = Key(first.instance)
    return describe(first), steps


def first_error(operation: str, request: Mapping[str, object]) -> TTError | None:
    """The server's answer to the request's first schema error, by the exact path alone."""
    found = first_error_at(operation, request)
    return None if found is None else found[0]

