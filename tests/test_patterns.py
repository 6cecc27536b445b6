"""A pattern read token by token as Python reads it (:mod:`ttguard.core.patterns`)."""

from __future__ import annotations

import pytest

from ttguard.core.patterns import tokens


@pytest.mark.parametrize(("pattern", "expected"), [
    ("a|b", [("a", False), ("|", False), ("b", False)]),
    (r"\|$", [(r"\|", False), ("$", False)]),
    ("[|]$", [("[", False), ("|", True), ("]", True), ("$", False)]),
    # Python reads a "]" first in a class, after "[" or "[^", as a member.
    ("[]|]", [("[", False), ("]", True), ("|", True), ("]", True)]),
    ("[^]|]", [("[", False), ("^", True), ("]", True), ("|", True), ("]", True)]),
    (r"[\]|]x", [("[", False), (r"\]", True), ("|", True), ("]", True), ("x", False)]),
    ("a\\", [("a", False), ("\\", False)]),  # a backslash alone at the end
])
def test_each_token_says_whether_it_is_escaped_and_in_a_class(
        pattern: str, expected: list[tuple[str, bool]]) -> None:
    read = list(tokens(pattern))
    assert [(token.text, token.in_class) for token in read] == expected
    assert "".join(token.text for token in read) == pattern
    assert all(pattern.startswith(token.text, token.at) for token in read)
