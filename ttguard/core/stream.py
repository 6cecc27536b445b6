"""The sans-IO streaming validator: body bytes in, the server's verdict out.

Like h11, :class:`StreamValidator` does no I/O: an adapter feeds it the chunks of one request
body as they arrive, then asks for the verdict. It checks in the server's own order, and a
failure of an earlier check always wins over a later one:

1. size: more than ``max_body`` bytes is ``400141 quota_violation``;
2. UTF-8: ``400314 invalid_characters``;
3. JSON syntax: ``400415 not_a_valid_json`` (choices documented in :mod:`ttguard.core.syntax`);
4. the operation's schema over the whole request, path and query parameters first, then the
   body: ``400589 request_format``, ``400926 field_required`` (:func:`request_verdict`: the fast
   engine proves it, else walks it to its first error).

Goals:

* **Answer as soon as the verdict is certain, never earlier.** A declared ``content_length``
  over the quota fails at once, before any byte; a running count over the quota fails in the
  :meth:`~StreamValidator.feed` that passes it. A UTF-8 error fails in its feed only when the
  body is known to fit the quota (a ``content_length`` within it); otherwise the quota could
  still be passed, which would win, so the error waits for :meth:`~StreamValidator.finish`.
* **Bounded memory.** At most ``max_body`` bytes are kept, whatever is fed: the chunk that
  passes the quota is not kept, and nothing is accepted after a verdict.
* **Linear time.** Each byte is counted once and UTF-8-checked at most once while streaming
  (in C); the bounded buffer is parsed once by :meth:`finish`, by ``msgspec`` or ``orjson``
  where they can vouch for the value or for its syntax error, else decoded and parsed by
  ``json.loads`` (see :mod:`ttguard.core.fast_engine`).
  Chunk size does not change the cost beyond a constant per call.

Operations: ``feed(chunk)`` any number of times, then ``finish()`` once, which returns the
parsed JSON value (``None`` for an empty body), or ``settle()``, which returns the verdict
instead of raising it; for a body an adapter cannot judge as the server reads it (one under a
``Content-Encoding``: :func:`declares_encoding`), ``finish_without_body()`` alone. Once a
verdict is reached it stays: ``feed`` and ``finish`` raise the same :class:`TTError` again
(``settle`` returns it), and after a successful ``finish``, ``feed`` raises ``ValueError``
while ``finish`` returns the same value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

from .catalogue import operation as find_operation
from .catalogue import path_parameters, request_schema
from .errors import Subcode, TTError, refusal
from .fast_engine import (
    NOT_JSON,
    NOT_PROVEN,
    NOT_UTF8,
    fast_parse,
    readable_text,
)
from .routes import Query, Route, parse_query
from .syntax import (
    Utf8Checker,
    decode_utf8,
    invalid_characters,
    is_blank,
    not_a_valid_json,
    parse_json,
)

if TYPE_CHECKING:
    from .fast_refusal import Walk

__all__ = ["DEFAULT_MAX_BODY", "StreamValidator", "check_size", "declares_encoding", "judge_routed",
           "judge_whole", "quota_violation", "request_verdict"]

#: The documented quota is "64 kB"; 65536 bytes is the reading that refuses least.
DEFAULT_MAX_BODY = 65536

Chunk = bytes | bytearray | memoryview


def quota_violation(max_body: int) -> TTError:
    """The server's answer to a body over the quota."""
    return refusal(Subcode.QUOTA_VIOLATION,
                   f"Request body is too large to process (limit: {max_body} bytes).")


@cache
def _reference() -> ModuleType:
    """The reference engine, imported by the first request the fast engine cannot prove:
    jsonschema takes about 100 ms to import, which ``import ttguard`` does not pay. (An import
    statement in :func:`request_verdict` would cost 0.5 us a refusal.)"""
    from . import reference

    return reference


@cache
def _walk(operation: str) -> Walk | None:
    """The walk of an operation (:mod:`ttguard.core.fast_refusal`), imported by the first
    request checked: its rules bring the regex package (about 12 ms to import), which ``import
    ttguard`` does not pay. (One argument: functools.cache keys it by the name itself, where a
    key of two costs 0.1 us more a request.)"""
    from .fast_refusal import walk

    return walk(operation)


@cache
def _walk_without_proofs(operation: str) -> Walk | None:
    """:func:`_walk` without Rust's proofs, for a request Rust cannot read."""
    from .fast_refusal import walk

    return walk(operation, proofs=False)


def request_verdict(operation: str, request: Mapping[str, object], *,
                    readable: bool = True) -> TTError | None:
    """The server's answer to ``request`` if it breaks the operation's schema, else ``None``.

    ``request`` holds the parts known so far, any of ``"path"``, ``"query"`` and ``"body"``;
    an operation without a schema accepts anything. ``readable`` is ``False`` when the request
    may hold a value the fast engine misreads (:func:`~ttguard.core.fast_engine.readable_text`).

    Two engines, one verdict: the fast engine proves most requests valid, and walks the others
    to their first error (:mod:`ttguard.core.fast_refusal`) by the reference's rules, with Rust
    proving the parts it need not enter; a request Rust cannot read, without Rust. The
    reference (:mod:`ttguard.core.reference`) judges only an operation whose schema the walk
    cannot read (none in the catalogue).
    """
    walk = _walk(operation) if readable else _walk_without_proofs(operation)
    if walk is not None:
        return walk.verdict(request)
    if request_schema(operation) is None:
        return None
    verdict: TTError | None = _reference().first_error(operation, request, direct=True)
    return verdict


def declares_encoding(content_encodings: Iterable[str | bytes]) -> bool:
    """Whether a request's ``Content-Encoding`` values (one for each such header) name a coding
    other than ``identity``: gzip, say, or aiohttp's ``compress=``.

    Whether the Trusted Twin server decodes such a body before it judges it is not documented.
    Judged as sent (gzip's bytes are no UTF-8: ``400314``) or as decoded, it could be refused
    where the server accepts it; so an adapter whose requests go on to the server leaves it
    unjudged, its declared length too, and checks the method, path and query alone
    (:meth:`StreamValidator.finish_without_body`).
    """
    for value in content_encodings:
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if any(coding.strip().lower() not in ("", "identity") for coding in text.split(",")):
            return True
    return False


def check_size(name: str, size: int) -> None:
    """A size argument, ``name``, checked: ``TypeError`` if it is no number, ``ValueError`` if
    it is negative or NaN (which no comparison holds: a quota of NaN would be none)."""
    try:
        in_range = size >= 0
    except TypeError:
        raise TypeError(f"{name} must be an int, a number of bytes, not {type(size).__name__}"
                        ) from None
    if not in_range:
        raise ValueError(f"{name} must not be negative: {size}" if size < 0
                         else f"{name} must be a number of bytes: {size}")


@cache
def _path_parameters(operation: str) -> frozenset[str]:
    """The names of the parameters in the path of ``operation``; ``ValueError`` if unknown."""
    return frozenset(path_parameters(find_operation(operation).path))


def _arguments(operation: str | None, max_body: int, content_length: int | None,
               path_params: Mapping[str, str] | None, query: Query | None
               ) -> tuple[dict[str, str], dict[str, str | list[str]]]:
    """A request's arguments checked (``ValueError``, ``TypeError``), and its path and query
    parameters as the plain dictionaries the core judges.

    Every request through a guard comes here: each check costs a valid call nothing, or next
    to nothing, and its message is built only on a failure.
    """
    # A ValueError for an unknown operation.
    try:
        parameters = None if operation is None else _path_parameters(operation)
    except TypeError:  # unhashable: a list of names, say
        raise TypeError(f"operation must be an operation's name, a str, not "
                        f"{type(operation).__name__}") from None
    try:
        sizes = max_body >= 0 and (content_length is None or content_length >= 0)
    except TypeError:
        sizes = False
    if not sizes:
        check_size("max_body", max_body)
        if content_length is not None:
            check_size("content_length", content_length)
    if path_params is None:
        path = {}
    elif type(path_params) is dict and (parameters is None
                                         or parameters.issuperset(path_params)):
        path = path_params.copy()
    else:
        path = _checked_path(path_params, operation)
    if not query:
        return path, {}
    try:
        return path, parse_query(query, operation)
    except TypeError:
        if isinstance(query, (str, Mapping)):
            raise
        raise TypeError(f"query must be a str or a mapping of names to a value or a list of "
                        f"values, not {type(query).__name__}") from None


def _checked_path(path_params: Mapping[str, str], operation: str | None) -> dict[str, str]:
    """``path_params`` that are not a plain dictionary of the operation's parameters: as one,
    checked against the parameters in the path of ``operation``, if given (a name it does not
    have, a typo, would go unchecked)."""
    if not isinstance(path_params, Mapping):
        raise TypeError(f"path_params must be a mapping of parameter names to values, "
                        f"not {type(path_params).__name__}")
    if operation is not None:
        parameters = _path_parameters(operation)
        if not parameters.issuperset(path_params):
            unknown = ", ".join(repr(name) for name in path_params if name not in parameters)
            raise ValueError(f"{operation} has no path parameter {unknown}: its path is "
                             f"{find_operation(operation).path}")
    return dict(path_params)


def judge_whole(body: bytes | bytearray, operation: str | None = None, *,
                max_body: int = DEFAULT_MAX_BODY, path_params: Mapping[str, str] | None = None,
                query: Query | None = None) -> object:
    """A body that is all here, judged as :class:`StreamValidator` judges it in one chunk with
    no declared length: its JSON value, or the verdict, a :class:`TTError` returned, not raised
    (no JSON value is one). Without a validator to make and feed, it costs 0.7 us less.

    ``ValueError`` for an unknown operation, a negative ``max_body`` or a path parameter the
    operation's path does not have; ``TypeError`` for a body that is not ``bytes`` or
    ``bytearray``, or an argument of the wrong type.
    """
    path, parsed_query = _arguments(operation, max_body, None, path_params, query)
    return _judged(body, operation, max_body, path, parsed_query)


def judge_routed(body: bytes | bytearray, route: Route, query: str, max_body: int) -> object:
    """:func:`judge_whole` for a request the router mapped
    (:func:`~ttguard.core.routes.route_path`), with its query string as sent, under a quota the
    caller checked once (:func:`check_size`).

    The router gives a known operation and only its path parameters, so nothing is checked
    again: for an adapter that judges every request it routes, 0.3 us less a request.
    """
    operation = route.operation
    return _judged(body, operation, max_body, route.path_params,
                   parse_query(query, operation) if query else {})


def _judged(body: bytes | bytearray, operation: str | None, max_body: int,
            path: dict[str, str], query: dict[str, str | list[str]]) -> object:
    """The value of a whole body, or the verdict on it, returned (a :class:`TTError`: no JSON
    value is one). ``path`` and ``query`` are the request's parameters, as plain dictionaries
    (the walk goes into a ``dict`` only)."""
    try:
        if len(body) > max_body:
            if not isinstance(body, (bytes, bytearray)):
                raise TypeError  # a str's length is in characters, a list's in items
            return quota_violation(max_body)
        value = fast_parse(body)
        readable = True
        if value is NOT_UTF8:
            return invalid_characters()  # returned: a raise and its catch cost 0.4 us
        if value is NOT_PROVEN or value is NOT_JSON:
            text = decode_utf8(body)  # the server's order: UTF-8 first
            if value is NOT_JSON:
                return not_a_valid_json()
            value = None if is_blank(text) else parse_json(text)
            readable = readable_text(text)
    except TTError as not_json:  # not UTF-8 or not JSON, as the exact path finds it
        # Its traceback holds the body, in the frames that raised it.
        return not_json.with_traceback(None)
    except (TypeError, AttributeError):
        # Any other body fails in its first use as bytes: checked here, it costs a body nothing.
        if isinstance(body, (bytes, bytearray)):
            raise
        raise TypeError(f"judge_whole takes the body as bytes or bytearray, not "
                        f"{type(body).__name__}") from None
    if operation is not None:
        # An empty body is judged as an empty object: its required fields are missing.
        verdict = request_verdict(
            operation, {"path": path, "query": query, "body": {} if value is None else value},
            readable=readable)
        if verdict is not None:
            return verdict
    return value


class StreamValidator:
    """Validates one request body fed chunk by chunk, as the Trusted Twin server would.

    >>> validator = StreamValidator("create_twin")
    >>> validator.feed(b'{"description": {"colour": ')
    >>> validator.feed(b'"red"}}')
    >>> validator.finish()
    {'description': {'colour': 'red'}}

    ``operation`` names the operation whose schema applies (``None``: only the size, UTF-8 and
    JSON checks); ``path_params`` and ``query`` are the request's parameters, checked against it
    at :meth:`finish` (a query as a string, or a mapping of names to a value or a list of them).
    ``content_length`` is the size the request declares, if any; ``max_body`` the quota in
    bytes. Raises :class:`TTError` with the server's answer, ``ValueError`` for an
    unknown operation, a negative size, a path parameter the operation's path does not have
    (a name in ``path_params`` is checked only with an ``operation``), or a body that does not
    match its ``content_length``; ``TypeError`` for an argument of the wrong type.

    A path parameter left out of ``path_params`` is not checked: only the values given are.
    """

    def __init__(self, operation: str | None = None, *, content_length: int | None = None,
                 max_body: int = DEFAULT_MAX_BODY, path_params: Mapping[str, str] | None = None,
                 query: Query | None = None) -> None:
        self._path, self._query = _arguments(operation, max_body, content_length, path_params,
                                             query)
        self.operation = operation
        self.content_length = content_length
        self.max_body = max_body
        self.received = 0
        self._buffer = bytearray()
        self._verdict: TTError | None = None
        self._value: object = None
        self._finished = False
        #: No verdict yet, not finished, and the UTF-8 checker (if any) has seen only ASCII, so
        #: an ASCII chunk cannot fail it and need not pass through it: feed()'s short path.
        self._plain = True
        #: Past this count, a body is over its quota or its declared length.
        self._limit = max_body if content_length is None else content_length
        # UTF-8 is worth checking while streaming only when an error found there can be final.
        self._utf8: Utf8Checker | None = None
        if content_length is not None:
            if content_length > max_body:
                self._reach(quota_violation(max_body))
            self._utf8 = Utf8Checker()

    @property
    def buffered(self) -> int:
        """How many body bytes the validator holds now (never more than ``max_body``)."""
        return len(self._buffer)

    @property
    def body(self) -> bytes:
        """The body bytes received so far, exactly as fed; after ``finish()``, the accepted body.

        Empty once a verdict is reached. Adapters that forward an accepted body replay these
        bytes, so a body is held once.
        """
        return bytes(self._buffer)

    def feed(self, chunk: Chunk) -> None:
        """Take the next bytes of the body; raise the verdict as soon as it is certain."""
        # Called once per chunk: the common case (bytes within the limit, and either no UTF-8 to
        # check as they stream or ASCII so far) takes a few steps, so that tiny chunks cost
        # little each, and a request's one chunk makes no further call.
        if (self._plain and type(chunk) is bytes and self.received + len(chunk) <= self._limit
                and (self._utf8 is None or chunk.isascii())):
            self.received += len(chunk)
            self._buffer += chunk
            return
        self._feed_checked(chunk)

    def _feed_checked(self, chunk: Chunk) -> None:
        if self._verdict is not None or self._finished:
            self._refuse_feed()
        if isinstance(chunk, bytes):
            size = len(chunk)
        elif isinstance(chunk, (bytearray, memoryview)):
            size = memoryview(chunk).nbytes
        else:
            raise TypeError(f"a body chunk is bytes-like, not {type(chunk).__name__}")
        received = self.received = self.received + size
        if received > self._limit:
            self._pass_limit()
        if self._utf8 is not None:
            # The checker may now be inside a character: every later chunk goes through it.
            self._plain = False
            if not self._utf8.check(chunk):
                self._reach(invalid_characters())
        self._buffer += chunk

    def _refuse_feed(self) -> NoReturn:
        if self._verdict is not None:
            raise self._verdict
        raise ValueError("this body is finished: feed() after finish()")

    def _pass_limit(self) -> NoReturn:
        if self.content_length is not None and self.received > self.content_length:
            raise ValueError(f"the body is longer than its content_length of "
                             f"{self.content_length} bytes")
        self._reach(quota_violation(self.max_body))

    def _reach(self, verdict: TTError) -> NoReturn:
        raise self._keep(verdict)

    def _keep(self, verdict: TTError) -> TTError:
        """Settle on ``verdict`` for good: drop the body, refuse what follows."""
        self._buffer = bytearray()
        # The frames that reached the verdict hold the parsed request; kept in the verdict's
        # traceback, and the verdict kept here, they would live until the cyclic collector
        # found them (a refused 8 kB body cost 7 us more to raise than to accept).
        self._verdict = verdict.with_traceback(None)
        self._plain = False
        return verdict

    def finish(self) -> object:
        """The end of the body: return its JSON value (``None`` if empty), or raise the verdict."""
        if not self._finished:
            verdict = self.settle()
            if verdict is not None:
                raise verdict
        return self._value

    def finish_without_body(self) -> None:
        """The end of a request whose body is not judged: raise the verdict on its path and query
        parameters alone. For an adapter that cannot read the body as the server will, a
        compressed one say: it forwards the body unread. Nothing may be fed before or after it
        (``ValueError``): the body's bytes would be neither judged nor, as :attr:`body`, whole."""
        if self._verdict is not None:
            raise self._verdict
        if self.received:
            raise ValueError(f"finish_without_body() ends a request whose body is not fed: "
                             f"{self.received} bytes were")
        if self.operation is not None and not self._finished:
            verdict = request_verdict(self.operation, {"path": self._path, "query": self._query})
            if verdict is not None:
                raise self._keep(verdict)
        self._finished = True
        self._plain = False

    def settle(self) -> TTError | None:
        """The end of the body, as :meth:`finish` but returning the verdict instead of raising it:
        a :class:`TTError`, or ``None`` when the body passes (:meth:`finish` then returns its
        value). For an adapter that answers a refusal itself, without the cost of a raise."""
        if self._verdict is not None:
            return self._verdict
        if self._finished:
            return None
        if self.content_length is not None and self.received != self.content_length:
            raise ValueError(f"the body ended after {self.received} of the "
                             f"{self.content_length} bytes of its content_length")
        judged = _judged(self._buffer, self.operation, self.max_body, self._path, self._query)
        if isinstance(judged, TTError):
            return self._keep(judged)
        self._value = judged
        self._finished = True
        self._plain = False
        return None


