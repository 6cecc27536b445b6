"""From an HTTP method and path to the Trusted Twin operation and its path parameters.

A guard must judge the request the application or the upstream will handle, so a path is first
brought to one **canonical form** (:func:`canonical_path`), and the same request spelled another
way is judged as that one request:

* percent-encoded unreserved characters are decoded (``/tw%69ns`` is ``/twins``, RFC 3986
  6.2.2.2); any other escape stays as sent, so an encoded ``/`` stays inside its segment;
* dot segments are removed (``/x/../twins`` is ``/twins``, RFC 3986 5.2.4), and so are empty
  ones (``/twins//t`` is ``/twins/t``, as a proxy that merges slashes reads it);
* literal segments match whatever their case (``/TWINS`` names ``create_twin``): checking a
  request the server might not route never refuses one it accepts;
* a ``HEAD`` is routed as a ``GET``: it is one without the answer's body (RFC 9110 9.3.2), and
  frameworks such as Starlette run the ``GET``'s handler for it.

Where readers of the same target may disagree, and a guess could let a request past the check,
the target is refused with ``400793 corrupted_request`` (:data:`AMBIGUOUS`): a ``;`` path
parameter, a ``#`` or ``\\`` in the path, an encoded dot segment (``%2E%2E``), a ``..`` that
climbs above the root or across the mount prefix, an encoded ``/`` that names another operation
(or other parameters) once decoded, and the path then read as above, than kept inside its
segment, or that leads into or out of the mount prefix once decoded, a target that is no path;
and a dot segment, an empty segment (a trailing ``/`` too) or a literal's case that makes a
router taking the path as sent (:func:`_as_sent`: Starlette under uvicorn, say, whose
parameters take ``.`` and ``..``, whose ``{doc_name:path}`` takes an empty rest, whose
literals keep their case, and whose ``^...$`` routes, matched by ``re.match``, take a final
newline: ``/twins%0A`` is ``/twins``) name another operation, or other parameters, than the
canonical form. A mount prefix is compared decoded, as an ASGI ``root_path`` gives it.

The route table is built once, on first use, from the catalogue's operations: a tree of path
segments per method, where a literal segment is tried before a ``{parameter}`` (so
``/notifications/webhooks/access`` is not taken for ``/notifications/webhooks/{account}``).
A Doc's name may hold up to five ``/`` (its documented pattern), so ``{doc_name}`` takes the
rest of the path. Resolving costs one step per path segment, plus backtracking over a parameter
where a literal led nowhere, and a second walk where the path as sent differs from its canonical
form (or holds a capital letter); canonicalising is linear in the path's length.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from .catalogue import child_schema, operations, request_schema
from .errors import Subcode, TTError

__all__ = ["AMBIGUOUS", "Query", "Route", "below_prefix", "canonical_path", "parse_query",
           "resolve", "route_path"]

#: Query: the raw string (what follows the target's first ``?``), or each name with its value
#: (a list where the name repeats).
Query = str | Mapping[str, str | list[str]]
#: ttguard's words for a refused target (the server's are unknown): ``{}`` names the reason,
#: never a value from the path.
AMBIGUOUS = "Request path is ambiguous: {}."
#: Parameters that take the rest of the path, ``/`` included.
_REST_PARAMETERS = frozenset({"doc_name"})
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_ENCODED_SLASH = re.compile(r"%2[Ff]")
_ABSOLUTE_FORM = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_NOT_IN_A_PATH = {";": "a ';' parameter", "#": "a '#' in the path", "\\": "a backslash"}
#: Methods routed as another's: Starlette, say, answers a HEAD with the GET's handler, minus
#: the body, so a HEAD with bad parameters would reach a handler unchecked.
_ROUTED_AS = {"HEAD": "GET"}
#: Why a path whose decoded reading (:func:`_decoded`) routes elsewhere is ambiguous.
_CHANGES_THE_ROUTE = "an encoded '/' changes the route"


class Route(NamedTuple):
    """A request mapped to its operation: ``(operation, path_params)``."""

    operation: str
    #: The path parameters, percent-decoded, by their names in the operation's path template.
    path_params: dict[str, str]


def _ambiguous(reason: str) -> TTError:
    return TTError(Subcode.CORRUPTED_REQUEST, AMBIGUOUS.format(reason))


class _Ambiguous(Exception):
    """A path that readers may take for different requests, and why (never a value of it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _decode_unreserved(segment: str) -> str:
    def decoded(escape: re.Match[str]) -> str:
        character = chr(int(escape.group(1), 16))
        return character if character in _UNRESERVED else escape.group(0)

    return _ESCAPE.sub(decoded, segment) if "%" in segment else segment


def _origin_form(target: str) -> str:
    """The path of a request target; of an absolute-form one, its path (RFC 9112 3.2.2)."""
    return urlsplit(target).path or "/" if _ABSOLUTE_FORM.match(target) else target


def _canonical_segments(path: str) -> tuple[list[str], bool]:
    """The segments of an origin-form ``path`` in canonical form, and whether it ends in ``/``."""
    if not path.startswith("/"):
        raise _Ambiguous("the target is no path")
    for character, reason in _NOT_IN_A_PATH.items():
        if character in path:
            raise _Ambiguous(reason)
    kept: list[str] = []
    for raw in path.split("/")[1:]:
        segment = _decode_unreserved(raw)
        if segment in (".", "..") and segment != raw:
            raise _Ambiguous("an encoded dot segment")
        if segment == "..":
            if not kept:
                raise _Ambiguous("'..' climbs above the root")
            kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    last = path.rsplit("/", 1)[-1]
    return kept, bool(kept) and last in ("", ".", "..")


@lru_cache(maxsize=4096)
def canonical_path(path: str) -> str:
    """The one spelling of a request path that ttguard judges, and a gateway forwards.

    ``path`` is the path as sent (percent-encoded, without a query), or an absolute URL.
    Raises the ``400793`` :class:`~ttguard.TTError` where the target is ambiguous (see the
    module's description).

    >>> canonical_path("/x/../tw%69ns//t/")
    '/twins/t/'

    Cached, as :func:`route_path` is: the gateway asks again for the path it forwards.
    """
    try:
        segments, trailing_slash = _canonical_segments(_origin_form(path))
    except _Ambiguous as ambiguous:
        raise _ambiguous(ambiguous.reason) from None
    return "/" + "/".join(segments) + ("/" if trailing_slash else "")


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    #: A parameter taking all the remaining segments, and the operation it ends in.
    rest: tuple[str, str] | None = None
    operation: str | None = None


@cache
def _table() -> dict[str, _Node]:
    roots: dict[str, _Node] = {}
    for operation in operations().values():
        node = roots.setdefault(operation.method, _Node())
        segments = _split(operation.path)
        for index, segment in enumerate(segments):
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if name in _REST_PARAMETERS and index == len(segments) - 1:
                    node.rest = (name, operation.name)
                    break
                if node.parameter is None:
                    node.parameter = (name, _Node())
                node = node.parameter[1]
            else:
                node = node.literals.setdefault(segment.lower(), _Node())
        else:
            node.operation = operation.name
    return roots


def _split(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _walk(node: _Node, segments: list[str], params: dict[str, str], as_sent: bool) -> str | None:
    """The operation at the end of ``segments`` (decoded), filling in ``params`` on the way;
    ``as_sent``: literals in their own case only, as a router that takes the path as sent reads
    them (:func:`_as_sent`)."""
    if not segments:
        return node.operation
    head, rest = segments[0], segments[1:]
    literal = node.literals.get(head if as_sent else head.lower())
    if literal is not None:
        found = _walk(literal, rest, params, as_sent)
        if found is not None:
            return found
    if node.parameter is not None and head:
        name, child = node.parameter
        params[name] = head
        found = _walk(child, rest, params, as_sent)
        if found is not None:
            return found
        del params[name]
    if node.rest is not None:
        name, operation = node.rest
        params[name] = "/".join(segments)
        return operation
    return None


_Match = tuple[str, tuple[tuple[str, str], ...]]


def _match(method: str, segments: tuple[str, ...], as_sent: bool = False) -> _Match | None:
    root = _table().get(method)
    if root is None:
        return None
    params: dict[str, str] = {}
    found = _walk(root, list(segments), params, as_sent)
    return None if found is None else (found, tuple(params.items()))


def route_path(method: str, path: str, *, prefix: str = "",
               as_sent: bool = True) -> Route | None:
    """The operation a request path names, with its path parameters, or ``None``.

    ``path`` is the path as sent: percent-encoded, without query or fragment (an ASGI
    ``raw_path``). Raises the ``400793`` :class:`~ttguard.TTError` where the target is ambiguous.
    ``prefix`` is a path under which the API is mounted, removed before matching; a ``..``,
    or an encoded ``/`` once decoded, that leads into or out of it is ambiguous, and a path
    outside it either way with no dot segment is none of ttguard's business, ambiguous or not.
    ``as_sent`` false: no reading as a router that takes the path as sent (Starlette's) reads
    it, for a guard whose server is another's (a client's, whose server reads it its own way).
    """
    routed = _route(method, path, prefix, as_sent)
    if routed is None:
        return None
    if isinstance(routed, str):
        raise _ambiguous(routed)
    return Route(routed[0], routed[1].copy())  # a dictionary of the caller's own


@lru_cache(maxsize=4096)
def _route(method: str, path: str, prefix: str, read_as_sent: bool
           ) -> tuple[str, dict[str, str]] | str | None:
    """:func:`route_path`'s answer, with the reason for an ambiguous path as a str.

    Cached: a gateway sees the same few paths again and again, in the same spelling, method
    included. Its parameters are copied for each caller (0.1 us less than a dictionary made
    from the match's pairs).
    """
    method = method.upper()
    routed = _routed(_ROUTED_AS.get(method, method), path, prefix, read_as_sent)
    return (routed[0], dict(routed[1])) if isinstance(routed, tuple) else routed


def _routed(method: str, path: str, prefix: str, read_as_sent: bool) -> _Match | str | None:
    """:func:`_route`'s answer for a method in capitals (a ``HEAD`` as a ``GET``), with the
    path's parameters as pairs, immutable, to compare one reading with another."""
    path = _origin_form(path)
    prefix_segments = _split(prefix)
    sent = [segment for segment in map(_decode_unreserved, path.split("/")) if segment]
    sent_inside = not prefix_segments or _decoded_start(sent, prefix_segments)
    if prefix_segments and _ENCODED_SLASH.search(path):
        # Starlette's Mount, say, takes /api%2Ftwins for /api/twins: inside the prefix.
        decoded_inside = _decoded(path)[:len(prefix_segments)] == tuple(prefix_segments)
        if decoded_inside != sent_inside:
            return _CHANGES_THE_ROUTE
    if not sent_inside and not any(segment in (".", "..") for segment in sent):
        return None
    try:
        segments, trailing_slash = _canonical_segments(path)
    except _Ambiguous as ambiguous:
        return ambiguous.reason
    # No dot, empty or encoded segment: a router reading the path as sent splits it alike.
    spelled_canonically = not trailing_slash and path == "/" + "/".join(segments)
    if prefix_segments:
        inside = _decoded_start(segments, prefix_segments)
        if inside != sent_inside:
            return "'..' crosses the prefix"
        if not inside:
            return None
        segments = segments[len(prefix_segments):]
    # Each parameter is decoded once, after splitting: an encoded "/" stays inside its value.
    canonical = tuple(map(unquote, segments))
    match = _match(method, canonical)
    if (any(_ENCODED_SLASH.search(segment) for segment in segments)
            and _match(method, _decoded("/".join(segments))) != match):
        return _CHANGES_THE_ROUTE
    if not read_as_sent:
        return match
    sent_segments = canonical if spelled_canonically else _as_sent(path, prefix_segments)
    if sent_segments is None:
        return match
    newline_ended = bool(sent_segments) and sent_segments[-1].endswith("\n")
    # Split alike, only a literal's case can part the readings; with no match here, a walk
    # that takes fewer literals finds none either.
    if sent_segments == canonical and not newline_ended and (
            match is None or not _has_capital(canonical)
            or not _literal_case_differs(match[0], canonical)):
        return match
    as_sent = _match(method, sent_segments, as_sent=True)
    newline_taken = as_sent is None and newline_ended
    if newline_taken:
        # Starlette matches a route's ^...$ with re.match, whose $ also matches before a final
        # newline: /twins%0A is /twins to it.
        as_sent = _match(method, (*sent_segments[:-1], sent_segments[-1][:-1]), as_sent=True)
    if as_sent is not None and as_sent != match:
        return ("a final newline changes the route" if newline_taken
                else _why_as_sent_differs(sent_segments))
    return match


def _decoded_start(segments: list[str], prefix_segments: list[str]) -> bool:
    """Whether ``segments`` (percent-encoded) start with ``prefix_segments`` (decoded, as an
    ASGI ``root_path`` is): a mount at ``/acme corp`` holds ``/acme%20corp/twins``."""
    return list(map(unquote, segments[:len(prefix_segments)])) == prefix_segments


def below_prefix(path: str, prefix: str) -> str | None:
    """The rest of a canonical ``path`` (:func:`canonical_path`, percent-encoded) after
    ``prefix`` (a path as decoded), from its ``/`` on; ``None`` if it lies outside it."""
    prefix_segments = _split(prefix)
    segments = path.split("/")[1:]
    if not _decoded_start(segments, prefix_segments):  # a shorter path too: its slice is short
        return None
    return "/" + "/".join(segments[len(prefix_segments):])


def _has_capital(segments: tuple[str, ...]) -> bool:
    text = "/".join(segments)
    return text != text.lower()


@cache
def _literals(operation: str) -> tuple[tuple[int, str], ...]:
    """The literal segments of ``operation``'s path, with their places."""
    template = _split(operations()[operation].path)
    return tuple((index, segment) for index, segment in enumerate(template)
                 if not segment.startswith("{"))


def _literal_case_differs(operation: str, segments: tuple[str, ...]) -> bool:
    """Whether ``segments``, which name ``operation``, spell one of its literals in another
    case."""
    return any(segments[index] != literal for index, literal in _literals(operation))


def _as_sent(path: str, prefix_segments: list[str]) -> tuple[str, ...] | None:
    """The segments of ``path`` below the prefix as a router that takes the path as sent reads
    them (Starlette under uvicorn, say): decoded, then split at each ``/``, dot and empty
    segments kept; None if the path, so read, lies outside the prefix."""
    decoded = unquote(path)
    if prefix_segments:
        mount = "/" + "/".join(prefix_segments)
        if not decoded.startswith(mount + "/"):
            return None
        decoded = decoded[len(mount):]
    return tuple(decoded.split("/")[1:])


def _why_as_sent_differs(sent: tuple[str, ...]) -> str:
    """Why a path whose segments as sent are ``sent`` names another route so read than in its
    canonical form: the first of the differences canonicalising removes."""
    if any(segment in (".", "..") for segment in sent):
        return "a dot segment changes the route"
    if "" in sent[:-1]:
        return "an empty segment changes the route"
    if sent[-1] == "":
        return "a trailing '/' changes the route"
    return "a letter's case changes the route"


def _decoded(path: str) -> tuple[str, ...]:
    """The segments of ``path`` as a reader that decodes it before routing reads them (Starlette,
    say, or a proxy that decodes and then normalises, as nginx does before it forwards a URI):
    split at each ``/``, encoded or not; then empty and dot segments removed, as in any path
    ttguard reads. ``/twins/t/identities%2F`` is ``/twins/t/identities/`` to it,
    create_twin_identity, and ``/twins/t/identities%2F..%2F..%2F..%2Ftwins`` is ``/twins``,
    create_twin: not routes to let pass."""
    kept: list[str] = []
    for segment in unquote(path).split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    return tuple(kept)


def resolve(method: str, path: str, *, prefix: str = "", as_sent: bool = True) -> Route | None:
    """The operation a request is for, with its path parameters, or ``None`` if none matches.

    >>> resolve("POST", "/twins/e834214a/ledgers/personal")
    Route(operation='add_twin_ledger_entry', path_params={'twin': 'e834214a', 'ledger': 'personal'})

    ``path`` may be a full URL and may carry a query string and a fragment; ``prefix`` is a
    path under which the API is mounted (a gateway's ``/tt``, say), removed before matching.
    ``method`` is read in any case, and a ``HEAD`` as the ``GET`` it stands for.
    The path is judged in its canonical form (:func:`canonical_path`); an ambiguous one raises
    the ``400793`` :class:`~ttguard.TTError`, as does one that a router taking the path as sent
    (Starlette's) routes elsewhere, unless ``as_sent`` is false (:func:`route_path`).
    ``TypeError`` for an argument that is not a str.
    """
    if not (type(method) is type(path) is type(prefix) is str):
        # The long way only for what is not exactly a str: a subclass (http.HTTPMethod) is one.
        for name, value in (("method", method), ("path", path), ("prefix", prefix)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    target = urlsplit(path).path if "://" in path else path.split("?", 1)[0].split("#", 1)[0]
    return route_path(method, target or "/", prefix=prefix, as_sent=as_sent)


def parse_query(query: Query, operation: str | None = None) -> dict[str, str | list[str]]:
    """A query as a mapping: a name that repeats maps to the list of its values, in order.

    With ``operation``, as the server reads it for that operation: a parameter its schema
    declares as one value (a ``type`` other than ``array``) that the query repeats is read by
    its last value, as FastAPI reads it (Starlette's ``QueryParams.get``): ``?details=true&
    details=true`` is ``details=true``, not a list that no boolean is.
    """
    parsed: dict[str, str | list[str]]
    if not isinstance(query, str):
        parsed = dict(query)
        repeated = [name for name, values in parsed.items() if isinstance(values, list)]
    elif not query:
        return {}
    else:
        parsed, repeated = {}, []
        # As sent: in /twins??count=1 the name is "?count", as Starlette reads it.
        for name, value in parse_qsl(query, keep_blank_values=True):
            earlier = parsed.get(name)
            if earlier is None:
                parsed[name] = value
            elif isinstance(earlier, list):
                earlier.append(value)
            else:
                parsed[name] = [earlier, value]
                repeated.append(name)
    if operation is not None and repeated:  # most queries name each parameter once
        single = _single_valued(operation)
        for name in repeated:
            values = parsed[name]
            if name in single and values:
                parsed[name] = values[-1]
    return parsed


@cache
def _single_valued(operation: str) -> frozenset[str]:
    """The query parameters ``operation``'s schema declares as one value each."""
    declared = child_schema(request_schema(operation), "query").get("properties", {})
    return frozenset(name for name, schema in declared.items()
                     if isinstance(schema, dict) and schema.get("type", "array") != "array")
