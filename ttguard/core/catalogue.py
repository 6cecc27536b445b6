"""The catalogue: every Trusted Twin operation, and the request schema of those that have one.

Data, not code: ``schemas/operations.json`` lists the operations of the official ``trustedtwin``
client, and two more the API reference index lists (name, method, path template, path
defaults); ``schemas/<operation>.json`` is the JSON
Schema of one operation's request, ``{"path": ..., "query": ..., "body": ...}``, whose
references to ``_common.json#/$defs/<name>`` (definitions shared by many operations) are inlined
as it is loaded, so each validator sees one self-contained schema. The folder is shipped inside
the wheel and read with ``importlib.resources``; each file is read at most once, on first use,
so importing ttguard reads nothing.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = ["ANNOTATIONS", "TEXT_KEYWORDS", "Operation", "child_schema", "operation", "operations",
           "path_parameters", "request_schema"]

#: The keywords of the catalogue's schemas that judge nothing: comments, and the variant of a
#: pattern a message prints (see :func:`ttguard.core.rules.pattern`).
ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description", "x-pattern-printed"})
#: The keywords of a string's schema that pydantic also applies to a number or a boolean given
#: there, made a string by ``str()`` (see :func:`ttguard.core.rules.checked_text`).
TEXT_KEYWORDS = frozenset({"pattern", "maxLength", "minLength"})
_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")


class Operation(NamedTuple):
    """One operation of the Trusted Twin API."""

    name: str
    method: str
    path: str
    #: Path parameters the official client fills in when the caller gives none.
    path_defaults: dict[str, str]


def path_parameters(template: str) -> list[str]:
    """The names of the parameters in a path template, in order: ``twin`` and ``ledger`` in
    ``/twins/{twin}/ledgers/{ledger}``."""
    names: list[str] = _PATH_PARAMETER.findall(template)
    return names


@cache
def _folder() -> Traversable:
    # importlib.resources takes 25 ms to import: the first lookup pays, not `import ttguard`.
    from importlib import resources

    return resources.files("ttguard") / "schemas"


def _read(filename: str) -> Any:
    with (_folder() / filename).open("rb") as file:
        return json.load(file)


@cache
def operations() -> dict[str, Operation]:
    """Every known operation, by name, in the order of ``schemas/operations.json``."""
    return {
        entry["operation"]: Operation(entry["operation"], entry["method"], entry["path"],
                                      entry["path_param_defaults"])
        for entry in _read("operations.json")
    }


def operation(name: str) -> Operation:
    """The operation called ``name``; a ``ValueError`` names the unknown ones."""
    try:
        return operations()[name]
    except KeyError:
        raise ValueError(
            f"unknown Trusted Twin operation {name!r} (`ttguard ops` lists them)") from None


_COMMON = "_common.json#/$defs/"


@cache
def _common_definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = _read("_common.json")["$defs"]
    return definitions


def _inlined(node: Any) -> Any:
    if isinstance(node, list):
        return [_inlined(item) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith(_COMMON):
        definition = _common_definitions()[reference.removeprefix(_COMMON)]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**_inlined(definition), **_inlined(siblings)}
    return {key: _inlined(value) for key, value in node.items()}


@cache
def request_schema(name: str) -> dict[str, Any] | None:
    """The JSON Schema of an operation's request, or ``None`` where the catalogue has none."""
    operation(name)
    if not (_folder() / f"{name}.json").is_file():
        return None
    schema: dict[str, Any] = _inlined(_read(f"{name}.json"))
    return schema


def child_schema(schema: Any, step: str | int) -> Any:
    """The schema a container's schema applies to its value at ``step`` (a key or an index).

    A declared property's own schema, else ``additionalProperties``; a list's ``items``; an
    empty schema (anything goes) where the catalogue says nothing.
    """
    if not isinstance(schema, dict):
        return {}
    if isinstance(step, int):
        return schema.get("items", {})
    declared = schema.get("properties", {})
    return declared[step] if step in declared else schema.get("additionalProperties", {})
