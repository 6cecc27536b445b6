"""The JSON locator: from a value's path to its line and column in the text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttguard.core.locate import Key, Position, locate

TEXT = """{
  "entries": {
    "good-key": {"value": [1, "a]\\"}", {"x": null}]},
    "BAD": {"value": 2, "history": "nope"}
  },
  "é": {"clé": NaN}
}"""


@pytest.mark.parametrize(("path", "expected"), [
    ([], Position(1, 1)),
    (["entries"], Position(2, 14)),
    (["entries", "BAD", "history"], Position(4, 36)),
    (["entries", Key("BAD")], Position(4, 5)),
    (["entries", "good-key", "value", 2, "x"], Position(3, 46)),
    (["entries", "good-key", "value", 1], Position(3, 31)),
    (["é", "clé"], Position(6, 16)),
    # Missing: the deepest value the path reaches.
    (["entries", "BAD", "visibility"], Position(4, 12)),
    (["entries", "good-key", "value", 7], Position(3, 27)),
    (["entries", 0], Position(2, 14)),
])
def test_a_path_leads_to_its_line_and_column(path: list[Any], expected: Position) -> None:
    assert locate(TEXT, path) == expected


def test_a_repeated_key_names_its_last_occurrence_as_json_loads_does() -> None:
    assert locate('{"a": 1, "a": 2}', ["a"]) == Position(1, 15)
    assert locate('{"a": 1, "a": 2}', [Key("a")]) == Position(1, 10)


def test_escaped_keys_are_compared_decoded() -> None:
    assert locate('{"\\u00e9t\\u00e9": 1}', ["été"]) == Position(1, 19)


def test_no_value_no_position_and_no_exception_on_broken_text() -> None:
    assert locate("  \n ", ["a"]) is None
    assert locate('{"a": [1, 2', ["a", 5]) == Position(1, 7)
    assert locate('{"a', ["a"]) == Position(1, 1)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=20)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _index(text: str, position: Position) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[:position.line - 1]) + position.column - 1


@settings(max_examples=300, deadline=None)
@given(JSON, st.booleans(), st.data())
def test_the_value_found_at_a_path_is_the_value_there(value: Any, indent: bool,
                                                       data: st.DataObject) -> None:
    text = json.dumps(value, indent=2 if indent else None, ensure_ascii=data.draw(st.booleans()))
    path = data.draw(st.sampled_from(_paths(value)))
    position = locate(text, list(path))
    assert position is not None
    found, _ = json.JSONDecoder().raw_decode(text, _index(text, position))
    expected = value
    for step in path:
        expected = expected[step]
    assert found == expected
