"""The JSON syntax choices of ttguard.core.syntax, each the reading that refuses least."""

from __future__ import annotations

import math

import pytest
from conftest import verdict

from ttguard import TTError, validate

NOT_JSON = (400, 400415, "Request body is not a valid JSON.")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_accepted_as_pythons_json_does(literal: str) -> None:
    value = validate(f'{{"x": {literal}}}')
    assert (isinstance(value, dict) and math.isnan(value["x"])) or math.isinf(value["x"])


def test_a_leading_byte_order_mark_is_skipped() -> None:
    assert validate(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_a_byte_order_mark_alone_is_an_empty_body() -> None:
    assert validate(b"\xef\xbb\xbf") is None


def test_duplicate_keys_are_accepted_and_the_last_wins() -> None:
    assert validate('{"a": 1, "a": 2}') == {"a": 2}


def test_ten_thousand_duplicate_keys_are_accepted() -> None:
    body = "{" + ",".join('"k":1' for _ in range(9_999)) + ',"k":2}'
    assert len(body) <= 65536
    assert validate(body) == {"k": 2}


def test_lone_surrogate_escapes_are_accepted() -> None:
    assert validate(r'["\ud800", "\udfff"]') == ["\ud800", "\udfff"]


def test_nul_bytes_are_valid_utf8_but_not_valid_json_outside_strings() -> None:
    assert validate(b'"\\u0000"') == "\x00"
    with pytest.raises(TTError) as error:
        validate(b'"\x00"')
    assert verdict(error) == NOT_JSON
    with pytest.raises(TTError) as error:
        validate(b"\x00[\x00]")  # UTF-16 to json.loads(bytes); the server reads UTF-8
    assert verdict(error) == NOT_JSON


def test_deep_nesting_within_the_quota_is_not_json_not_a_crash() -> None:
    with pytest.raises(TTError) as error:
        validate(b"[" * 30_000 + b"]" * 30_000)
    assert verdict(error) == NOT_JSON


def test_moderate_nesting_passes() -> None:
    assert validate(b"[" * 200 + b"]" * 200) is not None


def test_an_integer_of_5000_digits_is_not_json_as_in_pythons_json() -> None:
    with pytest.raises(TTError) as error:
        validate(b"[" + b"7" * 5000 + b"]")
    assert verdict(error) == NOT_JSON


def test_a_float_of_5000_digits_passes() -> None:
    assert validate(b"0." + b"7" * 5000) == pytest.approx(7 / 9)


@pytest.mark.parametrize("body", [
    b"{", b"[1,]", b"{'a': 1}", b"tru", b"1 2", b"\x1b", b"\xef\xbb\xbf\xef\xbb\xbf{}"])
def test_broken_json_is_refused(body: bytes) -> None:
    with pytest.raises(TTError) as error:
        validate(body)
    assert verdict(error) == NOT_JSON


@pytest.mark.parametrize("body", [b"1", b'"text"', b"null", b"true", b"[]"])
def test_any_json_value_passes_without_an_operation(body: bytes) -> None:
    validate(body)
