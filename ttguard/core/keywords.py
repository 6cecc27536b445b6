"""JSON Schema keyword functions that judge and word a value as the Trusted Twin server does.

The reference engine (:mod:`ttguard.core.reference`) runs these by jsonschema. The keywords that
judge a value by itself are the rules of :mod:`ttguard.core.rules`, each made a keyword function
here; the container keywords below descend into a value's parts, as pydantic v1 does:

* an optional field may be ``null`` (``properties`` skips it); a missing required one is
  ``field required``; an undeclared one, where forbidden, ``extra fields not permitted``;
* a value an object's ``type`` takes by ``dict()`` (a list of pairs, ``""``) has its fields and
  keys checked as that dict's (:func:`~ttguard.core.rules.as_object`);
* **order of errors**: pydantic reports a model's fields in declaration order, a dict's items
  in their order (each key before its value), a list's items in order. Each container keyword
  prepends its step to an error's ``rank``; the smallest rank is the error the server reports
  first. An error of a rule stands at the value itself, before any below it.

Each function has jsonschema's keyword signature ``(validator, value, instance, schema)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError

from .rules import EXTRA_FIELD, KEY_LOCATION, MISSING_FIELD, RULES, Rule, as_object

__all__ = ["KEYWORDS", "rank"]

Rank = tuple[tuple[int, int], ...]
_KEY, _VALUE = 0, 1


def rank(error: ValidationError) -> Rank:
    """Where an error stands in the server's reporting order (smaller comes first)."""
    return getattr(error, "rank", ())


def _ranked(errors: Iterable[ValidationError], step: tuple[int, int]) -> Iterator[ValidationError]:
    for error in errors:
        error.rank = (step, *rank(error))
        yield error


# -- containers --------------------------------------------------------------------------------


def _declared(schema: Mapping[str, Any]) -> list[str]:
    return list(schema.get("properties", ()))


def properties(validator: Any, declared: dict[str, Any], instance: Any, schema: Any
               ) -> Iterator[Any]:
    instance = as_object(instance, schema)
    if instance is None:
        return
    required = schema.get("required", ())
    for position, (name, subschema) in enumerate(declared.items()):
        if name not in instance:
            continue
        value = instance[name]
        # In pydantic v1, a field with a default of None is Optional.
        if value is None and name not in required:
            continue
        yield from _ranked(
            validator.descend(value, subschema, path=name, schema_path=name),
            (position, _VALUE))


def required(validator: Any, names: list[str], instance: Any, schema: Any) -> Iterator[Any]:
    instance = as_object(instance, schema)
    if instance is None:
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
    instance = as_object(instance, schema)
    if instance is None:
        return
    offset = len(_declared(schema))
    for index, key in enumerate(instance):
        yield from _ranked(validator.descend(key, names_schema, path=KEY_LOCATION),
                           (offset + index, _KEY))


def additional_properties(validator: Any, extra: Any, instance: Any, schema: Any
                          ) -> Iterator[Any]:
    instance = as_object(instance, schema)
    if instance is None:
        return
    declared = _declared(schema)
    offset = len(declared)
    for index, (key, value) in enumerate(instance.items()):
        if key in declared:
            continue
        step = (offset + index, _VALUE)
        if extra is False:
            error = ValidationError(EXTRA_FIELD, path=(key,))
            error.rank = (step,)
            yield error
        elif isinstance(extra, dict):
            yield from _ranked(validator.descend(value, extra, path=key), step)


def items(validator: Any, item_schema: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not isinstance(instance, list) or not isinstance(item_schema, dict):
        return
    for index, item in enumerate(instance):
        yield from _ranked(validator.descend(item, item_schema, path=index), (index, _VALUE))


def _keyword(rule: Rule) -> Callable[[Any, Any, Any, Any], Iterator[Any]]:
    """A rule as a jsonschema keyword function."""
    def keyword(validator: Any, expected: Any, instance: Any, schema: Any) -> Iterator[Any]:
        message = rule(expected, instance, schema)
        if message is not None:
            yield ValidationError(message)
    return keyword


#: Each keyword's function, by the keyword's name.
KEYWORDS: Mapping[str, Callable[[Any, Any, Any, Any], Iterator[Any]]] = {
    **{name: _keyword(rule) for name, rule in RULES.items()},
    "properties": properties,
    "required": required,
    "propertyNames": property_names,
    "additionalProperties": additional_properties,
    "items": items,
}
