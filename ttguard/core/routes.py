"""From an HTTP method and path to the Trusted Twin operation and its path parameters.

The route table is built once, on first use, from the catalogue's operations: a tree of path
segments per method, where a literal segment is tried before a ``{parameter}`` (so
``/notifications/webhooks/access`` is not taken for ``/notifications/webhooks/{account}``).
Resolving costs one step per path segment, plus backtracking over a parameter where a literal
led nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from .catalogue import operations

__all__ = ["Query", "Route", "parse_query", "resolve"]

#: A query: the raw string, or each name with its value (a list where the name repeats).
Query = str | Mapping[str, str | list[str]]


class Route(NamedTuple):
    """A request mapped to its operation: ``(operation, path_params)``."""

    operation: str
    #: The path parameters, percent-decoded, by their names in the operation's path template.
    path_params: dict[str, str]


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    operation: str | None = None


@cache
def _table() -> dict[str, _Node]:
    roots: dict[str, _Node] = {}
    for operation in operations().values():
        node = roots.setdefault(operation.method, _Node())
        for segment in _segments(operation.path):
            if segment.startswith("{") and segment.endswith("}"):
                if node.parameter is None:
                    node.parameter = (segment[1:-1], _Node())
                node = node.parameter[1]
            else:
                node = node.literals.setdefault(segment, _Node())
        node.operation = operation.name
    return roots


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _walk(node: _Node, segments: list[str], params: dict[str, str]) -> str | None:
    if not segments:
        return node.operation
    head, rest = segments[0], segments[1:]
    literal = node.literals.get(head)
    if literal is not None:
        found = _walk(literal, rest, params)
        if found is not None:
            return found
    if node.parameter is not None and head:
        name, child = node.parameter
        params[name] = unquote(head)
        found = _walk(child, rest, params)
        if found is not None:
            return found
        del params[name]
    return None


def resolve(method: str, path: str, *, prefix: str = "") -> Route | None:
    """The operation a request is for, with its path parameters, or ``None`` if none matches.

    >>> resolve("POST", "/twins/e834214a/ledgers/personal")
    Route(operation='add_twin_ledger_entry', path_params={'twin': 'e834214a', 'ledger': 'personal'})

    ``path`` may be a full URL and may carry a query string; ``prefix`` is a path under which
    the API is mounted (a gateway's ``/tt``, say), removed before matching.
    """
    target = urlsplit(path).path if "://" in path else path.split("?", 1)[0].split("#", 1)[0]
    prefix = prefix.rstrip("/")
    if prefix:
        if target != prefix and not target.startswith(prefix + "/"):
            return None
        target = target[len(prefix):]
    match = _match(method.upper(), target)
    return None if match is None else Route(match[0], dict(match[1]))


@lru_cache(maxsize=4096)
def _match(method: str, target: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    # Cached: a gateway sees the same few paths again and again. Immutable, so callers of
    # resolve() get a Route of their own.
    root = _table().get(method)
    if root is None:
        return None
    params: dict[str, str] = {}
    found = _walk(root, _segments(target), params)
    return None if found is None else (found, tuple(params.items()))


def parse_query(query: Query) -> dict[str, str | list[str]]:
    """A query as a mapping: a name that repeats maps to the list of its values, in order."""
    if not isinstance(query, str):
        return dict(query)
    if not query:
        return {}
    parsed: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        earlier = parsed.get(name)
        if earlier is None:
            parsed[name] = value
        elif isinstance(earlier, list):
            earlier.append(value)
        else:
            parsed[name] = [earlier, value]
    return parsed
