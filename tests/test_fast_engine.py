"""The fast engine gives the reference's verdict, word for word, and parses as json.loads does.

The differential law runs on requests generated from every schema of the catalogue
(:mod:`tests.schema_requests`): each goes through the streaming validator (fast engine, then the
walk of a refused one) and through the buffered reference pipeline alone, and both
must give the same verdict, subcode and description. ``make fuzz`` runs it on many more.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tests.conftest import answer, verdict
from tests.schema_requests import as_parsed, requests
from tests.test_adversarial import catalogue_patterns
from tests.test_properties import reference_verdict, streamed_verdict
from ttguard import TTError, operations, validate
from ttguard.core import fast_engine, rules
from ttguard.core.catalogue import request_schema
from ttguard.core.fast_engine import (
    NOT_JSON,
    NOT_PROVEN,
    NOT_UTF8,
    _integer_text_within,
    _python_end,
    exact_pattern,
    fast_parse,
    lenient_schema,
    rust_validator,
)
from ttguard.core.fast_refusal import _pattern_in_rust, _rule, walk
from ttguard.core.reference import first_error, first_error_at
from ttguard.core.routes import parse_query
from ttguard.core.stream import request_verdict

OPERATIONS = [name for name in operations() if request_schema(name)]
#: Requests per operation: a short pass in the test suite, a long one in ``make fuzz``.
EXAMPLES = int(os.environ.get("TTGUARD_DIFFERENTIAL_EXAMPLES", "60"))
#: How many requests the law was checked on in this process (the fuzz run reports it).
checked = 0


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_engines_agree_on_requests_from_every_schema(operation: str, data: st.DataObject
                                                         ) -> None:
    global checked
    checked += 1
    path, query, body = data.draw(requests(operation))
    parameters = {"path": path, "query": query}
    streamed = streamed_verdict([body], operation, 65536, None, parameters)
    event(f"verdict {streamed[0]}")
    assert streamed == reference_verdict(body, operation, 65536, parameters)


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=max(EXAMPLES // 4, 10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_direct_driver_words_whole_requests_as_jsonschema_does(operation: str,
                                                                   data: st.DataObject) -> None:
    # The core runs the keyword functions by DirectValidator on requests Rust cannot read: it
    # must find jsonschema's first error, word for word, and where it sits.
    path, query, body = data.draw(requests(operation))
    request = {"path": path, "query": parse_query(query, operation), "body": body}
    direct, reference = (first_error_at(operation, request, direct=flag) for flag in (True, False))
    if reference is None:
        assert direct is None, request
    else:
        assert direct is not None, request
        assert ((direct[0].subcode, direct[0].description, direct[1])
                == (reference[0].subcode, reference[0].description, reference[1])), request


#: The operations whose requests hold a collection with keys held to a pattern, which Rust's
#: spelling of the lenient schema reads as ``patternProperties``.
COLLECTIONS = [name for name in OPERATIONS
               if "propertyNames" in json.dumps(lenient_schema(request_schema(name)))]


@pytest.mark.parametrize("operation", COLLECTIONS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_rusts_spelling_of_a_collection_accepts_what_the_lenient_schema_accepts(
        operation: str, data: st.DataObject) -> None:
    import jsonschema_rs

    request, readable = as_parsed(data.draw(requests(operation)), operation)
    assume(readable)
    lenient = lenient_schema(request_schema(operation))
    as_written = jsonschema_rs.validator_for(lenient, pattern_options=jsonschema_rs.RegexOptions())
    assert rust_validator(lenient).is_valid(request) == as_written.is_valid(request), request


@pytest.mark.parametrize(("names", "values", "instance", "valid"), [
    ({"pattern": "^a"}, None, {"ab": 1, "ac": None}, True),
    ({"pattern": "^a"}, None, {"ab": 1, "b": None}, False),
    ({"type": ["string"], "pattern": "^a"}, {"type": "integer"}, {"ab": 1}, True),
    ({"type": ["string"], "pattern": "^a"}, {"type": "integer"}, {"ab": "1"}, False),
    ({"type": ["string"], "pattern": "^a"}, {"type": "integer"}, {"b": 1}, False),
    ({"type": ["string"], "pattern": "^a"}, {"type": "integer"}, {}, True),
])
def test_keys_held_to_a_pattern_are_spelled_as_pattern_properties(
        names: dict[str, Any], values: dict[str, Any] | None, instance: dict[str, Any],
        valid: bool) -> None:
    schema: dict[str, Any] = {"type": ["object"], "propertyNames": names}
    if values is not None:
        schema["additionalProperties"] = values
    spelled = fast_engine._rust_spelling({"properties": {"body": schema}})["properties"]["body"]
    assert "propertyNames" not in spelled
    assert spelled["patternProperties"] == {"^a": values if values is not None else True}
    assert rust_validator(schema).is_valid(instance) is valid


def test_keys_held_to_more_than_a_pattern_keep_their_spelling() -> None:
    for schema in ({"propertyNames": {"pattern": "^a", "maxLength": 3}},
                   {"properties": {"a": {}}, "propertyNames": {"pattern": "^a"}},
                   {"propertyNames": {"pattern": "^a"}, "additionalProperties": False}):
        assert fast_engine._rust_spelling(schema) == schema


LEDGER = {"twin": "e834214a-e13d-412b-ffd6-911ab58c8733", "ledger": "personal"}
KEY_ERROR = ("body::entries->__key__: string does not match regex "
             "(_*[a-z0-9]+)([_-][0-9a-z]+)")
HISTORY_ERROR = ("body::entries->sensor_{}->history: string does not match regex "
                 "^([1-9][0-9]{{0,2}}[DWMY])|(INF)$")


def _entries(bad_key: int, bad_history: int) -> dict[str, object]:
    entries: dict[str, object] = {}
    for index in range(300):
        entry = {"value": index, "visibility": None,
                 "history": "30X" if index == bad_history else None}
        entries["Sensor A" if index == bad_key else f"sensor_{index}"] = entry
    return {"entries": entries}


@pytest.mark.parametrize(("bad_key", "bad_history", "description"), [
    (5, 200, KEY_ERROR),                      # a key comes before the values after it
    (200, 5, HISTORY_ERROR.format(5)),        # a value comes before the keys after it
    (7, 7, KEY_ERROR),                        # an item's key comes before its value
    (299, 298, HISTORY_ERROR.format(298)),
])
def test_the_first_of_several_failures_in_a_large_body_is_the_servers_first(
        bad_key: int, bad_history: int, description: str) -> None:
    body = _entries(bad_key, bad_history)
    request = {"path": LEDGER, "query": {}, "body": body}
    assert len(json.dumps(body)) >= 16384
    with pytest.raises(TTError) as error:
        validate(body, "add_twin_ledger_entry", path_params=LEDGER)
    assert verdict(error) == (400, 400589, description)
    reference = first_error("add_twin_ledger_entry", request)
    assert reference is not None and reference.description == description


@pytest.mark.parametrize(("entries", "description"), [
    ({"0": None}, "body::entries->0: none is not an allowed value"),
    ({"01": {"value": 1, "history": "30X"}},
     "body::entries->01->history: string does not match regex ^([1-9][0-9]{0,2}[DWMY])|(INF)$"),
])
def test_a_key_that_reads_as_a_number_is_judged_as_the_key_it_is(
        entries: dict[str, object], description: str) -> None:
    # jsonschema-rs reports the key "0" (and "01") as the index 0 (and 1): the walk goes by the
    # keys, never by a path Rust gives.
    request = {"path": LEDGER, "query": {}, "body": {"entries": entries}}
    assert answer(request_verdict("update_twin_ledger_entry", request)) == (400589, description)
    with pytest.raises(TTError) as error:
        validate({"entries": entries}, "update_twin_ledger_entry", path_params=LEDGER)
    assert verdict(error) == (400, 400589, description)


STICKER_KEY_ERROR = r"body::stickers->__key__: string does not match regex [0-9A-Za-z\-]{3,48}"


@pytest.mark.parametrize(("body", "description"), [
    ({"stickers": {"": {"recipients": None}}}, STICKER_KEY_ERROR),
    # The path Rust gives the inner error, stickers->recipients, names another value here.
    ({"stickers": {"": {"recipients": None}, "recipients": {}}}, STICKER_KEY_ERROR),
])
def test_an_empty_key_is_judged_as_the_key_it_is(body: dict[str, object],
                                                 description: str) -> None:
    # jsonschema-rs leaves an empty key out of an error's path: the walk goes by the keys.
    request = {"path": {}, "query": {}, "body": body}
    assert answer(request_verdict("put_sticker", request)) == (400589, description)
    with pytest.raises(TTError) as error:
        validate(body, "put_sticker")
    assert verdict(error) == (400, 400589, description)


@pytest.mark.parametrize(("pattern", "spelled"), [
    ("^a$", r"^a(?:\n?\z)"),
    ("a", "a"),
    (r"a\$", r"a\$"),  # an escaped $ is a dollar sign
    (r"a\\$", r"a\\(?:\n?\z)"),  # after an escaped backslash, the end
    ("^([1-9])|(INF)$", r"^([1-9])|(INF)(?:\n?\z)"),
    ("(a$)b", "(a$)b"),  # more of the pattern follows: Rust's reading stays
    ("(a|b$)", "(a|b$)"),
    ("[|]$|y", r"[|](?:\n?\z)|y"),  # a | in a class splits nothing
    ("[]|]$|y", r"[]|](?:\n?\z)|y"),  # nor one after a ] that is a class's first member
    ("[^]|]$|y", r"[^]|](?:\n?\z)|y"),
    (r"\|$", r"\|(?:\n?\z)"),  # nor an escaped |
])
def test_each_alternatives_final_dollar_is_spelled_as_python_reads_it(pattern: str,
                                                                       spelled: str) -> None:
    assert _python_end(pattern) == spelled


@pytest.mark.parametrize("pattern", catalogue_patterns())
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_rust_passes_a_pattern_only_where_python_does(pattern: str, data: st.DataObject) -> None:
    # The lenient reading is sound: a final newline included, Rust accepts only what the
    # reference's rule accepts.
    text = data.draw(st.from_regex(pattern).flatmap(lambda found: st.sampled_from(
        [found, found + "\n", found + "\n\n", found + "\nx", found[:-1] + "\n"])))
    lenient = rust_validator(lenient_schema({"type": "string", "pattern": pattern}))
    if lenient.is_valid(text):
        assert rules.pattern(pattern, text, {}) is None, text


def _searches_alike(pattern: str, text: str) -> bool:
    """Whether the walk's rule, Rust's search for ``pattern`` (exact_pattern's spelling),
    answers ``text`` as the reference's rule does."""
    assert exact_pattern(pattern) is not None
    schema = {"pattern": pattern}
    rule, search = _rule("pattern", pattern, schema)
    assert rule is _pattern_in_rust
    return rule(search, text, schema) == rules.pattern(pattern, text, schema)


def _near(found: str) -> st.SearchStrategy[str]:
    """Strings near one a pattern matches: it, cut, grown, with a character changed, with a
    newline after it."""
    return st.one_of(
        st.just(found), st.just(found + "\n"), st.just(found[:-1]), st.just(found[1:]),
        st.tuples(st.integers(0, len(found)), st.sampled_from("aZ0_-#.!/ \n\u00e9\ud800")).map(
            lambda change: found[:change[0]] + change[1] + found[change[0] + 1:]),
        st.text(alphabet="aZ0_-#.=+/ \n", max_size=4).map(lambda more: more + found + more))


@pytest.mark.parametrize(("pattern", "text"), [("a+b*a+", "a"), ("a+(x[ab])*?a+", "ab"),
                                             ("^a+(b)*a+$", "a")])
def test_rust_runs_patterns_with_the_regex_crate_which_reads_them_right(pattern: str,
                                                                        text: str) -> None:
    # fancy-regex, jsonschema_rs's default engine, matches these (jsonschema_rs 0.60.3).
    assert rules.pattern(pattern, text, {}) is not None
    assert not rust_validator({"pattern": pattern}).is_valid(text)


def test_every_catalogue_pattern_is_searched_by_rust_exactly() -> None:
    assert [pattern for pattern in catalogue_patterns() if exact_pattern(pattern) is None] == []


@pytest.mark.parametrize("pattern", [
    r"\d", r"\w+", r"\s", r"\bA", "[^a]", "(?i)a", "(?P<x>a)", "(?=a)", r"(a)\1", "a$b", "(a$)",
    "\u00e9", "a{,3}", "[[a]", "[a-z&&b]", "[a--b]", "[a~~b]", "[:alpha:]", "[a-z-0]",
])
def test_a_pattern_rust_may_read_otherwise_is_left_to_python(pattern: str) -> None:
    # Unicode's tables, flags, nested classes and set operations, a $ before the end.
    assert exact_pattern(pattern) is None


@pytest.mark.parametrize("pattern", catalogue_patterns())
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_rust_searches_a_catalogue_pattern_exactly_as_python(pattern: str,
                                                            data: st.DataObject) -> None:
    text = data.draw(st.from_regex(pattern).flatmap(_near) | st.text(max_size=20))
    assert _searches_alike(pattern, text), text


_LITERALS = st.sampled_from(["a", "b", "-", "_", "#", " ", "/", r"\.", r"\-", r"\$", "."])
_CLASSES = st.sampled_from(["[ab]", "[a-c_]", "[-a]", "[a-]", "[a.]", r"[a\-]", "[_ #]"])
_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?", "??"])


def _shared_syntax() -> st.SearchStrategy[str]:
    """Patterns in the syntax both engines read alike, as exact_pattern accepts it."""
    def alternation(terms: st.SearchStrategy[str], anchored: bool) -> st.SearchStrategy[str]:
        anchor = st.booleans() if anchored else st.just(False)
        branch = st.tuples(anchor, st.lists(terms, min_size=1, max_size=4), anchor).map(
            lambda parts: ("^" if parts[0] else "") + "".join(parts[1])
            + ("$" if parts[2] else ""))
        return st.lists(branch, min_size=1, max_size=3).map("|".join)

    # A group's members are not quantified: a quantifier within a quantifier makes Python's
    # backtracking search exponential, which says nothing of the two readings.
    groups = st.tuples(st.sampled_from(["(", "(?:"]),
                       alternation(_LITERALS | _CLASSES, anchored=False)).map(
        lambda group: group[0] + group[1] + ")")
    terms = st.tuples(_LITERALS | _CLASSES | groups, _QUANTIFIERS).map("".join)
    return alternation(terms, anchored=True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=_shared_syntax(), data=st.data())
def test_rust_searches_the_shared_syntax_exactly_as_python(pattern: str,
                                                          data: st.DataObject) -> None:
    assert exact_pattern(pattern) is not None, pattern
    text = data.draw(st.text(alphabet="ab_-#. /$\n\u00e9\ud800", max_size=10)
                     | st.from_regex(pattern).flatmap(_near))
    assert _searches_alike(pattern, text), (pattern, text)


def proven_by_rust(operation: str, request: dict[str, Any]) -> bool:
    """Whether Rust's pass of the operation's lenient schema proves ``request``, as the walk
    asks it (a request Rust cannot read proves nothing)."""
    walked = walk(operation)
    assert walked is not None and walked.proof is not None
    try:
        return bool(walked.proof.is_valid(request))
    except (ValueError, OverflowError):
        return False


def test_a_request_the_rust_engine_cannot_read_is_not_proven() -> None:
    lone_surrogate = {"path": {}, "query": {}, "body": {"description": {"\ud800": 1}}}
    assert not proven_by_rust("create_twin", lone_surrogate)
    description = {"description": {"\ud800": 1, "ok": 1}}
    assert answer(request_verdict("create_twin", {**lone_surrogate, "body": description})) == (
        400589, "body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$")


# -- integers within bounds, as text ------------------------------------------------------------


def numerals(number: int) -> list[str]:
    """The plain spellings int() reads as ``number``: a sign or not, leading zeros or not."""
    digits, sign = str(abs(number)), "-" if number < 0 else ""
    return [f"{sign}{digits}", f"{sign or '+'}{digits}", f"{sign}000{digits}",
            *(["-0", "-000", "+0"] if number == 0 else [])]


def spelled_out(minimum: float | None, maximum: float | None) -> Any:
    """Whether a text is spelled out, as the Rust engine reads the pattern (``$``: the end)."""
    return rust_validator({"pattern": _integer_text_within(minimum, maximum)}
                                       ).is_valid


def within(text: str, minimum: float | None, maximum: float | None) -> bool:
    return ((minimum is None or math.ceil(minimum) <= int(text))
            and (maximum is None or int(text) <= math.floor(maximum)))


def _reads(convert: Any, text: str) -> bool:
    try:
        convert(text)
    except ValueError:
        return False
    return True


@settings(max_examples=2000, deadline=None)
@given(text=st.text(alphabet="0123456789_+-.eEinfatyINFATY \t\n\r\x0b\x0c\x1c\x1f\x85\xa0"
                             "\u0661\u06f9\u2007\u3000\u0b6f\u2070\u00b2\U0001d7ce\U0001d7ff",
                    max_size=10))
def test_rust_passes_a_numeric_string_only_where_int_and_float_read_it(text: str) -> None:
    for declared, convert in (("integer", int), ("number", float)):
        lenient = rust_validator(lenient_schema({"type": declared}))
        if lenient.is_valid(text):
            assert _reads(convert, text), (declared, text)


def test_the_digits_and_blanks_of_the_lenient_reading_are_those_int_and_float_read() -> None:
    # Spelled out as constants (reading them from the interpreter's tables costs 0.1 s): each is
    # checked here, as Rust reads it, against int() and float() of this interpreter, character
    # by character (but the surrogates, which Rust cannot read).
    digit = rust_validator({"pattern": f"^{fast_engine._DIGIT}$"})
    blank = rust_validator({"pattern": f"^{fast_engine._BLANK}1{fast_engine._BLANK}$"})
    for code in [*range(0xD800), *range(0xE000, sys.maxunicode + 1)]:
        char = chr(code)
        assert digit.is_valid(char) == (_reads(int, char) and _reads(float, char)), char
        if not char.isdecimal():
            padded = f"{char}1{char}"
            assert blank.is_valid(padded) == (_reads(int, padded) and _reads(float, padded)), char


@pytest.mark.parametrize(("declared", "text"), [
    ("integer", " +1_000 \n"), ("integer", "\u00a0\u0661\u0662\u3000"),
    ("number", "\U0001d7cf.\u0665e-\u0967"), ("integer", "007"), ("number", "1_0.5e-1_0"),
    ("number", ".5"),
    ("number", "1."), ("number", " -Infinity"), ("number", "nAn"), ("number", "inf\t")])
def test_the_numeric_strings_pydantic_reads_are_proven_by_rust(declared: str, text: str) -> None:
    assert rust_validator(lenient_schema({"type": declared})).is_valid(text)


@pytest.mark.parametrize(("minimum", "maximum"), [
    (1, 1000), (None, 100), (0, None), (-7, None), (-250, -13), (37, 4521), (0, 0), (5, 3),
    (-1.5, 99.5), (None, -1), (1, 1)])
def test_the_integers_within_bounds_are_spelled_out_exactly(minimum: float | None,
                                                            maximum: float | None) -> None:
    matches = spelled_out(minimum, maximum)
    for number in range(-6000, 6000):
        for text in numerals(number):
            assert matches(text) == within(text, minimum, maximum), text
    # Other texts int() reads are left to the reference.
    for text in ["", "+", "-", "1.0", "1e2", " 1", "1_0", "0x1", "\u0661", "10\n", "--1"]:
        assert not matches(text), text


@settings(max_examples=300, deadline=None)
@given(low=st.integers(-10**7, 10**7), span=st.integers(0, 10**7),
       number=st.integers(-10**8, 10**8), open_side=st.sampled_from([None, "minimum", "maximum"]))
def test_any_range_is_spelled_out_exactly(low: int, span: int, number: int,
                                          open_side: str | None) -> None:
    minimum = None if open_side == "minimum" else low
    maximum = None if open_side == "maximum" else low + span
    matches = spelled_out(minimum, maximum)
    for text in numerals(number) + numerals(low) + numerals(low + span):
        assert matches(text) == within(text, minimum, maximum), text


@pytest.mark.parametrize(("query", "proven", "description"), [
    ("count=100", True, None), ("count=1000", True, None), ("count=%2B0001", True, None),
    # A space (a '+' in a query) int() skips: not spelled out, so the reference judges.
    ("count=+0001", False, None),
    ("count=1001", False, "query::count: ensure this value is less than or equal to 1000"),
    ("count=0", False, "query::count: ensure this value is greater than or equal to 1"),
    ("count=-3", False, "query::count: ensure this value is greater than or equal to 1"),
    ("count=1e2", False, "query::count: value is not a valid integer"),
])
def test_a_bounded_integer_in_a_query_is_proven_by_its_value(
        query: str, proven: bool, description: str | None) -> None:
    request = {"path": {}, "query": parse_query(query, "scan_twins"), "body": {}}
    assert proven_by_rust("scan_twins", request) is proven
    found = first_error("scan_twins", request)
    assert (found and found.description) == description
    if description is None:
        assert validate(b"{}", "scan_twins", query=query) == {}
    else:
        with pytest.raises(TTError) as refusal:
            validate(b"{}", "scan_twins", query=query)
        assert verdict(refusal) == (400, 400589, description)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                       children, max_size=3),
    max_leaves=10)


@settings(max_examples=600, deadline=None)
@given(text=st.one_of(
    values.map(json.dumps),
    st.binary(max_size=30),
    st.text(max_size=30).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.integers(min_value=-(10**40), max_value=10**40).map(lambda n: str(n).encode()),
    st.integers(min_value=-(2**65), max_value=2**65).map(lambda n: f"[{n}]".encode()),
))
def test_a_fast_parse_is_the_exact_parse(text: str | bytes) -> None:
    body = text.encode() if isinstance(text, str) else text
    value = fast_parse(body)
    if value is NOT_PROVEN:
        return
    if value is NOT_UTF8:
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        return
    if value is NOT_JSON:  # json.loads refuses it too, if it decodes
        with contextlib.suppress(UnicodeDecodeError):
            decoded = body.decode("utf-8")
            with pytest.raises(ValueError):
                json.loads(decoded)
        return
    exact = json.loads(body.decode("utf-8"))
    assert json.dumps(value) == json.dumps(exact)


BEYOND_64_BITS = (b"[-9223372036854775809]", b"[18446744073709551616]", b"18446744073709551616",
                  b'{"a":\n 18446744073709551616.5}', b"[1,18446744073709551616e0]",
                  b'{"n": ' + b"7" * 4300 + b"}")


@pytest.mark.parametrize("body", BEYOND_64_BITS)
def test_integers_beyond_64_bits_keep_their_digits_in_a_body_without_escapes(body: bytes) -> None:
    value = fast_parse(body)
    assert json.dumps(value) == json.dumps(json.loads(body))


@pytest.mark.parametrize("body", BEYOND_64_BITS)
def test_integers_beyond_64_bits_are_not_proven_beside_escapes_or_non_ascii(body: bytes) -> None:
    # orjson's route, which would turn them into floats; a few escapes stay on msgspec's.
    for other in (b'[' + body + b', "' + b"\\n" * 3 + b'"]', b'[' + body + ', "é"]'.encode()):
        assert fast_parse(other) is NOT_PROVEN
    few = b'[' + body + b', "' + b"\\n" * 2 + b'"]'
    assert json.dumps(fast_parse(few)) == json.dumps(json.loads(few))


def test_integers_within_64_bits_are_proven_on_both_routes() -> None:
    for body in (b"[-999999999999999999, 999999999999999999]",
                 b'[-999999999999999999, 999999999999999999, "\\u00e9"]'):
        assert fast_parse(body) == json.loads(body)


def test_what_the_escape_free_route_cannot_read_goes_the_other_way() -> None:
    # 4301 digits pass the interpreter's limit; nesting 1000 deep is past msgspec's recursion
    # budget, and within orjson's, which reads it as it did before msgspec.
    assert fast_parse(b"[" + b"7" * 4301 + b"]") is NOT_PROVEN
    assert isinstance(fast_parse(b"[" * 1000 + b"]" * 1000), list)


LIMITS_OF_A_DOUBLE = [b"1e+308", b"1.7976931348623157e+308", b"1e400", b"-1e400", b"5e-324",
                      b"2.2250738585072011e-308", b"1e-400", b"1e23", b"9007199254740993.0",
                      b"0." + b"0" * 310 + b"1", b"17976931348623157" + b"0" * 292 + b".0"]


@pytest.mark.parametrize("number", LIMITS_OF_A_DOUBLE)
def test_floats_at_the_limits_of_a_double_are_read_as_json_loads_reads_them(number: bytes) -> None:
    # msgspec reads them through float(), as json.loads does (its own reading of such a
    # literal took 40 times as long): infinity past the largest double, 0.0 past the smallest.
    # orjson refuses a literal past the largest double: the exact path reads it.
    body = b"[" + number + b"]"
    assert repr(fast_parse(body)) == repr(json.loads(body))
    beside_text = b'[' + number + ', "é"]'.encode()
    value = fast_parse(beside_text)
    assert value is NOT_PROVEN or repr(value) == repr(json.loads(beside_text))


ascii_numbers = st.one_of(
    st.integers(min_value=-(10**60), max_value=10**60).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?",
                  fullmatch=True))


@settings(max_examples=400, deadline=None)
@given(numbers=st.lists(ascii_numbers, max_size=8),
       spacing=st.sampled_from(["", " ", "\n\t", "\r\n  "]))
def test_numbers_without_escapes_parse_as_json_loads_reads_them(numbers: list[str],
                                                                  spacing: str) -> None:
    body = ("[" + spacing + f",{spacing}".join(numbers) + spacing + "]").encode()
    value = fast_parse(body)
    if value is NOT_PROVEN:
        return
    assert json.dumps(value) == json.dumps(json.loads(body))
    assert [type(item) for item in value] == [type(item) for item in json.loads(body)]


def test_long_digit_runs_in_text_and_fractions_are_parsed_fast() -> None:
    body = '{"RFID#00000000000000000000000": 0.12345678901234567890123, "k": "é"}'.encode()
    assert fast_parse(body) == json.loads(body)
