"""validate() and avalidate(): every form of body, consumed lazily and no further than needed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import FrameType, MappingProxyType

import pytest
from conftest import cyclic_garbage, verdict

from ttguard import StreamValidator, TTError, avalidate, validate

GIB = 1 << 30
CHUNK = 64 * 1024
QUOTA = (400, 400141, "Request body is too large to process (limit: 65536 bytes).")


class CountingBody:
    """A lazily generated body of ``size`` bytes that counts what was taken from it."""

    def __init__(self, size: int, chunk: int = CHUNK) -> None:
        self.size, self.chunk, self.consumed = size, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        block = b" " * self.chunk
        while self.consumed < self.size:
            self.consumed += self.chunk
            yield block

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for block in self:
            yield block


@pytest.mark.parametrize("body", [
    b'{"description": {"a": 1}}', bytearray(b'{"description": {"a": 1}}'),
    memoryview(b'{"description": {"a": 1}}'), '{"description": {"a": 1}}',
    {"description": {"a": 1}}, iter([b'{"description": ', b'{"a": 1}}']),
])
def test_every_form_of_body_gives_the_value(body: object) -> None:
    assert validate(body, "create_twin") == {"description": {"a": 1}}  # type: ignore[arg-type]


def test_none_is_no_body() -> None:
    assert validate(None, "create_twin") is None


@pytest.mark.parametrize("value", [[1, "a"], (1, 2), 5, 2.5, True])
def test_json_ready_values_are_serialised(value: object) -> None:
    expected = list(value) if isinstance(value, tuple) else value
    assert validate(value) == expected  # type: ignore[arg-type]


def test_a_value_is_measured_as_the_official_client_serialises_it() -> None:
    # json.dumps escapes non-ASCII: 10922 characters of "ż" become 6 bytes each, 65532 + 4
    assert validate({"a": "ż" * 10921}) is not None
    with pytest.raises(TTError) as error:
        validate({"a": "ż" * 10922})
    assert verdict(error) == QUOTA


def test_text_with_a_lone_surrogate_is_not_utf8() -> None:
    with pytest.raises(TTError) as error:
        validate('"\ud800"')
    assert verdict(error) == (400, 400314, "Request body contains invalid characters.")


def test_a_lazy_gigabyte_stops_at_the_quota_plus_one_chunk() -> None:
    body = CountingBody(GIB)
    with pytest.raises(TTError) as error:
        validate(body)
    assert verdict(error) == QUOTA
    assert body.consumed <= 65536 + CHUNK


def test_a_lazy_gigabyte_with_its_length_declared_is_refused_before_a_byte() -> None:
    body = CountingBody(GIB)
    with pytest.raises(TTError) as error:
        validate(body, content_length=GIB)
    assert verdict(error) == QUOTA
    assert body.consumed == 0


def test_avalidate_takes_an_async_iterable_lazily() -> None:
    body = CountingBody(GIB)
    with pytest.raises(TTError) as error:
        asyncio.run(avalidate(body))
    assert verdict(error) == QUOTA
    assert body.consumed <= 65536 + CHUNK


def test_avalidate_takes_what_validate_takes() -> None:
    assert asyncio.run(avalidate({"entries": {"key1": {"value": 1}}},
                                 "add_twin_ledger_entry")) == {"entries": {"key1": {"value": 1}}}


def test_avalidate_returns_the_value_of_an_async_body() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"entries": '
        yield b'{"k": {}}}'
    assert asyncio.run(avalidate(body(), "add_twin_ledger_entry")) == {"entries": {"k": {}}}


def test_a_refusal_leaves_no_garbage_for_the_cyclic_collector() -> None:
    # The validator keeps its verdict: a traceback through the frames holding the validator
    # would be a cycle, freed only by the collector (1-2 us a refusal, and pauses).
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"identities": {"RFID-1": {}}}'

    def without_a_loop(coroutine: Coroutine[object, object, object]) -> None:
        # asyncio.run() would add cycles of its own (its future keeps the exception).
        coroutine.send(None)

    def refuse_each() -> None:
        for refused in (lambda: validate(b'{"identities": {"RFID-1": {}}}', "create_twin_identity"),
                        lambda: validate(b"[" * 70000),
                        lambda: validate(b"[]", content_length=70000),
                        lambda: without_a_loop(avalidate(chunks(), "create_twin_identity"))):
            try:
                refused()
            except TTError:
                continue
            raise AssertionError("accepted")

    refuse_each()  # first uses: imports, caches
    assert cyclic_garbage(refuse_each, TTError, StreamValidator, FrameType) == []


def test_an_unserialisable_value_is_a_type_error_that_says_what_to_do() -> None:
    with pytest.raises(TypeError, match="give byte chunks as an iterator"):
        validate([b"chunk", b"chunk"])  # type: ignore[list-item]


def test_a_body_of_an_unknown_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot validate a body of type object"):
        validate(object())  # type: ignore[arg-type]


def test_an_async_body_given_to_validate_points_to_avalidate() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"{}"

    with pytest.raises(TypeError) as refused:
        validate(chunks())  # type: ignore[arg-type]
    assert str(refused.value) == ("cannot validate a body of type async_generator: an async "
                                  "iterable of chunks is for avalidate(), awaited")


#: validate() with a body in one piece, and with one that streams: each checks its arguments.
ENTRIES: list[Callable[..., object]] = [
    lambda **arguments: validate(b"", "get_twin", **arguments),
    lambda **arguments: validate(iter([b""]), "get_twin", **arguments),
    lambda **arguments: StreamValidator("get_twin", **arguments),
]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(("arguments", "message"), [
    ({"max_body": "10"}, "max_body must be an int, a number of bytes, not str"),
    ({"max_body": None}, "max_body must be an int, a number of bytes, not NoneType"),
    ({"content_length": "2"}, "content_length must be an int, a number of bytes, not str"),
    ({"path_params": ["a"]},
     "path_params must be a mapping of parameter names to values, not list"),
    ({"query": 5},
     "query must be a str or a mapping of names to a value or a list of values, not int"),
])
def test_an_argument_of_the_wrong_type_is_a_type_error_naming_it(
        entry: Callable[..., object], arguments: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError) as refused:
        entry(**arguments)
    assert str(refused.value) == message


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("path_params", [{"twin_id": "t"}, MappingProxyType({"twin_id": "t"})])
def test_a_path_parameter_the_operation_does_not_have_is_a_value_error(
        entry: Callable[..., object], path_params: dict[str, str]) -> None:
    with pytest.raises(ValueError) as refused:
        entry(path_params=path_params)
    assert str(refused.value) == ("get_twin has no path parameter 'twin_id': its path is "
                                  "/twins/{twin}")


def test_path_parameters_are_checked_by_name_only_against_an_operation() -> None:
    assert validate(None, path_params={"twin_id": "t"}) is None  # no operation, no path
    assert validate(None, "get_twin", path_params={}) is None  # one left out: not checked
    assert validate(None, "get_twin", path_params=MappingProxyType(
        {"twin": "e834214a-0000-4000-8000-000000000000"})) is None


@pytest.mark.parametrize("entry", [
    lambda: validate(b"{}", ["create_twin"]),  # type: ignore[arg-type]
    lambda: StreamValidator(["create_twin"]),  # type: ignore[arg-type]
])
def test_an_operation_that_is_no_name_is_a_type_error_naming_it(
        entry: Callable[[], object]) -> None:
    with pytest.raises(TypeError) as refused:
        entry()
    assert str(refused.value) == "operation must be an operation's name, a str, not list"


def test_chunks_of_the_wrong_type_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="bytes-like, not str"):
        validate(iter(["text"]))  # type: ignore[arg-type]
