"""Where a value sits in a JSON text: a tokenizer that tracks positions, for error messages.

The server's description names a value by its path (``body::entries->k->value``); a person
editing the file wants its line and column. :func:`locate` walks the JSON text along such a path
(object keys, list indexes, or a key itself, :class:`Key`) and returns where the value starts.

It reads only what the path needs: the members before the one it looks for are skipped by a
scanner that tracks string quotes and bracket depth, so the cost is one pass over the text at
most, with no recursion whatever the nesting. A key that repeats names its last occurrence, as
in ``json.loads``. The text is expected to be JSON (ttguard has parsed it already); on anything
else the answer is ``None`` or the nearest position found, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Key", "Position", "locate"]

_WHITESPACE = " \t\n\r"
#: Characters that end a bare token (a number, true, false, null, NaN, Infinity).
_DELIMITERS = frozenset(_WHITESPACE + ",:]}")


class Key(NamedTuple):
    """A step to an object's key itself, rather than to its value."""

    name: str


class Position(NamedTuple):
    """A place in a text: line and column, both from 1, the column in characters."""

    line: int
    column: int


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _string_end(text: str, index: int) -> int:
    """The index just past the string token that starts at ``index`` (its opening quote)."""
    index += 1
    while index < len(text):
        character = text[index]
        if character == "\\":
            index += 2
        elif character == '"':
            return index + 1
        else:
            index += 1
    return len(text)


def _value_end(text: str, index: int) -> int:
    """The index just past the JSON value that starts at ``index``."""
    if index >= len(text):
        return index
    if text[index] == '"':
        return _string_end(text, index)
    if text[index] not in "[{":
        while index < len(text) and text[index] not in _DELIMITERS:
            index += 1
        return index
    depth = 0
    while index < len(text):
        character = text[index]
        if character == '"':
            index = _string_end(text, index)
            continue
        if character in "[{":
            depth += 1
        elif character in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return index


def _member(text: str, index: int, step: str | Key) -> int | None:
    """In the object at ``index``, where the last member named by ``step`` starts: its key
    for a :class:`Key`, else its value; ``None`` if there is none."""
    name = step.name if isinstance(step, Key) else step
    found = None
    index = _skip_space(text, index + 1)
    while index < len(text) and text[index] == '"':
        key_end = _string_end(text, index)
        try:
            key = json.loads(text[index:key_end])
        except ValueError:
            return found
        value = _skip_space(text, _skip_space(text, key_end) + 1)
        if key == name:
            found = index if isinstance(step, Key) else value
        index = _skip_space(text, _value_end(text, value))
        if index >= len(text) or text[index] != ",":
            break
        index = _skip_space(text, index + 1)
    return found


def _item(text: str, index: int, position: int) -> int | None:
    """In the list at ``index``, where its item number ``position`` starts, if it has one."""
    index = _skip_space(text, index + 1)
    for _ in range(position):
        if index >= len(text) or text[index] == "]":
            return None
        index = _skip_space(text, _value_end(text, index))
        if index >= len(text) or text[index] != ",":
            return None
        index = _skip_space(text, index + 1)
    if index >= len(text) or text[index] == "]":
        return None
    return index


def _position(text: str, index: int) -> Position:
    line_start = text.rfind("\n", 0, index) + 1
    return Position(text.count("\n", 0, index) + 1, index - line_start + 1)


def locate(text: str, path: Sequence[str | int | Key]) -> Position | None:
    """Where the value at ``path`` starts in the JSON ``text``.

    Each step is an object key (its value), a :class:`Key` (the key itself) or a list index.
    Where the path leads to no value (a missing field, say) the answer is the position of the
    deepest value it did reach: the object that lacks the field. ``None`` for a text with no
    value at all.

    >>> locate('{"entries": {\\n  "k": {"value": 1}}}', ["entries", "k", "value"])
    Position(line=2, column=18)
    """
    index = _skip_space(text, 0)
    if index >= len(text):
        return None
    for step in path:
        opening = text[index]
        if isinstance(step, int) and not isinstance(step, bool) and opening == "[":
            found = _item(text, index, step)
        elif isinstance(step, (str, Key)) and opening == "{":
            found = _member(text, index, step)
        else:
            found = None
        if found is None:
            break
        index = found
    return _position(text, index)
