"""The JSON syntax choices of ttguard.core.syntax, each the reading that refuses least."""

from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import verdict
from tests.test_properties import reference_verdict
from ttguard import TTError, validate
from ttguard.core.fast_engine import NOT_JSON as NOT_JSON_VALUE
from ttguard.core.fast_engine import fast_parse

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


# -- a syntax error found by the fast parsers (ttguard.core.fast_engine.fast_parse) -----------

#: Bodies json.loads reads and msgspec or orjson refuse for their syntax: each must reach the
#: exact parser. msgspec says a body with a lone surrogate's escape ends early, wherever it is.
READ_BEYOND_THE_STANDARD = [
    b'["\\ud800", 1]', b'["\\ud800 x"]', b'{"k": "\\udc00", "n": [1, 2]}', b"[NaN]",
    b'{"a": -Infinity}', b'[Infinity, "\\u00e9\\u00e9\\u00e9"]', '["é", NaN]'.encode(),
    '[1e400, "é"]'.encode(), '\ufeff{"é": 1}'.encode(), '["\\ud83d", "é"]'.encode()]


@pytest.mark.parametrize("body", READ_BEYOND_THE_STANDARD)
def test_what_json_loads_reads_beyond_the_standard_is_not_a_syntax_error(body: bytes) -> None:
    assert fast_parse(body) is not NOT_JSON_VALUE
    assert repr(validate(body)) == repr(json.loads(body))


@pytest.mark.parametrize("body", [
    b'{"entries": {"a": {"value": 1}, "b": {"val', b'[1, 2', b'{"a": "\\u00e9\\n\\n\\n", "b": [',
    '{"a": "wartość", "b": [1'.encode(), b'{"a": 1,}', b'{"a" 1}', b"[01]", b"[1.5e]",
    b'{"a": 1} x', '{"a": "é"} x'.encode()])
def test_a_syntax_error_is_settled_by_the_fast_parser(body: bytes) -> None:
    # Not parsed again by json.loads: a body cut short cost its parse twice (2.0x-2.2x at 1 kB).
    assert fast_parse(body) is NOT_JSON_VALUE
    with pytest.raises(TTError) as error:
        validate(body)
    assert verdict(error) == NOT_JSON


@pytest.mark.parametrize("body", [
    '["é", x]', '["é", 1', '["é"] x', '["é", 1,]', '["é\x01"]', '["é\\q"]', '["é", 1.]',
    '["é", 01]', '["é", 1e]', '["é", -]'])
def test_each_syntax_error_orjson_names_is_settled_by_it(body: str) -> None:
    # One body for each message fast_engine lists as orjson's syntax errors: an orjson that
    # words one otherwise is slower here (the exact path decides), and this test says so.
    assert fast_parse(body.encode()) is NOT_JSON_VALUE


def test_a_syntax_error_in_a_body_that_is_not_utf8_is_invalid_characters() -> None:
    # UTF-8 is checked first, as the server does, whichever parser met the syntax error.
    for body in (b'{"a": [1, 2', b'{"a": "\\n\\n\\n\\n", "b": [1'):
        with pytest.raises(TTError) as error:
            validate(body + b"\xff")
        assert verdict(error)[1] == 400314


def _verdict(body: bytes) -> tuple[object, str]:
    """ttguard's verdict on a body without an operation, in the shape of the buffered
    reference pipeline's (:func:`tests.test_properties.reference_verdict`)."""
    try:
        return "accepted", json.dumps(validate(body))
    except TTError as error:
        return error.subcode, error.description


_SYNTAX_BYTES = [b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b"u", b"d8", b"NaN", b"-",
                 b"e", b"0", b".", b" ", b"\xff", "é".encode(), b"\\ud800", b"Infinity", b"1e400"]
json_ready_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4),
                                                                       children, max_size=4),
    max_leaves=12)


#: How many damaged bodies the law below was checked on in this process (the fuzz run
#: reports it), and on how many a run checks it.
checked = 0
EXAMPLES = int(os.environ.get("TTGUARD_SYNTAX_EXAMPLES", "1500"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(value=json_ready_values, ascii_only=st.booleans(), escapes=st.integers(0, 12),
       cut=st.floats(0, 1), damage=st.sampled_from(["cut", "insert", "delete", "replace"]),
       inserted=st.sampled_from(_SYNTAX_BYTES))
def test_a_damaged_body_gets_the_verdict_of_json_loads(value: object, ascii_only: bool,
                                                       escapes: int, cut: float, damage: str,
                                                       inserted: bytes) -> None:
    # Values with NaN, infinities and lone surrogates (json.dumps writes them), on both of
    # fast_parse's routes (a few escapes, or many: the text is padded with newlines).
    global checked
    checked += 1
    body = json.dumps([value, "\n" * escapes], ensure_ascii=ascii_only).encode(
        "utf-8", "surrogatepass")
    at = round(cut * len(body))
    body = {"cut": body[:at], "insert": body[:at] + inserted + body[at:],
            "delete": body[:at] + body[at + 1:],
            "replace": body[:at] + inserted + body[at + len(inserted):]}[damage]
    assert _verdict(body) == reference_verdict(body, None, 65536, {})


_UTF8_PIECES = [b"a", "é".encode(), "😀".encode(), "\ufffe".encode(), b"\xed\xa0\x80",
                b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\xc3", b"\x80", b"\xff",
                b"\xf0\x9f\x98", b"\\n", b'", "']


@settings(max_examples=800, deadline=None)
@given(pieces=st.lists(st.sampled_from(_UTF8_PIECES), max_size=12))
def test_bytes_that_are_not_utf8_are_found_as_pythons_strict_decoder_finds_them(
        pieces: list[bytes]) -> None:
    # orjson's check of the whole body (fast_parse's NOT_UTF8) against Python's decoder:
    # surrogates, overlong forms, code points past U+10FFFF, cut sequences.
    body = b'["' + b"".join(pieces) + b'"]'
    assert _verdict(body) == reference_verdict(body, None, 65536, {})
