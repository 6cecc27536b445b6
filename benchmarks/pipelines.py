"""What is compared: ttguard, and the baselines a user has without it, over the same bytes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

import ttguard
from ttguard.core.catalogue import request_schema
from ttguard.core.fast_refusal import walk
from ttguard.core.routes import parse_query

from .bodies import Case, Query

#: The quota a naive pipeline checks after reading the whole body, as ttguard's default.
QUOTA = ttguard.DEFAULT_MAX_BODY


def _request(case: Case, value: object) -> dict[str, Any]:
    return {"path": case.path_params, "query": {}, "body": value}


def ttguard_check(case: Case) -> Callable[[], object]:
    """The full check: size, UTF-8, JSON, path and body against the schema."""
    return lambda: ttguard.validate(case.body, case.operation, path_params=case.path_params)


def ttguard_verdict(case: Case) -> Callable[[], object]:
    """The full check of a body that may be refused: the parsed value, or the server's answer."""
    def check() -> object:
        try:
            return ttguard.validate(case.body, case.operation, path_params=case.path_params)
        except ttguard.TTError as error:
            return error

    return check


def _proven(operation: str, request: dict[str, Any]) -> bool:
    """Whether the fast engine alone proves a request valid, as the core asks it: by the walk's
    pass of proof."""
    walked = walk(operation)
    return walked is not None and walked.proof is not None and bool(walked.proof.is_valid(request))


def proven_fast(case: Case) -> bool:
    """Whether the fast engine alone proves the request valid, without a walk or the reference."""
    return _proven(case.operation, _request(case, json.loads(case.body)))


def ttguard_query(query: Query, *, without_query: bool = False) -> Callable[[], object]:
    """The full check of a bodiless request, with its query or without it (the floor)."""
    text = "" if without_query else query.query
    return lambda: ttguard.validate(None, query.operation, path_params=query.path_params,
                                    query=text)


def query_proven_fast(query: Query) -> bool:
    """Whether the fast engine alone proves the request, its query included."""
    request = {"path": query.path_params, "query": parse_query(query.query, query.operation),
               "body": {}}
    return _proven(query.operation, request)


def json_loads(case: Case) -> Callable[[], object]:
    """Parsing alone, the floor any check stands on; of bytes it refuses (not JSON, not UTF-8),
    what it reads of them before its error, which it returns."""
    def loads() -> object:
        try:
            return json.loads(case.body)
        except ValueError as error:
            return error

    return loads


def naive(case: Case) -> Callable[[], object]:
    """What a user would write: decode, ``json.loads``, ``jsonschema`` (validator built once)."""
    validator = Draft202012Validator(request_schema(case.operation))

    def check() -> object:
        value = json.loads(case.body.decode("utf-8"))
        validator.is_valid(_request(case, value))
        return value

    return check


def fast_json_schema(case: Case) -> Callable[[], object] | None:
    """``json.loads`` and a ``fastjsonschema``-compiled validator, where the schema compiles."""
    try:
        compiled = fastjsonschema.compile(request_schema(case.operation))
    except fastjsonschema.JsonSchemaDefinitionException:
        return None

    def check() -> object:
        value = json.loads(case.body)
        with contextlib.suppress(fastjsonschema.JsonSchemaValueException):
            compiled(_request(case, value))
        return value

    return check


def ttguard_stream(chunks: Iterable[bytes], operation: str = "create_twin") -> int:
    """Feed chunks to the core until its verdict; return the verdict's subcode (0: accepted)."""
    validator = ttguard.StreamValidator(operation)
    try:
        for chunk in chunks:
            validator.feed(chunk)
        validator.finish()
    except ttguard.TTError as error:
        return error.subcode
    return 0


def naive_buffered(chunks: Iterable[bytes]) -> int:
    """The naive pipeline on a streamed body: read it all, then check its size."""
    body = b"".join(chunks)
    if len(body) > QUOTA:
        return int(ttguard.Subcode.QUOTA_VIOLATION)
    json.loads(body.decode("utf-8"))
    return 0
