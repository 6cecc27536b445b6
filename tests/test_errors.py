"""The error model: subcodes as the server lists them, and the server's error body."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from ttguard import Subcode, TTError
from ttguard.core.errors import refusal

SUBCODES = json.loads((Path(__file__).parent / "data" / "subcodes.json").read_text())["subcodes"]


@pytest.mark.parametrize("entry", SUBCODES, ids=lambda entry: str(entry["subcode"]))
def test_every_known_subcode_has_its_status_and_name(entry: dict[str, object]) -> None:
    subcode = Subcode(entry["subcode"])
    assert subcode.status == entry["status"]
    assert subcode.message == entry["name"]


def test_the_enum_holds_nothing_but_the_known_subcodes() -> None:
    assert {int(subcode) for subcode in Subcode} == {entry["subcode"] for entry in SUBCODES}


def test_an_error_carries_the_servers_answer() -> None:
    error = TTError(Subcode.QUOTA_VIOLATION, "too large")
    assert (error.status, error.subcode, error.message, error.description) == (
        400, 400141, "quota_violation", "too large")
    assert error.to_dict() == {"subcode": 400141, "trace": error.trace, "description": "too large"}
    assert json.loads(json.dumps(error.to_dict()))["subcode"] == 400141
    assert str(error) == "400 400141 quota_violation: too large"


def test_each_error_has_its_own_trace() -> None:
    traces = {TTError(Subcode.NOT_FOUND, "x").trace for _ in range(1000)}
    assert len(traces) == 1000


def test_a_trace_is_made_once_on_first_use() -> None:
    error = TTError(Subcode.REQUEST_FORMAT, "x")
    assert error.trace == error.to_dict()["trace"] == repr(error).split("trace=")[1][1:-2]
    assert len(error.trace) == 36


def test_a_given_trace_is_kept_and_survives_pickling() -> None:
    error = TTError(401000, "Authorization header not provided.", trace="abc")
    copy = pickle.loads(pickle.dumps(error))
    assert copy.to_dict() == error.to_dict() == {
        "subcode": 401000, "trace": "abc", "description": "Authorization header not provided."}
    assert copy.status == 401 and copy.message == "unauthorized"


def test_an_unlisted_subcode_keeps_its_status() -> None:
    error = TTError(409123, "conflict")
    assert (error.status, error.message) == (409, "error")


@pytest.mark.parametrize("subcode", list(Subcode))
def test_a_refusal_made_without_the_constructor_is_the_constructors(subcode: Subcode) -> None:
    made, constructed = refusal(subcode, "why"), TTError(subcode, "why")
    assert type(made) is TTError and made.args == constructed.args == ("why",)
    assert [type(made.subcode), type(made.status)] == [int, int]
    assert (made.subcode, made.status, made.message, made.description, str(made)) == (
        constructed.subcode, constructed.status, constructed.message, constructed.description,
        str(constructed))
    assert made.trace != constructed.trace and len(made.trace) == 36
    assert pickle.loads(pickle.dumps(made)).to_dict() == made.to_dict()


@pytest.mark.parametrize("subcode", [0, 99999, 1000000, -400141])
def test_a_subcode_has_six_digits(subcode: int) -> None:
    with pytest.raises(ValueError, match="six digits"):
        TTError(subcode, "x")
