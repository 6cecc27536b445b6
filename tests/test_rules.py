"""The type rule reads values as pydantic v1 does, by Python's own conversions
(:mod:`ttguard.core.rules`), and takes the short way only where they would fail."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ttguard.core.rules import type_

#: ASCII numerals' characters, others, and a few of what Python also reads: Unicode digits and
#: whitespace.
NUMERAL_TEXT = st.text(alphabet="0123456789+-._eEinfatyINFATYxso \t\n\r\x0b\x0c\x1c\u0661\u3000",
                       max_size=10)


def _reads(convert: Any, value: object) -> bool:
    try:
        convert(value)
    except (TypeError, ValueError):
        return False
    return True


@settings(max_examples=3000, deadline=None)
@given(text=NUMERAL_TEXT | st.text(max_size=6))
def test_a_string_is_an_integer_or_a_number_exactly_where_int_or_float_reads_it(
        text: str) -> None:
    assert (type_("integer", text, {}) is None) == _reads(int, text), text
    assert (type_("number", text, {}) is None) == _reads(float, text), text


@settings(max_examples=500, deadline=None)
@given(value=st.text(max_size=3) | st.integers() | st.floats() | st.none()
       | st.lists(st.text(max_size=2), max_size=3))
def test_a_value_is_an_object_exactly_where_dict_takes_it(value: object) -> None:
    assert (type_("object", value, {}) is None) == _reads(dict, value), value
