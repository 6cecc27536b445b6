"""The reference engine: the exact verdict on a request, worded as the server words its first error.

A request is checked as one JSON value, ``{"path": {...}, "query": {...}, "body": <value>}``,
against the operation's schema from the catalogue, by a jsonschema validator whose keywords are
those of :mod:`ttguard.core.keywords`. Of all the errors found, the server reports the first in
its own order (path, then query, then body; fields in declaration order), as

    ``<location>::<path joined by '->'>: <message>``

e.g. ``body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$``. An
error on a location's root value itself is placed at pydantic's ``__root__``. A missing field is
``400926 field_required``; every other schema error ``400589 request_format``.

This is the readable path, which the differential tests hold the fast engine to
(:mod:`ttguard.core.fast_engine` and its walk, :mod:`ttguard.core.fast_refusal`, which applies
the same rules). The core asks it only about an operation whose schema the walk cannot read (none
in the catalogue: a request Rust cannot read, ``NaN`` or a lone surrogate, is walked by the rules
alone), and imports it only then.

Two drivers apply the same keyword functions:

* jsonschema's validator (:data:`RequestValidator`): the readable reference, which the
  differential tests trust; it judges a whole request, and any schema.
* :class:`DirectValidator`: the keyword functions called as jsonschema calls them, without its
  per-step machinery (a validator evolved and a reference resolver made for every value it
  descends into: 5 to 10 us a step, most of the cost of a refusal). The core uses it, where
  the schema holds only the catalogue's keywords.

Cost: one pass over the value, linear in its size, collects the errors. Each validator is built
once per operation, on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from .catalogue import ANNOTATIONS, request_schema
from .errors import TTError, schema_error
from .keywords import KEYWORDS, rank
from .locate import Key
from .rules import KEY_LOCATION, MISSING_FIELD

__all__ = ["DirectValidator", "RequestValidator", "describe", "first_error", "first_error_at"]

#: A jsonschema validator class speaking the server's rules and words.
RequestValidator = validators.extend(Draft202012Validator, KEYWORDS)


#: jsonschema's mark of an error detail no keyword has set yet.
_UNSET = ValidationError("").validator


class DirectValidator:
    """Applies :data:`~ttguard.core.keywords.KEYWORDS` to a value as jsonschema's validator does.

    For each keyword of a schema, in the schema's order, the keyword's function yields its
    errors; an error gets the keyword and the value it is about where its function left them
    unset, and each container step prepends its path. Only what :func:`first_error_at` and the
    keyword functions use is here: ``schema``, ``iter_errors`` and ``descend`` (whose
    ``schema_path`` is taken and dropped: nothing reads an error's).
    """

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    @staticmethod
    def applies_to(schema: Any) -> bool:
        """Whether every keyword in ``schema`` and below is a keyword function or an annotation
        (no reference, no applicator this driver would skip silently)."""
        if not isinstance(schema, dict):
            return False
        for keyword, value in schema.items():
            if keyword == "properties":
                if not all(map(DirectValidator.applies_to, value.values())):
                    return False
            elif keyword in ("propertyNames", "items") or (
                    keyword == "additionalProperties" and value is not False):
                if not DirectValidator.applies_to(value):
                    return False
            elif keyword not in KEYWORDS and keyword not in ANNOTATIONS:
                return False
        return True

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        return self.descend(instance, self.schema)

    def descend(self, instance: Any, schema: Any, path: str | int | None = None,
                schema_path: str | int | None = None) -> Iterator[ValidationError]:
        for keyword, value in schema.items():
            check = KEYWORDS.get(keyword)
            if check is None:
                continue
            for error in check(self, value, instance, schema):
                if error.validator is _UNSET:
                    error.validator, error.instance = keyword, instance
                if path is not None:
                    error.path.appendleft(path)
                yield error


@cache
def _validator(operation: str, direct: bool) -> Any | None:
    schema = request_schema(operation)
    if schema is None:
        return None
    return (DirectValidator(schema) if direct and DirectValidator.applies_to(schema)
            else RequestValidator(schema))


def describe(error: ValidationError) -> TTError:
    """The server's answer to one schema error."""
    return schema_error(list(error.absolute_path), error.message,
                        missing=error.validator == "required" and error.message == MISSING_FIELD)


def first_error_at(operation: str, request: Mapping[str, object], *, direct: bool = False
                   ) -> tuple[TTError, list[str | int | Key]] | None:
    """The server's answer to the request's first schema error, and where the error sits: the
    steps from the request's root (``"body"``, then keys and indexes), a dictionary key that is
    itself at fault as a :class:`~ttguard.core.locate.Key` (the description says ``__key__``).

    ``direct`` runs the keywords by :class:`DirectValidator` where the schema allows, else by
    jsonschema.
    """
    validator = _validator(operation, direct)
    if validator is None:
        return None
    first = min(validator.iter_errors(request), key=rank, default=None)
    if first is None:
        return None
    steps: list[str | int | Key] = list(first.absolute_path)
    if steps and steps[-1] == KEY_LOCATION:
        steps[-1] = Key(first.instance)
    return describe(first), steps


def first_error(operation: str, request: Mapping[str, object], *,
                direct: bool = False) -> TTError | None:
    """The server's answer to the request's first schema error, by the exact path alone."""
    found = first_error_at(operation, request, direct=direct)
    return None if found is None else found[0]
