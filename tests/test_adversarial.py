"""Adversarial bodies: each gets its exact verdict, never a crash or a hang."""

from __future__ import annotations

from typing import Any

import pytest
import regex

from tests.conftest import verdict
from ttguard import StreamValidator, TTError, operations, validate
from ttguard.core import rules
from ttguard.core.catalogue import request_schema

NOT_JSON = (400, 400415, "Request body is not a valid JSON.")
NOT_UTF8 = (400, 400314, "Request body contains invalid characters.")


def test_100_000_nested_arrays_are_not_json() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(TTError) as error:
        validate(body, max_body=len(body))
    assert verdict(error) == NOT_JSON


def test_deeply_nested_objects_in_a_description_are_not_json() -> None:
    body = b'{"description": {"a": ' + b"[" * 30_000 + b"]" * 30_000 + b"}}"
    with pytest.raises(TTError) as error:
        validate(body, "create_twin")
    assert verdict(error) == NOT_JSON


@pytest.mark.parametrize("body", [
    b"-" + b"9" * 5000, b'{"description": {"n": ' + b"1" * 5000 + b"}}"])
def test_integers_of_5000_digits_are_not_json(body: bytes) -> None:
    with pytest.raises(TTError) as error:
        validate(body, "create_twin")
    assert verdict(error) == NOT_JSON


@pytest.mark.parametrize("cut", range(1, 4))
def test_a_character_truncated_at_the_end_of_the_last_chunk_is_not_utf8(cut: int) -> None:
    body = '"😀"'.encode()[:-1]  # the closing quote is missing too: UTF-8 is judged first
    body = body[: len(body) - cut]
    validator = StreamValidator(content_length=len(body))
    validator.feed(body[:1])
    validator.feed(body[1:])
    with pytest.raises(TTError) as error:
        validator.finish()
    assert verdict(error) == NOT_UTF8


@pytest.mark.parametrize(("sequence", "failing_feed"), [
    (b"\xc0\x80", 0),  # C0 never starts a valid sequence: known at once
    (b"\xe0\x80\xaf", 1), (b"\xf0\x80\x80\xaf", 1),  # overlong: known at the second byte
])
def test_an_overlong_sequence_split_across_chunks_fails_in_the_feed_that_shows_it(
        sequence: bytes, failing_feed: int) -> None:
    validator = StreamValidator(content_length=len(sequence) + 2)
    chunks = [b'"' + sequence[:1], sequence[1:] + b'"']
    for index, chunk in enumerate(chunks):
        if index == failing_feed:
            with pytest.raises(TTError) as error:
                validator.feed(chunk)
            assert verdict(error) == NOT_UTF8
            return
        validator.feed(chunk)


def test_a_thousand_tiny_chunks_of_garbage_are_one_verdict() -> None:
    validator = StreamValidator()
    for _ in range(1000):
        validator.feed(b"\x00")
    with pytest.raises(TTError) as error:
        validator.finish()
    assert verdict(error) == NOT_JSON


def catalogue_patterns() -> list[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern":
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for name in operations():
        walk(request_schema(name))
    return sorted(found)


PATHOLOGICAL = [
    "a" * 65_000 + "!", "_" * 65_000 + "!", "a-" * 32_000 + "!", "a/" * 32_000, "#" * 65_000,
    "AAAAAAAA#" + "a" * 65_000 + "!", "1" * 65_000 + "!", "a" * 32 + "/" + "a" * 65_000,
    "0-" * 32_000 + "_", "\n" * 65_000,
]


@pytest.mark.parametrize("pattern", catalogue_patterns())
def test_no_catalogue_regex_backtracks_on_a_pathological_value(pattern: str) -> None:
    # The core's own bound, far above a linear match (a few milliseconds on 64 kB, even on a
    # busy machine) and far below a backtracking one (the Entry key variant as printed took
    # 45 s before it was rewritten): a pattern that hits it would make the core accept.
    compiled = regex.compile(pattern, flags=regex.VERSION0)
    for value in PATHOLOGICAL:
        compiled.search(value, timeout=rules.REGEX_TIMEOUT)


@pytest.mark.parametrize("pattern", catalogue_patterns())
def test_no_catalogue_regex_takes_long_on_a_short_pathological_value(pattern: str) -> None:
    # Strings of up to UNTIMED_LENGTH characters are searched without the timeout: the bound
    # here (CPU time of this process, so a busy machine does not count) is a thousand times
    # what a linear search of them takes.
    compiled = regex.compile(pattern, flags=regex.VERSION0)
    for value in PATHOLOGICAL:
        for short in (value[:rules.UNTIMED_LENGTH], value[-rules.UNTIMED_LENGTH:]):
            compiled.search(short, timeout=0.01)


def test_a_short_string_gets_its_verdict_whatever_the_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "REGEX_TIMEOUT", 1e-9)
    schema = {"pattern": "^[a-z_][0-9a-z_]{0,63}$"}
    value = "a" * (rules.UNTIMED_LENGTH - 1) + "!"
    assert rules.pattern(schema["pattern"], value, schema) == (
        "string does not match regex ^[a-z_][0-9a-z_]{0,63}$")


def test_a_regex_that_runs_out_of_time_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "REGEX_TIMEOUT", 1e-9)
    schema = {"pattern": "^[a-z_][0-9a-z_]{0,63}$"}
    value = "a" * 60_000 + "!"
    assert rules.pattern(schema["pattern"], value, schema) is None
    monkeypatch.undo()
    assert rules.pattern(schema["pattern"], value, schema) == (
        "string does not match regex ^[a-z_][0-9a-z_]{0,63}$")
