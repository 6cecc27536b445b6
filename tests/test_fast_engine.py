"""The fast path only ever says "valid" where the exact path says so too, with the same value."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from ttguard.core.fastpath import NOT_PROVEN, fast_parse, fast_valid

from ttguard.core.reference import first_error

OPERATIONS = ["create_twin", "add_twin_ledger_entry"]

tricky_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from([
        "a\n", "key1", "Key_x", "a-b", "_", "a" * 64, "a" * 65, "a" * 128, "a" * 129, "1D",
        "1D\n", "INF", "INF\n", "xINF", "0D", "\u0661", "\uff41", "k\u2028",
        "e834214a-e13d-412b-ffd6-911ab58c8733", "E834214A-E13D-412B-FFD6-911AB58C8733"]),
)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | tricky_text
values = st.recursive(scalars, lambda children: (
    st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3)),
    max_leaves=10)
entry = st.fixed_dictionaries({}, optional={
    "value": values, "visibility": values, "history": values, "ref": values})
bodies = st.one_of(
    values,
    st.fixed_dictionaries({}, optional={
        "description": st.dictionaries(tricky_text, values) | values}),
    st.fixed_dictionaries({}, optional={"entries": st.dictionaries(tricky_text, entry | values)}),
)


@settings(max_examples=600, deadline=None)
@given(operation=st.sampled_from(OPERATIONS), body=bodies)
def test_a_fast_yes_is_an_exact_yes(operation: str, body: object) -> None:
    request = {"path": {}, "query": {}, "body": body}
    if fast_valid(operation, request):
        assert first_error(operation, request) is None


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
    exact = json.loads(body.decode("utf-8"))
    assert json.dumps(value) == json.dumps(exact)


def test_integers_beyond_64_bits_keep_their_digits() -> None:
    for beyond in (b"[-9223372036854775809]", b"[18446744073709551616]"):
        assert fast_parse(beyond) is NOT_PROVEN
    assert fast_parse(b"[-999999999999999999, 999999999999999999]") == [
        -999999999999999999, 999999999999999999]
