"""The function adapter: ``validate()`` and ``avalidate()`` a body in whatever form the caller has.

A body in one piece (bytes, text, a JSON-ready value) without a declared length is judged whole
(:func:`~ttguard.core.judge_whole`); any other is fed to one
:class:`~ttguard.core.StreamValidator`. Both give the same verdict. A body given as an iterable is
consumed lazily and no further than the verdict needs: a 1 GiB generator is abandoned as soon
as it passes the quota. A refusal leaves no garbage for the cyclic collector: its traceback
starts at the function, past the frames of the validator that keeps it, and the verdict on a
whole body is raised once, not through those frames.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Iterable, Mapping

from .core import DEFAULT_MAX_BODY, Query, StreamValidator, TTError, judge_whole

__all__ = ["Body", "avalidate", "validate"]

Chunk = bytes | bytearray | memoryview
JSONValue = dict | list | tuple | int | float | bool  # type: ignore[type-arg]
#: What :func:`validate` accepts as a body.
Body = Chunk | str | JSONValue | Iterable[Chunk] | None


def _serialised(value: JSONValue) -> bytes:
    # As the official client sends a body: json.dumps defaults (ASCII escapes), then UTF-8.
    try:
        return json.dumps(value).encode("utf-8")
    except TypeError as error:
        raise TypeError(f"the body is not JSON-serialisable ({error}); "
                        "give byte chunks as an iterator, not a list") from None


def _one_piece(body: object) -> bytes | bytearray | None:
    """A body given in one piece, as the bytes sent; None for chunks (an iterable of them, or a
    memoryview, which only a validator copies)."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return body
    if isinstance(body, str):
        # A str holding lone surrogates cannot be UTF-8: keep them, so the verdict is 400314.
        return body.encode("utf-8", "surrogatepass")
    if isinstance(body, (dict, list, tuple, int, float, bool)):
        return _serialised(body)
    return None


def _chunks(body: object) -> Iterable[Chunk]:
    if isinstance(body, memoryview):
        return (body,)
    if isinstance(body, Iterable):
        return body
    if isinstance(body, AsyncIterable):
        raise TypeError(f"cannot validate a body of type {type(body).__name__}: an async "
                        "iterable of chunks is for avalidate(), awaited")
    raise TypeError(f"cannot validate a body of type {type(body).__name__}")


def validate(body: Body, operation: str | None = None, *, content_length: int | None = None,
             max_body: int = DEFAULT_MAX_BODY, path_params: Mapping[str, str] | None = None,
             query: Query | None = None) -> object:
    """Check a request body as the Trusted Twin server would; return its parsed JSON value.

    ``body`` is bytes (``bytes``, ``bytearray``, ``memoryview``), text (``str``, sent as UTF-8),
    a JSON-ready value (``dict``, ``list``, ...: serialised as the official client does), an
    iterable of byte chunks, or ``None`` for no body. ``operation`` names the operation whose
    schema applies (``None``: only size, UTF-8 and JSON checks); ``path_params`` and ``query``
    are checked with the body, as :class:`~ttguard.core.StreamValidator` describes. A path
    parameter left out of ``path_params`` is not checked; one the operation's path does not
    have is a ``ValueError``.

    Raises :class:`~ttguard.TTError` with the server's answer; ``ValueError`` or ``TypeError``
    for arguments that are not a request body, each naming the argument. Returns ``None`` for
    an empty body.
    """
    piece = body if type(body) is bytes else _one_piece(body)
    if piece is not None and content_length is None:  # nothing to stream, nothing to compare
        judged = judge_whole(piece, operation, max_body=max_body, path_params=path_params,
                             query=query)
        if not isinstance(judged, TTError):
            return judged
        verdict = [judged]
        del judged
        raise verdict.pop()  # as in _outcome(), without its call: no frame holds the verdict
    try:
        judged = _judged(StreamValidator(operation, content_length=content_length,
                                         max_body=max_body, path_params=path_params,
                                         query=query),
                         _chunks(body) if piece is None else (piece,))
    except TTError as verdict:  # on a chunk, or at once from a content_length over the quota
        raise verdict.with_traceback(None) from None
    return _outcome(judged)


def _judged(validator: StreamValidator, chunks: Iterable[Chunk]) -> list[object]:
    """The body's value, or the verdict on the whole body, as the one item of a list."""
    for chunk in chunks:
        validator.feed(chunk)
    return _settled(validator)


def _settled(validator: StreamValidator) -> list[object]:
    verdict = validator.settle()
    return [verdict if verdict is not None else validator.finish()]


def _outcome(judged: list[object]) -> object:
    """The value in ``judged``, or its verdict raised.

    The validator keeps its verdict: a traceback through a frame that holds the validator, or
    the verdict, would close a cycle that only the cyclic collector frees (1 to 2 us a
    refusal). So a settled verdict is returned to the caller, not raised through the validator's
    frames, and raised here, once no frame holds it: taken out of the caller's list, and out of
    this frame as it leaves.
    """
    outcome = judged.pop()
    if not isinstance(outcome, TTError):
        return outcome
    try:
        raise outcome
    finally:
        del outcome


async def avalidate(body: Body | AsyncIterable[Chunk], operation: str | None = None, *,
                    content_length: int | None = None, max_body: int = DEFAULT_MAX_BODY,
                    path_params: Mapping[str, str] | None = None,
                    query: Query | None = None) -> object:
    """:func:`validate` for a body that may also be an async iterable of byte chunks."""
    if not isinstance(body, AsyncIterable):
        return validate(body, operation, content_length=content_length, max_body=max_body,
                        path_params=path_params, query=query)
    try:
        judged = await _ajudged(StreamValidator(operation, content_length=content_length,
                                                max_body=max_body, path_params=path_params,
                                                query=query), body)
    except TTError as verdict:
        raise verdict.with_traceback(None) from None  # as in validate()
    return _outcome(judged)


async def _ajudged(validator: StreamValidator, chunks: AsyncIterable[Chunk]) -> list[object]:
    """:func:`_judged` for async chunks."""
    async for chunk in chunks:
        validator.feed(chunk)
    return _settled(validator)
