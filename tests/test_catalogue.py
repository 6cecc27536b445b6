"""The schema catalogue: well-formed schemas, every operation covered, every constraint worded.

The tables below hold, per operation, a valid request taken from (or shaped after) the
documentation, and for each documented constraint a request that breaks it with the exact
verdict the server gives.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import verdict
from jsonschema import Draft202012Validator

from ttguard import TTError, operations, validate
from ttguard.core.catalogue import request_schema
from ttguard.core.fast_refusal import walk
from ttguard.core.keywords import KEYWORDS

SCHEMAS = Path(__file__).parents[1] / "schemas"
README = (SCHEMAS / "README.md").read_text()
WITH_SCHEMA = sorted(path.stem for path in SCHEMAS.glob("*.json")
                     if path.stem not in {"operations", "_common"})
ANNOTATIONS = {"$schema", "$comment", "title", "description", "x-pattern-printed", "$defs",
               "$ref", "default", "examples"}
UUID = "e834214a-e13d-412b-ffd6-911ab58c8733"
OTHER_UUID = "4a7d1e10-46a5-4bd0-9c2e-5f0e3c8d1a2b"


def keywords_used(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in {"properties", "$defs"}:
                for subschema in value.values():
                    keywords_used(subschema, found)
            elif key not in {"enum", "const", "required", "examples", "default"}:
                keywords_used(value, found)
    elif isinstance(node, list):
        for item in node:
            keywords_used(item, found)
    return found


@pytest.mark.parametrize("name", WITH_SCHEMA)
def test_each_schema_is_well_formed_and_uses_only_worded_keywords(name: str) -> None:
    schema = request_schema(name)
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    assert keywords_used(schema, set()) <= set(KEYWORDS) | ANNOTATIONS
    operation = operations()[name]
    assert schema["title"] == f"{name}: {operation.method} {operation.path}"
    assert "https://trustedtwin.com/docs/" in schema["$comment"] or (
        "no page of its own was captured" in schema["$comment"])
    assert set(schema["properties"]) <= {"path", "query", "body"}
    path_names = set(re.findall(r"{(\w+)}", operation.path))
    assert set(schema["properties"].get("path", {}).get("properties", {})) <= path_names


@pytest.mark.parametrize("name", WITH_SCHEMA)
def test_each_schema_has_a_fast_path(name: str) -> None:
    walked = walk(name)  # None where the lenient reading or Rust cannot read the schema
    assert walked is not None and walked.proof is not None


@pytest.mark.parametrize("operation", [o for o in operations().values()
                                       if o.method in {"POST", "PATCH"}], ids=str)
def test_every_operation_with_a_body_has_a_schema_or_a_reason(operation: Any) -> None:
    if operation.name not in WITH_SCHEMA:
        assert re.search(rf"^\| {operation.name} \|.*\| no schema: .+\|$", README, re.MULTILINE), (
            f"{operation.name} has neither a schema nor a reason in schemas/README.md")


# -- valid requests, one per operation with a schema ---------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "create_twin": {"body": {"description": {"colour": "red", "weight_kg": 12.5}}},
    "update_twin": {"path": {"twin": UUID}, "body": {"description": {}}},
    "terminate_twin": {"path": {"twin": UUID}},
    "get_twin": {"path": {"twin": UUID}, "query": "show_terminated=False"},
    "scan_twins": {"query": "count=1000&details=True&match=TWIN.status%3D%3D%27alive%27&cursor=x"},
    "get_twin_identities": {"path": {"twin": UUID}, "query": "show_expired=true&show_foreign=x"},
    "create_twin_identity": {"path": {"twin": UUID}, "body": {"identities": {
        "RFID#be744bdc-0f6d-4a00-8199-9f6a893c1bde": {"validity_ts": 1678270994.0,
                                                      "visibility": None}}}},
    "get_twin_identity": {"path": {"twin": UUID, "identity": "HID#abc=="}},
    "update_twin_identity": {"path": {"twin": UUID, "identity": "RFID#1"},
                             "body": {"validity_ts": None, "visibility": "USER.role == 'x'"}},
    "delete_twin_identity": {"path": {"twin": UUID, "identity": "RFID#1"}},
    "resolve_twin_identity": {"path": {"identity": "RFID#1"},
                              "query": f"context={UUID}&details=False"},
    "add_twin_ledger_entry": {"path": {"twin": UUID, "ledger": "personal"}, "body": {"entries": {
        "key1": {"value": "123", "visibility": "true"},
        "key2": {"value": "321", "visibility": None},
        "gdansk_temp": {"value": {"c": 3}, "history": "1Y"}}}},
    "get_twin_ledger_entry": {"path": {"twin": UUID, "ledger": "creator"},
                              "query": "entries=a&entries=b&show_public=0"},
    "update_twin_ledger_entry": {"path": {"twin": UUID, "ledger": OTHER_UUID},
                                 "body": {"entries": {"key1": {"value": 5}}}},
    "delete_twin_ledger_entry": {"path": {"twin": UUID, "ledger": "personal"},
                                 "query": "entries=key1"},
    "get_twin_ledger_entry_value": {"path": {"twin": UUID, "ledger": "owner"}},
    "update_twin_ledger_entry_value": {"path": {"twin": UUID, "ledger": "personal"},
                                       "body": {"entries": {"key1": 7, "key_2": [1]}}},
    "get_twin_ledger_entry_history": {"path": {"twin": UUID, "ledger": "owner"},
                                      "query": "ge=1678270994.000&le=1678270999&limit=100"},
    "get_twin_docs": {"path": {"twin": UUID}},
    "attach_twin_doc": {"path": {"twin": UUID}, "body": {
        "doc_name": "Certification/certification_2022_v1.txt", "handler": "c2f1-handler",
        "hash": "0" * 64, "storage_class": "cost_optimized", "description": {"issuer": "TÜV"}}},
    "delete_twin_docs": {"path": {"twin": UUID}},
    "get_twin_doc": {"path": {"twin": UUID, "doc_name": "a/b/c.pdf"},
                     "query": "download=True&validity_ts=1678270994.5"},
    "update_twin_doc": {"path": {"twin": UUID, "doc_name": "report"},
                        "body": {"description": None}},
    "delete_twin_doc": {"path": {"twin": UUID, "doc_name": "report.pdf"}},
    "put_sticker": {"path": {"twin": UUID}, "body": {"stickers": {"red": {
        "note": "Check the pump", "recipients": [UUID, OTHER_UUID], "validity_ts": 1700000000,
        "publish": {"on_put": "topic"}}}}},
    "get_stickers": {"path": {"twin": UUID}, "query": "context=system"},
    "get_sticker": {"path": {"twin": UUID, "color": "dark-blue"}},
    "remove_sticker": {"path": {"twin": UUID, "color": "ab"}},
    "list_stickers": {"query": "limit=100&offset=20&ge=1&color=red"},
    "create_batch": {"body": {"handler": "h", "operation": "update_twin_ledger_entry",
                              "hash": "ab" * 32, "batch_dict": {"source": "erp"}}},
    "get_batch": {"path": {"batch": UUID}},
    "update_batch": {"path": {"batch": UUID}, "body": {"status": "cancel"}},
    "delete_batch": {"path": {"batch": UUID}},
    # users, roles, secrets, tokens (examples from the documentation pages)
    "create_user": {"body": {"name": "Jane Doe", "role": UUID,
                             "description": {"company": "Example", "birth_year": 1990},
                             "activity": {"timeseries": "activity_log"}}},
    "update_user": {"path": {"user": UUID}, "body": {"name": "Jane-Doe_2"}},
    "get_user": {"path": {"user": UUID}},
    "delete_user": {"path": {"user": UUID}},
    "get_user_secret": {"path": {"user": UUID}},
    "delete_user_secret": {"path": {"user": UUID}},
    "update_user_secret": {"path": {"user": UUID}, "body": {"validity_ts": 1647450000.0}},
    "create_user_secret_pin": {"path": {"user": "333b4bf7-43b6-4df1-927a-9ddbd7336144"},
                               "body": {"validity_ts": 1647450000.0}},
    "create_user_secret": {"path": {"account": UUID, "pin": "P700SC"}},
    "create_user_token": {"body": {"secret_dict": {"device": "sensor 7"},
                                   "options": ["create", "refresh"], "validity_ts": None}},
    "create_user_role": {"body": {"name": "Read only", "rules": {
        "twin": "TWIN.company == USER.company", "entry": None, "identity": None},
        "statement": {"effect": "allow", "actions": ["get_twin", "get_twin_ledger_entry"]}}},
    "update_user_role": {"path": {"role": UUID},
                         "body": {"statement": {"effect": "deny", "actions": None}}},
    "get_user_role": {"path": {"role": UUID}},
    "delete_user_role": {"path": {"role": UUID}},
    # account services
    "get_database": {"path": {"database": "default"}},
    "get_database_access": {"path": {"database": UUID}},
    "update_database": {"path": {"database": "default"}, "body": {"anything": 1}},
    "update_database_user_access": {"path": {"database": "default", "user": UUID},
                                    "body": {"timeseries": ["read"], "indexes": [],
                                             "customer_data": ["write", "read"]}},
    "update_database_ip_access": {"path": {"database": "default"},
                                  "body": {"203.0.113.7": "office", "198.51.100.1": None}},
    "get_timeseries_table": {"path": {"timeseries": "environmental_data"}},
    "delete_timeseries_table": {"path": {"timeseries": "environmental_data"}},
    "truncate_timeseries_table": {"path": {"timeseries": "_t0"}},
    "update_timeseries_table": {"path": {"timeseries": "environmental_data"}, "body": {
        "retention": "3M", "chunk": "1W",
        "defaults": {"measurement": "{entry_key}", "dimensions": {"city": "Gdańsk"}}}},
    "update_indexes_table": {"path": {"index": "sites"}, "body": {
        "rule": "LEDGER.city != None", "templates": {"city": "{LEDGER.city}"},
        "properties": {"names": ["city"], "types": ["varchar"]}}},
    # notifications, usage, downloads
    "update_notifications_account_access": {"path": {"account": UUID}, "body": {}},
    "webhook_confirm_subscription": {"path": {"account": UUID}, "query": "token=x"},
    "webhook_unsubscribe": {"path": {"account": UUID}},
    "webhook_refresh_subscription": {"path": {"account": UUID}, "body": {"any": "thing"}},
    "get_user_usage": {"path": {"user": UUID}},
    "download_doc": {"path": {"account": UUID, "handler": "any handler"}},
}


def run(operation: str, request: dict[str, Any]) -> object:
    body = request.get("body")
    return validate(None if body is None else json.dumps(body), operation,
                    path_params=request.get("path"), query=request.get("query"))


def test_every_schema_has_a_valid_example() -> None:
    assert sorted(VALID) == WITH_SCHEMA


@pytest.mark.parametrize(("operation", "request_"), VALID.items(), ids=list(VALID))
def test_a_valid_request_passes(operation: str, request_: dict[str, Any]) -> None:
    assert run(operation, request_) == request_.get("body")


# -- one broken constraint at a time ------------------------------------------------------

KEY = "^[a-z_][0-9a-z_]{0,63}$"
NAME = "^[0-9A-Za-z][0-9A-Za-z_ \\-]{0,30}[0-9A-Za-z]$"
DATABASE = ("^(default|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
            "-[0-9a-fA-F]{12})$")
PERIOD = "^([1-9][0-9]{0,2}[DWMY])|(INF)$"
IDENTITY = "[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}"
LEDGER = ("^(personal|owner|creator|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
          "[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
DOC_NAME = "^([a-zA-Z0-9_-]{1,32}\\/){0,5}([a-zA-Z0-9_-]{1,32})(.[a-zA-Z0-9]{1,8})?$"
ENTRY_KEY = "(_*[a-z0-9]+)([_-][0-9a-z]+)"
HISTORY = "^([1-9][0-9]{0,2}[DWMY])|(INF)$"
COLOR = "[0-9A-Za-z\\-]{3,48}"
NOT_UUID = "value is not a valid uuid"
TL = {"twin": UUID, "ledger": "personal"}

BROKEN: list[tuple[str, dict[str, Any], int, str]] = [
    ("create_twin", {"body": {"description": {"Bad": 1}}}, 400589,
     f"body::description->__key__: string does not match regex {KEY}"),
    ("create_twin", {"body": {"description": 7}}, 400589,
     "body::description: value is not a valid dict"),
    ("update_twin", {"path": {"twin": "123"}, "body": {}}, 400589, f"path::twin: {NOT_UUID}"),
    ("update_twin", {"path": {"twin": UUID}, "body": {"description": {"x-y": 1}}}, 400589,
     f"body::description->__key__: string does not match regex {KEY}"),
    ("get_twin", {"path": {"twin": UUID}, "query": "show_terminated=maybe"}, 400589,
     "query::show_terminated: value could not be parsed to a boolean"),
    ("scan_twins", {"query": "count=1001"}, 400589,
     "query::count: ensure this value is less than or equal to 1000"),
    ("scan_twins", {"query": "count=0"}, 400589,
     "query::count: ensure this value is greater than or equal to 1"),
    ("scan_twins", {"query": "count=ten"}, 400589, "query::count: value is not a valid integer"),
    ("scan_twins", {"query": "details=2"}, 400589,
     "query::details: value could not be parsed to a boolean"),
    ("create_twin_identity", {"path": {"twin": UUID}, "body": {"identities": {"RFID": {}}}},
     400589, f"body::identities->__key__: string does not match regex {IDENTITY}"),
    ("create_twin_identity", {"path": {"twin": UUID}, "body": {"identities": {
        "RFID#1": {"validity_ts": "soon"}}}}, 400589,
     "body::identities->RFID#1->validity_ts: value is not a valid float"),
    ("update_twin_identity", {"path": {"twin": UUID, "identity": "RFID"}}, 400589,
     f"path::identity: string does not match regex {IDENTITY}"),
    ("update_twin_identity", {"path": {"twin": UUID, "identity": "RFID#1"},
                              "body": {"visibility": []}}, 400589,
     "body::visibility: str type expected"),
    ("resolve_twin_identity", {"path": {"identity": "#x"}}, 400589,
     f"path::identity: string does not match regex {IDENTITY}"),
    ("add_twin_ledger_entry", {"path": {"twin": UUID, "ledger": "mine"}, "body": {"entries": {}}},
     400589, f"path::ledger: string does not match regex {LEDGER}"),
    ("add_twin_ledger_entry", {"path": TL, "body": {}}, 400926, "body::entries: field required"),
    ("add_twin_ledger_entry", {"path": TL, "body": {"entries": {"Key": {}}}}, 400589,
     f"body::entries->__key__: string does not match regex {ENTRY_KEY}"),
    ("add_twin_ledger_entry", {"path": TL, "body": {"entries": {"k": {"history": "0D"}}}},
     400589, f"body::entries->k->history: string does not match regex {HISTORY}"),
    ("update_twin_ledger_entry", {"path": TL, "body": {"history": "forever"}}, 400589,
     f"body::history: string does not match regex {HISTORY}"),
    ("update_twin_ledger_entry_value", {"path": TL, "body": {"entries": {"K": 1}}}, 400589,
     f"body::entries->__key__: string does not match regex {ENTRY_KEY}"),
    ("get_twin_ledger_entry_history", {"path": TL, "query": "limit=101"}, 400589,
     "query::limit: ensure this value is less than or equal to 100"),
    ("get_twin_ledger_entry_history", {"path": TL, "query": "ge=yesterday"}, 400589,
     "query::ge: value is not a valid float"),
    ("attach_twin_doc", {"path": {"twin": UUID}, "body": {"handler": "h"}}, 400926,
     "body::doc_name: field required"),
    ("attach_twin_doc", {"path": {"twin": UUID}, "body": {"doc_name": "d"}}, 400926,
     "body::handler: field required"),
    ("attach_twin_doc", {"path": {"twin": UUID}, "body": {"doc_name": "my doc name",
                                                          "handler": "h"}}, 400589,
     f"body::doc_name: string does not match regex {DOC_NAME}"),
    ("attach_twin_doc", {"path": {"twin": UUID}, "body": {
        "doc_name": "d", "handler": "h", "storage_class": "glacier"}}, 400589,
     "body::storage_class: value is not a valid enumeration member; "
     "permitted: 'access_optimized', 'cost_optimized'"),
    ("get_twin_doc", {"path": {"twin": UUID, "doc_name": "x" * 42}}, 400589,
     f"path::doc_name: string does not match regex {DOC_NAME}"),
    ("get_twin_doc", {"path": {"twin": UUID, "doc_name": "d"}, "query": "download=perhaps"},
     400589, "query::download: value could not be parsed to a boolean"),
    ("put_sticker", {"path": {"twin": UUID}, "body": {"stickers": {"!!": {"recipients": []}}}},
     400589, f"body::stickers->__key__: string does not match regex {COLOR}"),
    ("put_sticker", {"path": {"twin": UUID}, "body": {"stickers": {"red": {}}}}, 400926,
     "body::stickers->red->recipients: field required"),
    ("put_sticker", {"path": {"twin": UUID}, "body": {"stickers": {"red": {
        "recipients": [UUID] * 101}}}}, 400589,
     "body::stickers->red->recipients: ensure this value has at most 100 items"),
    ("put_sticker", {"path": {"twin": UUID}, "body": {"stickers": {"red": {
        "recipients": [], "note": "n" * 513}}}}, 400589,
     "body::stickers->red->note: ensure this value has at most 512 characters"),
    ("get_sticker", {"path": {"twin": UUID, "color": "A!"}}, 400589,
     f"path::color: string does not match regex {COLOR}"),
    ("list_stickers", {"query": "limit=500"}, 400589,
     "query::limit: ensure this value is less than or equal to 100"),
    ("list_stickers", {"query": "offset=first"}, 400589,
     "query::offset: value is not a valid integer"),
    ("create_batch", {"body": {"operation": "x"}}, 400926, "body::handler: field required"),
    ("create_batch", {"body": {"handler": "h"}}, 400926, "body::operation: field required"),
    ("create_batch", {"body": {"handler": "h", "operation": "o", "hash": "AB" * 32}}, 400589,
     "body::hash: string does not match regex ^[a-f0-9]{64}$"),
    ("create_batch", {"body": {"handler": "h", "operation": "o", "batch_dict": {"A": 1}}},
     400589, f"body::batch_dict->__key__: string does not match regex {KEY}"),
    ("update_batch", {"path": {"batch": UUID}, "body": {}}, 400926,
     "body::status: field required"),
    ("update_batch", {"path": {"batch": UUID}, "body": {"status": "stop"}}, 400589,
     "body::status: value is not a valid enumeration member; permitted: 'cancel'"),
    ("delete_batch", {"path": {"batch": f"{UUID}0"}}, 400589, f"path::batch: {NOT_UUID}"),
    # users, roles, secrets, tokens
    ("create_user", {"body": {"name": "Jane"}}, 400926, "body::role: field required"),
    ("create_user", {"body": {"role": "admin"}}, 400589, f"body::role: {NOT_UUID}"),
    ("create_user", {"body": {"role": UUID, "name": "-"}}, 400589,
     f"body::name: string does not match regex {NAME}"),
    ("create_user", {"body": {"role": UUID, "description": {"Key": 1}}}, 400589,
     f"body::description->__key__: string does not match regex {KEY}"),
    ("update_user", {"path": {"user": "jane"}, "body": {}}, 400589, f"path::user: {NOT_UUID}"),
    ("get_user", {"path": {"user": "x"}}, 400589, f"path::user: {NOT_UUID}"),
    ("create_user_secret_pin", {"path": {"user": UUID}, "body": {"validity_ts": "soon"}},
     400589, "body::validity_ts: value is not a valid float"),
    ("create_user_secret", {"path": {"account": "acme", "pin": "P700SC"}}, 400589,
     f"path::account: {NOT_UUID}"),
    ("create_user_token", {"body": {"options": ["delete"]}}, 400589,
     "body::options->0: value is not a valid enumeration member; permitted: 'create', "
     "'refresh'"),
    ("create_user_token", {"body": {"secret_dict": {"A": 1}}}, 400589,
     f"body::secret_dict->__key__: string does not match regex {KEY}"),
    ("create_user_role", {"body": {"statement": {"actions": []}}}, 400926,
     "body::statement->effect: field required"),
    ("create_user_role", {"body": {"statement": {"effect": "allow"}}}, 400926,
     "body::statement->actions: field required"),
    ("create_user_role", {"body": {"statement": {"effect": "permit", "actions": []}}}, 400589,
     "body::statement->effect: value is not a valid enumeration member; permitted: 'allow', "
     "'deny'"),
    ("create_user_role", {"body": {"name": "_x"}}, 400589,
     f"body::name: string does not match regex {NAME}"),
    ("update_user_role", {"path": {"role": "admin"}, "body": {}}, 400589,
     f"path::role: {NOT_UUID}"),
    # account services
    ("get_database", {"path": {"database": "main"}}, 400589,
     f"path::database: string does not match regex {DATABASE}"),
    ("update_database_user_access", {"path": {"database": "default", "user": UUID},
                                     "body": {"indexes": "read"}}, 400589,
     "body::indexes: value is not a valid list"),
    ("update_database_ip_access", {"path": {"database": "default"}, "body": ["1.2.3.4"]},
     400589, "body::__root__: value is not a valid dict"),
    ("get_timeseries_table", {"path": {"timeseries": "Environmental"}}, 400589,
     f"path::timeseries: string does not match regex {KEY}"),
    ("update_timeseries_table", {"path": {"timeseries": "t"}, "body": {"retention": "0D"}},
     400589, f"body::retention: string does not match regex {PERIOD}"),
    ("update_timeseries_table", {"path": {"timeseries": "t"}, "body": {"chunk": "1H"}},
     400589, f"body::chunk: string does not match regex {PERIOD}"),
    ("update_indexes_table", {"path": {"index": "sites"}, "body": {"templates": "x"}}, 400589,
     "body::templates: value is not a valid dict"),
    # notifications, usage, downloads
    ("webhook_unsubscribe", {"path": {"account": "acme"}}, 400589, f"path::account: {NOT_UUID}"),
    ("get_user_usage", {"path": {"user": "me"}}, 400589, f"path::user: {NOT_UUID}"),
    ("download_doc", {"path": {"account": "acme", "handler": "h"}}, 400589,
     f"path::account: {NOT_UUID}"),
]


@pytest.mark.parametrize(("operation", "request_", "subcode", "description"), BROKEN,
                         ids=[f"{case[0]}:{case[3][:40]}" for case in BROKEN])
def test_a_broken_constraint_gets_the_servers_verdict(
        operation: str, request_: dict[str, Any], subcode: int, description: str) -> None:
    with pytest.raises(TTError) as error:
        run(operation, request_)
    assert verdict(error) == (400, subcode, description)


def test_path_errors_come_before_query_errors_before_body_errors() -> None:
    request_ = {"path": {"twin": "x"}, "query": "show_terminated=maybe", "body": {}}
    with pytest.raises(TTError) as error:
        run("get_twin", request_)
    assert error.value.description == f"path::twin: {NOT_UUID}"
    with pytest.raises(TTError) as error:
        run("attach_twin_doc", {"path": {"twin": "x"}, "body": {}})
    assert error.value.description == f"path::twin: {NOT_UUID}"


LENIENT: list[tuple[str, dict[str, Any]]] = [
    # the Doc name's '.' is unescaped as printed: it matches any character
    ("attach_twin_doc", {"body": {"doc_name": "x" * 33, "handler": "h"}}),
    ("get_twin_doc", {"path": {"twin": UUID, "doc_name": "a/b/c/d/e/f/g"}}),
    # storage_class is "required" with a default; attach has no other required field but these
    ("attach_twin_doc", {"body": {"doc_name": "d", "handler": "h"}}),
    # the unanchored identity form printed by the overview pages
    ("get_twin_identity", {"path": {"twin": UUID, "identity": "see RFID#1 here"}}),
    # the old sticker colour regex: two characters and underscores
    ("remove_sticker", {"path": {"twin": UUID, "color": "r_"}}),
    # the old flat shapes of put_sticker and create_twin_identity
    ("put_sticker", {"body": {"color": "red", "message": "m", "publish": ["on_put"]}}),
    ("create_twin_identity", {"body": {"validity_ts": 1.5, "visibility": None}}),
    # update_twin_ledger_entry in the flat shape the page prints
    ("update_twin_ledger_entry", {"body": {"value": 1, "visibility": None, "history": "2W"}}),
    # pydantic coerces: numbers as strings, numeric strings as numbers
    ("create_batch", {"body": {"handler": 5, "operation": 1.5}}),
    ("scan_twins", {"query": "count=%2B100"}),
    # optional fields may be null
    ("attach_twin_doc", {"body": {"doc_name": "d", "handler": "h", "storage_class": None}}),
    # a user or role name: the old page prints the regex unanchored
    ("create_user_role", {"body": {"name": "(Read only)"}}),
    ("create_user", {"body": {"role": UUID, "name": "Jane Doe!"}}),
    # statement.actions may be null, as in the documented default statement
    ("create_user_role", {"body": {"statement": {"effect": "deny", "actions": None}}}),
    # permissions offered for database access changed between doc versions: not checked
    ("update_database_user_access", {"path": {"database": "default", "user": UUID},
                                     "body": {"timeseries": ["write"]}}),
    # the period alternation is unanchored as printed
    ("update_timeseries_table", {"path": {"timeseries": "t"}, "body": {"retention": "xINF"}}),
]


@pytest.mark.parametrize(("operation", "request_"), LENIENT)
def test_a_lenient_reading_passes(operation: str, request_: dict[str, Any]) -> None:
    assert run(operation, request_) == request_.get("body")


CORPUS = [json.loads(line) for line in
          (Path(__file__).parent / "data" / "valid_corpus.jsonl").read_text().splitlines()]


def test_the_corpus_of_realistic_valid_requests_is_large_and_varied() -> None:
    assert len(CORPUS) >= 100
    assert len({request_["operation"] for request_ in CORPUS}) >= 10


@pytest.mark.parametrize("request_", CORPUS, ids=[f"{i}-{r['operation']}" for i, r in
                                                  enumerate(CORPUS)])
def test_no_realistic_valid_request_is_rejected(request_: dict[str, Any]) -> None:
    body = request_.get("body")
    for serialised in (json.dumps(body), json.dumps(body, ensure_ascii=False)):
        assert validate(serialised, request_["operation"], path_params=request_.get("path"),
                        query=request_.get("query")) == body
