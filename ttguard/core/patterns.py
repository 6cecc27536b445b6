"""Python's regex syntax, as the catalogue's patterns are written: a pattern read token by token.

Two readers spell a catalogue pattern for another engine: the fast engine's lenient reading
spells each alternative's final ``$`` for Rust (:mod:`ttguard.core.fast_engine`), the OpenAPI
export the whole pattern for ECMA 262 (:mod:`ttguard.openapi`). Both need to know, at each
character, whether a backslash escapes it and whether it lies in a character class, where
Python reads ``]`` as a member when it comes first (``[]a]``, ``[^]a]``). :func:`tokens` says.

Cost: one step per character.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["Token", "tokens"]


class Token(NamedTuple):
    """One character of a pattern, or a backslash and the character it escapes."""

    #: Where it starts in the pattern.
    at: int
    #: The character, or the escape (a backslash alone at the pattern's end).
    text: str
    #: Whether it lies in a character class: its members and its closing ``]``, not its ``[``.
    in_class: bool


def tokens(pattern: str) -> Iterator[Token]:
    """The tokens of ``pattern``, in order."""
    at = 0
    members_from = -1  # where the members of the class being read start; -1: in no class
    while at < len(pattern):
        text = pattern[at:at + 2] if pattern[at] == "\\" else pattern[at]
        in_class = members_from >= 0
        if in_class:
            if text == "]" and at > members_from:  # a "]" first in a class is a member
                members_from = -1
        elif text == "[":
            members_from = at + 2 if pattern.startswith("^", at + 1) else at + 1
        yield Token(at, text, in_class)
        at += len(text)
