"""resolve(): every operation of the official client, from its method and path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ttguard import Route, operations, resolve

OPERATIONS = json.loads(
    (Path(__file__).parents[1] / "schemas" / "operations.json").read_text())


def filled(template: str) -> tuple[str, dict[str, str]]:
    """The template with each parameter given a distinct value that is no literal segment."""
    params = {name: f"value-of-{name}" for name in re.findall(r"{(\w+)}", template)}
    return template.format(**params), params


def test_the_catalogue_lists_the_85_operations_of_the_official_client() -> None:
    assert len(OPERATIONS) == 85
    assert list(operations()) == [entry["operation"] for entry in OPERATIONS]


@pytest.mark.parametrize("entry", OPERATIONS, ids=lambda entry: entry["operation"])
def test_every_operation_resolves_from_its_own_path(entry: dict[str, str]) -> None:
    path, params = filled(entry["path"])
    assert resolve(entry["method"], path) == Route(entry["operation"], params)


def test_a_literal_segment_wins_over_a_parameter() -> None:
    assert resolve("GET", "/notifications/webhooks/access") == Route(
        "get_notifications_access", {})
    assert resolve("GET", "/notifications/webhooks/acc-uuid") == Route(
        "webhook_confirm_subscription", {"account": "acc-uuid"})


def test_a_parameter_is_tried_when_a_literal_leads_nowhere() -> None:
    # "access" is a literal under /notifications/webhooks, but only GET has nothing deeper
    assert resolve("DELETE", "/notifications/webhooks/access") == Route(
        "webhook_unsubscribe", {"account": "access"})


def test_the_ledger_aliases_are_path_values() -> None:
    for alias in ("personal", "owner", "creator"):
        assert resolve("GET", f"/twins/t/ledgers/{alias}") == Route(
            "get_twin_ledger_entry", {"twin": "t", "ledger": alias})


@pytest.mark.parametrize("path", [
    "https://rest.trustedtwin.com/twins/t/ledgers/personal?entries=a&entries=b",
    "/twins/t/ledgers/personal?entries=a",
    "/twins/t/ledgers/personal/",
    "/twins/t/ledgers/personal#fragment",
])
def test_urls_queries_and_a_trailing_slash_are_understood(path: str) -> None:
    assert resolve("GET", path) == Route(
        "get_twin_ledger_entry", {"twin": "t", "ledger": "personal"})


def test_a_prefix_is_removed_before_matching() -> None:
    assert resolve("POST", "/gateway/tt/twins", prefix="/gateway/tt/") == Route("create_twin", {})
    assert resolve("POST", "/twins", prefix="/gateway/tt") is None
    assert resolve("POST", "/gateway/ttwins", prefix="/gateway/t") is None


def test_path_parameters_are_percent_decoded_after_splitting() -> None:
    assert resolve("GET", "/resolve/RFID%23be744bdc%2Fx") == Route(
        "resolve_twin_identity", {"identity": "RFID#be744bdc/x"})


def test_methods_are_case_insensitive() -> None:
    assert resolve("post", "/twins") == Route("create_twin", {})


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/twins"), ("GET", "/nothing"), ("GET", "/twins/t/unknown"), ("GET", "/twins//docs"),
    ("POST", "/twins/t"), ("GET", ""),
])
def test_what_is_no_operation_resolves_to_none(method: str, path: str) -> None:
    assert resolve(method, path) is None
