"""The streaming validator: each check, each boundary, each precedence rule, bounded memory."""

from __future__ import annotations

import pytest
from conftest import verdict

from ttguard import StreamValidator, TTError
from ttguard.core import judge_whole
from ttguard.core.stream import declares_encoding

QUOTA = (400, 400141, "Request body is too large to process (limit: 65536 bytes).")
NOT_UTF8 = (400, 400314, "Request body contains invalid characters.")
NOT_JSON = (400, 400415, "Request body is not a valid JSON.")


def json_string_of(size: int) -> bytes:
    """A valid JSON body of exactly ``size`` bytes."""
    return b'"' + b"a" * (size - 2) + b'"'


def feed_all(validator: StreamValidator, *chunks: bytes) -> object:
    for chunk in chunks:
        validator.feed(chunk)
    return validator.finish()


# -- size ---------------------------------------------------------------------------------------

def test_a_body_of_exactly_the_quota_passes() -> None:
    assert feed_all(StreamValidator(), json_string_of(65536)) == "a" * 65534


def test_one_byte_over_the_quota_fails_in_the_feed_that_passes_it() -> None:
    validator = StreamValidator()
    validator.feed(json_string_of(65536)[:-1])
    with pytest.raises(TTError) as error:
        validator.feed(b'"a')
    assert verdict(error) == QUOTA
    assert validator.buffered == 0


def test_a_declared_length_over_the_quota_fails_before_any_byte() -> None:
    with pytest.raises(TTError) as error:
        StreamValidator(content_length=65537)
    assert verdict(error) == QUOTA


def test_a_declared_length_of_the_quota_passes() -> None:
    body = json_string_of(65536)
    assert feed_all(StreamValidator(content_length=65536), body) == "a" * 65534


def test_the_quota_is_configurable() -> None:
    validator = StreamValidator(max_body=10)
    with pytest.raises(TTError) as error:
        validator.feed(b"[1,2,3,4,5,6]")
    assert verdict(error) == (
        400, 400141, "Request body is too large to process (limit: 10 bytes).")


def test_memory_stays_within_the_quota_whatever_is_fed() -> None:
    validator = StreamValidator()
    chunk = b" " * 4096
    held = []
    with pytest.raises(TTError):
        for _ in range(10_000):
            validator.feed(chunk)
            held.append(validator.buffered)
    assert max(held) <= 65536
    assert validator.received == 65536 + 4096
    assert validator.buffered == 0


# -- UTF-8 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'"\xff"', b'"\xc3"', b'"\xed\xa0\x80"', b'"\xc0\xaf"', b'"\xf4\x90\x80\x80"', b'"\xe2\x82"',
], ids=["invalid byte", "truncated", "encoded surrogate", "overlong", "over U+10FFFF",
        "truncated 3-byte"])
def test_a_body_that_is_not_utf8_is_refused(body: bytes) -> None:
    with pytest.raises(TTError) as error:
        feed_all(StreamValidator(), body)
    assert verdict(error) == NOT_UTF8


BODY_OF_SPLITTABLE_CHARACTERS = '"é€"'.encode()  # a quote, 2 bytes, 3 bytes, a quote


@pytest.mark.parametrize("content_length", [None, len(BODY_OF_SPLITTABLE_CHARACTERS)])
@pytest.mark.parametrize("split", range(1, len(BODY_OF_SPLITTABLE_CHARACTERS)))
def test_a_character_split_across_chunks_passes(split: int, content_length: int | None) -> None:
    body = BODY_OF_SPLITTABLE_CHARACTERS
    validator = StreamValidator(content_length=content_length)
    assert feed_all(validator, body[:split], body[split:]) == "é€"


def test_a_four_byte_character_one_byte_a_chunk_passes() -> None:
    body = '["😀", "ż"]'.encode()
    validator = StreamValidator(content_length=len(body))
    assert feed_all(validator, *(body[i:i + 1] for i in range(len(body)))) == ["😀", "ż"]


def test_with_a_declared_length_bad_utf8_fails_in_its_feed() -> None:
    validator = StreamValidator(content_length=100)
    validator.feed(b'{"a": "')
    with pytest.raises(TTError) as error:
        validator.feed(b"\xff")
    assert verdict(error) == NOT_UTF8


def test_an_ascii_chunk_after_a_cut_character_fails_in_its_feed() -> None:
    # ASCII chunks skip the checker only while every chunk before them was ASCII too.
    validator = StreamValidator(content_length=100)
    validator.feed(b'{"a": ')
    validator.feed(b'"\xc3')
    with pytest.raises(TTError) as error:
        validator.feed(b'a"}')
    assert verdict(error) == NOT_UTF8


def test_without_a_declared_length_bad_utf8_waits_for_the_end() -> None:
    validator = StreamValidator()
    validator.feed(b'{"a": "\xff')  # the quota could still be passed, and would win
    with pytest.raises(TTError) as error:
        validator.finish()
    assert verdict(error) == NOT_UTF8


def test_the_quota_beats_an_earlier_utf8_error() -> None:
    validator = StreamValidator()
    validator.feed(b'"\xff')
    with pytest.raises(TTError) as error:
        validator.feed(b"a" * 65536)
    assert verdict(error) == QUOTA


# -- JSON ---------------------------------------------------------------------------------------

def test_utf8_beats_an_earlier_json_error() -> None:
    with pytest.raises(TTError) as error:
        feed_all(StreamValidator(), b"{{{", b"\xff")
    assert verdict(error) == NOT_UTF8


def test_the_quota_beats_an_earlier_json_error() -> None:
    validator = StreamValidator()
    validator.feed(b"{{{")
    with pytest.raises(TTError) as error:
        validator.feed(b" " * 65536)
    assert verdict(error) == QUOTA


def test_json_beats_the_schema() -> None:
    with pytest.raises(TTError) as error:
        feed_all(StreamValidator("add_twin_ledger_entry"), b'{"entries": ')
    assert verdict(error) == NOT_JSON


@pytest.mark.parametrize("body", [b"", b" \r\n\t "])
def test_an_empty_body_is_none(body: bytes) -> None:
    assert feed_all(StreamValidator(), body) is None
    assert feed_all(StreamValidator("create_twin"), body) is None


def test_an_empty_body_misses_the_required_fields() -> None:
    with pytest.raises(TTError) as error:
        feed_all(StreamValidator("add_twin_ledger_entry"), b"")
    assert verdict(error) == (400, 400926, "body::entries: field required")


# -- the verdict stays; misuse is a ValueError ----------------------------------------------

def test_a_verdict_is_raised_again_by_feed_and_finish() -> None:
    validator = StreamValidator(max_body=1)
    with pytest.raises(TTError) as first:
        validator.feed(b"[]")
    with pytest.raises(TTError) as again:
        validator.feed(b"x")
    with pytest.raises(TTError) as at_finish:
        validator.finish()
    assert first.value is again.value is at_finish.value


def test_a_schema_verdict_is_raised_again_by_finish() -> None:
    validator = StreamValidator("add_twin_ledger_entry")
    with pytest.raises(TTError) as first:
        validator.finish()
    with pytest.raises(TTError) as again:
        validator.finish()
    assert first.value is again.value


def test_settle_returns_the_verdict_that_finish_raises() -> None:
    validator = StreamValidator("add_twin_ledger_entry")
    validator.feed(b"{}")
    settled = validator.settle()
    assert settled is not None
    assert (settled.status, settled.subcode, settled.description) == (
        400, 400926, "body::entries: field required")
    assert settled.__traceback__ is None  # returned, never raised
    assert validator.settle() is settled
    with pytest.raises(TTError) as at_finish:
        validator.finish()
    assert at_finish.value is settled
    with pytest.raises(TTError) as at_feed:
        validator.feed(b" ")
    assert at_feed.value is settled


def test_settle_returns_none_for_a_body_that_passes() -> None:
    validator = StreamValidator("create_twin")
    validator.feed(b'{"description": {"colour": "red"}}')
    assert validator.settle() is None
    assert validator.settle() is None
    assert validator.finish() == {"description": {"colour": "red"}}
    with pytest.raises(ValueError, match="after finish"):
        validator.feed(b"x")


def test_finish_without_body_judges_the_path_and_query_alone() -> None:
    twin = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
    bad_path = StreamValidator("add_twin_ledger_entry",
                               path_params={"twin": "pump-7", "ledger": "personal"})
    with pytest.raises(TTError) as error:
        bad_path.finish_without_body()
    assert verdict(error) == (400, 400589, "path::twin: value is not a valid uuid")
    with pytest.raises(TTError):
        bad_path.finish()  # the verdict stays
    fine = StreamValidator("add_twin_ledger_entry",
                           path_params={"twin": twin, "ledger": "personal"})
    fine.finish_without_body()  # its required body fields are not asked for
    with pytest.raises(ValueError, match="this body is finished"):
        fine.feed(b"{}")


def test_finish_without_body_after_a_feed_is_a_value_error() -> None:
    # Else the bytes fed would pass unjudged, and `.body` would hold them as if whole.
    validator = StreamValidator("create_twin")
    validator.feed(b'{"descr')
    with pytest.raises(ValueError) as misuse:
        validator.finish_without_body()
    assert str(misuse.value) == (
        "finish_without_body() ends a request whose body is not fed: 7 bytes were")


@pytest.mark.parametrize(("max_body", "message"), [
    (-1, "max_body must not be negative: -1"),
    (float("nan"), "max_body must be a number of bytes: nan"),  # compared, no quota at all
])
def test_a_quota_that_is_no_size_is_a_value_error(max_body: float, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        StreamValidator("create_twin", max_body=max_body)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_a_verdict_keeps_no_frame_that_saw_the_request() -> None:
    # The validator keeps its verdict: frames kept in its traceback would keep the parsed
    # request alive until the cyclic collector ran (and show its values to a logger that
    # prints frame locals).
    validator = StreamValidator("create_twin_identity")
    validator.feed(b'{"identities": {"RFID-1": {"visibility": "SECRET"}}}')
    with pytest.raises(TTError) as refused:
        validator.finish()
    traceback = refused.value.__traceback__
    while traceback is not None:
        assert traceback.tb_frame.f_code.co_name in (
            "test_a_verdict_keeps_no_frame_that_saw_the_request", "finish", "_reach")
        traceback = traceback.tb_next


@pytest.mark.parametrize("body", [b'{"description": "SECRET", ', b'{"description": "\xff SECRET"}'])
@pytest.mark.parametrize("content_length", [None, "given"])
def test_a_syntax_verdict_keeps_no_context_that_holds_the_body(
        body: bytes, content_length: str | None) -> None:
    # The parser's error (its traceback, a decode error's object) holds the whole body: kept as
    # the verdict's context, it would live, and be readable, as long as the verdict.
    validator = StreamValidator(content_length=len(body) if content_length else None)
    with pytest.raises(TTError) as refused:
        validator.feed(body)
        validator.finish()
    assert refused.value.subcode in (400415, 400314)
    assert refused.value.__context__ is None and refused.value.__cause__ is None


def test_after_finish_feed_is_a_value_error_and_finish_repeats_the_value() -> None:
    validator = StreamValidator()
    validator.feed(b"[1]")
    assert validator.finish() == [1]
    assert validator.finish() == [1]
    with pytest.raises(ValueError, match="after finish"):
        validator.feed(b"x")


def test_a_body_longer_than_its_declared_length_is_a_value_error() -> None:
    validator = StreamValidator(content_length=2)
    with pytest.raises(ValueError, match="longer than its content_length"):
        validator.feed(b"[1]")


def test_a_body_shorter_than_its_declared_length_is_a_value_error() -> None:
    validator = StreamValidator(content_length=5)
    validator.feed(b"[1]")
    with pytest.raises(ValueError, match="ended after 3 of the 5 bytes"):
        validator.finish()


@pytest.mark.parametrize("chunk", ["text", 1, None, [b"x"]])
def test_a_chunk_is_bytes_like(chunk: object) -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        StreamValidator().feed(chunk)  # type: ignore[arg-type]


def test_bytearray_and_memoryview_chunks_are_taken() -> None:
    assert feed_all(StreamValidator(), bytearray(b"[1,"), memoryview(b"2]"), b"") == [1, 2]  # type: ignore[arg-type]


def test_an_unknown_operation_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown Trusted Twin operation 'create_twins'"):
        StreamValidator("create_twins")


@pytest.mark.parametrize("arguments", [{"max_body": -1}, {"content_length": -1}])
def test_negative_sizes_are_value_errors(arguments: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        StreamValidator(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(("body", "kind"), [
    ('{"description": {}}', "str"), ("\u00e9", "str"), (memoryview(b"{}"), "memoryview"),
    (None, "NoneType"), ([b"{}"], "list"),
    # Over the quota by their length too, which is no byte count: not a quota_violation.
    ("x" * 70_000, "str"), ([0] * 70_000, "list"), (memoryview(b"x" * 70_000), "memoryview"),
])
def test_judge_whole_takes_a_body_in_bytes(body: object, kind: str) -> None:
    with pytest.raises(TypeError) as refused:
        judge_whole(body, "create_twin")  # type: ignore[arg-type]
    assert str(refused.value) == f"judge_whole takes the body as bytes or bytearray, not {kind}"
    assert judge_whole(bytearray(b'{"description": {}}'), "create_twin") == {"description": {}}


@pytest.mark.parametrize(("values", "expected"), [
    ([], False),
    (["identity"], False),
    ([b"Identity", ""], False),  # any case; an empty value names no coding
    ([" identity , "], False),
    (["gzip"], True),
    ([b"GZIP"], True),
    (["identity, br"], True),  # a list in one header
    (["identity", "deflate"], True),  # or over several
])
def test_a_coding_other_than_identity_is_declared(values: list[str | bytes],
                                                  expected: bool) -> None:
    assert declares_encoding(values) is expected


TWIN_PATH = "/twins/4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
LEDGER = f"{TWIN_PATH}/ledgers/personal"


@pytest.mark.parametrize(("method", "path", "query", "body", "expected"), [
    ("POST", LEDGER, "", b'{"entries": {"temp": {"value": 21}}}', None),
    ("POST", LEDGER, "", b'{"entries": {"Temp": {"value": 21}}}',
     (400589, "body::entries->__key__: string does not match regex "
              "(_*[a-z0-9]+)([_-][0-9a-z]+)")),
    ("POST", LEDGER, "", b'{"entries": ', (400415, "Request body is not a valid JSON.")),
    ("POST", LEDGER, "", b'{"entries": {"t": {"value": "\xff"}}}',
     (400314, "Request body contains invalid characters.")),
    ("POST", LEDGER, "", b'{"entries": {}}' + b" " * 65536,
     (400141, "Request body is too large to process (limit: 65536 bytes).")),
    ("POST", "/twins/not-a-uuid/ledgers/personal", "", b'{"entries": {}}',
     (400589, "path::twin: value is not a valid uuid")),
    ("GET", f"{LEDGER}/history", "limit=100", b"", None),
    ("GET", f"{LEDGER}/history", "limit=101", b"",
     (400589, "query::limit: ensure this value is less than or equal to 100")),
])
def test_a_routed_request_is_judged_as_judge_whole_judges_it(
        method: str, path: str, query: str, body: bytes, expected: tuple[int, str] | None) -> None:
    from ttguard.core.routes import route_path
    from ttguard.core.stream import judge_routed

    route = route_path(method, path)
    assert route is not None
    routed = judge_routed(body, route, query, 65536)
    whole = judge_whole(body, route.operation, path_params=route.path_params, query=query)
    assert answer_of(routed) == answer_of(whole) == expected


def answer_of(judged: object) -> tuple[int, str] | None:
    """A judged body's verdict as a test compares it; None for an accepted body's value."""
    return (judged.subcode, judged.description) if isinstance(judged, TTError) else None
