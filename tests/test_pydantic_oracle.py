"""ttguard judges a request as pydantic v1, the server's engine, does: the oracle of
:mod:`tests.pydantic_oracle`, on requests generated from the catalogue
(:mod:`tests.schema_requests`): their bodies, and their path and query parameters.

For each both give the same verdict: both accept it, or both refuse it at the same
location with the same message (a pattern's refusal: its words only, since pydantic prints the
pattern it was given in quotes, and ttguard the one the docs print). The one leniency of
ttguard's that the oracle does not share is set aside: an object sent as a list of pairs with
a key that is no string (a model given one raises ``TypeError``; ttguard leaves it to the
server).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.pydantic_oracle import body_model, first_error, parameters_model
from tests.schema_requests import requests
from ttguard import TTError, operations, validate
from ttguard.core import parse_query
from ttguard.core.catalogue import request_schema

OPERATIONS = [name for name in operations()
              if (request_schema(name) or {}).get("properties", {}).get("body") is not None]
EXAMPLES = int(os.environ.get("TTGUARD_ORACLE_EXAMPLES", "40"))
MODELS = {name: body_model(name) for name in OPERATIONS}
#: How many bodies the oracle judged in this process (the fuzz run reports it).
checked = 0


def _pairs_with_a_key_no_string(value: Any) -> bool:
    """Whether ``value`` holds a list that dict() reads with a key that is not a string."""
    if isinstance(value, dict):
        return any(_pairs_with_a_key_no_string(item) for item in value.values())
    if not isinstance(value, list):
        return False
    try:
        read = dict(value)
    except (TypeError, ValueError):
        read = None
    if read is not None and not all(isinstance(key, str) for key in read):
        return True
    return any(_pairs_with_a_key_no_string(item) for item in value)


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_ttguard_judges_a_body_as_pydantic_v1_does(operation: str, data: st.DataObject) -> None:
    global checked
    _, _, raw = data.draw(requests(operation))
    body = json.loads(raw)
    assume(body is not None and not _pairs_with_a_key_no_string(body))
    checked += 1
    model = MODELS[operation]
    assert model is not None
    theirs = first_error(model, body=body)
    try:
        validate(raw, operation)
        ours = None
    except TTError as refused:
        location, _, message = refused.description.partition(": ")
        ours = location, message
    assert _worded(ours) == _worded(theirs), body


def _worded(error: tuple[str, str] | None) -> tuple[str, str] | None:
    """An error with a pattern's refusal cut to its words (each prints its own pattern)."""
    if error is None or not error[1].startswith(_MISMATCH):
        return error
    return error[0], _MISMATCH


_MISMATCH = "string does not match regex"


@pytest.mark.parametrize(("operation", "body", "expected"), [
    ("add_twin_ledger_entry", [], ("body::entries", "field required")),
    ("add_twin_ledger_entry", {"entries": {"k": {"history": 30}}},
     ("body::entries->k->history", 'string does not match regex "(?s:.)*?(?:^([1-9][0-9]{0,2}'
                                   '[DWMY])|(INF)$)"')),
    ("create_user", {"role": "e834214ae13d412bffd6911ab58c8733"}, None),
    ("create_user_role", {"statement": {"effect": None, "actions": []}},
     ("body::statement->effect", "none is not an allowed value")),
])
def test_the_oracle_reads_bodies_as_pydantic_v1(operation: str, body: object,
                                                expected: tuple[str, str] | None) -> None:
    model = MODELS[operation]
    assert model is not None
    assert first_error(model, body=body) == expected


PARAMETERS = {name: model for name in operations() if request_schema(name)
              if (model := parameters_model(name)) is not None}


@pytest.mark.parametrize("operation", sorted(PARAMETERS))
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_ttguard_judges_path_and_query_as_pydantic_v1_does(operation: str,
                                                          data: st.DataObject) -> None:
    path, query, _ = data.draw(requests(operation))
    parts = request_schema(operation)["properties"]  # type: ignore[index]
    given = {"path": path, "query": parse_query(query, operation)}
    theirs = first_error(PARAMETERS[operation], **{part: value for part, value in given.items()
                                                   if part in parts})
    try:
        validate(None, operation, path_params=path, query=query)
        ours = None
    except TTError as refused:
        location, _, message = refused.description.partition(": ")
        # The body is judged after them (here an empty one): its error says they hold.
        ours = None if location.startswith("body::") else (location, message)
    assert _worded(ours) == _worded(theirs), given
