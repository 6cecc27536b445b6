"""Schema errors: the server's wording, its choice of the first error, pydantic v1 leniency."""

from __future__ import annotations

import pytest
from conftest import verdict

from ttguard import TTError, validate
from ttguard.core import parse_query

KEY_REGEX = "^[a-z_][0-9a-z_]{0,63}$"
ENTRY_KEY_REGEX = "(_*[a-z0-9]+)([_-][0-9a-z]+)"
HISTORY_REGEX = "^([1-9][0-9]{0,2}[DWMY])|(INF)$"
ROLE = "e834214a-e13d-412b-ffd6-911ab58c8733"

REFUSED = [
    # (operation, body, subcode, description)
    ("create_twin", {"description": {"Colour": 1}}, 400589,
     f"body::description->__key__: string does not match regex {KEY_REGEX}"),
    ("create_twin", {"description": {"a" * 65: 1}}, 400589,
     f"body::description->__key__: string does not match regex {KEY_REGEX}"),
    ("create_twin", {"description": "red"}, 400589, "body::description: value is not a valid dict"),
    ("create_twin", {"description": [1, 2]}, 400589,
     "body::description: value is not a valid dict"),
    ("create_twin", [1], 400589, "body::__root__: value is not a valid dict"),
    ("create_twin", '"twin"', 400589, "body::__root__: value is not a valid dict"),
    ("add_twin_ledger_entry", {}, 400926, "body::entries: field required"),
    ("add_twin_ledger_entry", {"entries": None}, 400589,
     "body::entries: none is not an allowed value"),
    ("add_twin_ledger_entry", {"entries": {"Key": {"value": 1}}}, 400589,
     f"body::entries->__key__: string does not match regex {ENTRY_KEY_REGEX}"),
    ("add_twin_ledger_entry", {"entries": {"a.b": {"value": 1}}}, 400589,
     f"body::entries->__key__: string does not match regex {ENTRY_KEY_REGEX}"),
    ("add_twin_ledger_entry", {"entries": {"k": 5}}, 400589,
     "body::entries->k: value is not a valid dict"),
    ("add_twin_ledger_entry", {"entries": {"k": {"history": "0D"}}}, 400589,
     f"body::entries->k->history: string does not match regex {HISTORY_REGEX}"),
    ("add_twin_ledger_entry", {"entries": {"k": {"history": "1000D"}}}, 400589,
     f"body::entries->k->history: string does not match regex {HISTORY_REGEX}"),
    ("add_twin_ledger_entry", {"entries": {"k": {"history": ["1D"]}}}, 400589,
     "body::entries->k->history: str type expected"),
    ("add_twin_ledger_entry", {"entries": {"k": {"visibility": {}}}}, 400589,
     "body::entries->k->visibility: str type expected"),
    # pydantic v1 reads an object by dict(), then checks that dict's fields and keys
    ("add_twin_ledger_entry", [], 400926, "body::entries: field required"),
    ("add_twin_ledger_entry", '""', 400926, "body::entries: field required"),
    ("add_twin_ledger_entry", [["entries", {"k": [["history", "0D"]]}]], 400589,
     f"body::entries->k->history: string does not match regex {HISTORY_REGEX}"),
    ("add_twin_ledger_entry", {"entries": [["Key", {}]]}, 400589,
     f"body::entries->__key__: string does not match regex {ENTRY_KEY_REGEX}"),
    ("create_twin", {"description": [["Colour", "red"]]}, 400589,
     f"body::description->__key__: string does not match regex {KEY_REGEX}"),
    ("create_twin", {"description": ["ab", "Cd"]}, 400589,  # each string a key and its value
     f"body::description->__key__: string does not match regex {KEY_REGEX}"),
    # pydantic v1 checks a string's pattern and length on the str() of a number or boolean
    ("add_twin_ledger_entry", {"entries": {"k": {"history": 30}}}, 400589,
     f"body::entries->k->history: string does not match regex {HISTORY_REGEX}"),
    ("add_twin_ledger_entry", {"entries": {"k": {"history": True}}}, 400589,
     f"body::entries->k->history: string does not match regex {HISTORY_REGEX}"),
    ("put_sticker", {"stickers": {"red": {"note": 10**600, "recipients": []}}}, 400589,
     "body::stickers->red->note: ensure this value has at most 512 characters"),
    # a UUID and an Enum are no str to pydantic: it takes no number, and words any refusal so
    ("create_user", {"role": 5}, 400589, "body::role: value is not a valid uuid"),
    ("create_user", {"role": [ROLE]}, 400589, "body::role: value is not a valid uuid"),
    ("create_user", {"role": ROLE[:-1]}, 400589, "body::role: value is not a valid uuid"),
    ("update_batch", {"status": ["cancel"]}, 400589,
     "body::status: value is not a valid enumeration member; permitted: 'cancel'"),
    # None for a field that is not Optional, whatever its type, even where the schema names none
    ("create_user_role", {"name": "x1", "statement": {"effect": None, "actions": []}}, 400589,
     "body::statement->effect: none is not an allowed value"),
    ("create_user_token", {"options": [None]}, 400589,
     "body::options->0: none is not an allowed value"),
]


@pytest.mark.parametrize(("operation", "body", "subcode", "description"), REFUSED)
def test_a_refused_body_gets_the_servers_words(
        operation: str, body: object, subcode: int, description: str) -> None:
    with pytest.raises(TTError) as error:
        validate(body, operation)
    assert verdict(error) == (400, subcode, description)


ACCEPTED = [
    ("create_twin", {}),
    ("create_twin", {"description": None}),
    ("create_twin", {"description": {}}),
    ("create_twin", {"description": {"_": 1, "a" * 64: {"nested": [1, {"x": None}]}}}),
    ("create_twin", {"description": {"colour": "zielony ☘"}, "unknown_field": 1}),
    # pydantic v1 turns a list of pairs into a dict; the last of a repeated key wins
    ("create_twin", {"description": [["colour", "red"]]}),
    ("add_twin_ledger_entry", {"entries": [["k", {"history": "0D"}], ["k", {"history": "1D"}]]}),
    ("create_twin", []),
    ("add_twin_ledger_entry", [["entries", {}]]),
    # a model given a key that is not a string raises TypeError: only the server knows its answer
    ("add_twin_ledger_entry", [[1, 2]]),
    # pydantic's UUID takes every spelling uuid.UUID() reads
    ("create_user", {"role": ROLE.replace("-", "")}),
    ("create_user", {"role": "{" + ROLE.upper() + "}"}),
    ("create_user", {"role": "urn:uuid:" + ROLE}),
    # the str() of a number or boolean that its pattern accepts
    ("create_user", {"role": ROLE, "name": 12}),
    ("create_user", {"role": ROLE, "name": True}),
    ("add_twin_ledger_entry", {"entries": {}}),
    ("add_twin_ledger_entry", {"entries": {"key1": {"value": "123", "visibility": "true"},
                                           "key2": {"value": "321", "visibility": None}}}),
    # every printed variant of the Entry key regex, and the likely intended one
    ("add_twin_ledger_entry", {"entries": {"_private": {}, "a" * 128: {}, "a-b": {},
                                           "a_b-c_d": {}, "x1-y2_z3": {}, "a-b.anything": {}}}),
    # the unanchored printed variant is searched for, as pydantic v2 would
    ("add_twin_ledger_entry", {"entries": {"Key_x": {}, "a.b-c": {}}}),
    # the history alternation is unanchored as printed
    ("add_twin_ledger_entry", {"entries": {"k": {"history": "1D"}, "l": {"history": "999Y"},
                                           "m": {"history": "INF"}, "n": {"history": "12Wx"},
                                           "o": {"history": "xINF"}}}),
    # Python's $ also matches before a final newline
    ("create_twin", {"description": {"colour\n": "red"}}),
    # a ref Entry has no value; unknown Entry fields are left to the server
    ("add_twin_ledger_entry", {"entries": {"k": {"ref": {"source": "twin"}, "publish": {}}}}),
    # pydantic v1 coerces a number to str
    ("add_twin_ledger_entry", {"entries": {"k": {"visibility": 1, "history": None}}}),
]


@pytest.mark.parametrize(("operation", "body"), ACCEPTED)
def test_a_body_the_server_accepts_passes(operation: str, body: object) -> None:
    assert validate(body, operation) == body


def test_the_first_error_is_the_first_field_in_declaration_order() -> None:
    body = {"entries": {"good": {"history": "bad"}, "Bad": {}}}
    with pytest.raises(TTError) as error:
        validate(body, "add_twin_ledger_entry")
    assert error.value.description == (
        f"body::entries->good->history: string does not match regex {HISTORY_REGEX}")


def test_within_a_dict_an_items_key_comes_before_its_value_and_items_go_in_order() -> None:
    body = {"entries": {"a": {"history": "x"}, "B": {"history": "y"}}}
    with pytest.raises(TTError) as error:
        validate(body, "add_twin_ledger_entry")
    assert error.value.description.startswith("body::entries->a->history:")
    body = {"entries": {"B": {"history": "y"}, "a": {"history": "x"}}}
    with pytest.raises(TTError) as error:
        validate(body, "add_twin_ledger_entry")
    assert error.value.description.startswith("body::entries->__key__:")


@pytest.mark.parametrize("twin", [ROLE, ROLE.replace("-", ""), ROLE.upper(), "{" + ROLE + "}"])
def test_a_path_uuid_in_any_spelling_uuid_reads_passes(twin: str) -> None:
    assert validate(None, "get_twin", path_params={"twin": twin}) is None


def test_a_path_uuid_that_uuid_cannot_read_is_refused() -> None:
    with pytest.raises(TTError) as error:
        validate(None, "get_twin", path_params={"twin": ROLE.replace("-", "")[:-1]})
    assert verdict(error) == (400, 400589, "path::twin: value is not a valid uuid")


# -- a query parameter given twice ---------------------------------------------------------------


@pytest.mark.parametrize("query", ["count=5&count=7", "count=abc&count=7", {"count": ["5", "7"]},
                                   "details=true&details=true"])
def test_a_repeated_single_valued_query_parameter_is_read_by_its_last_value(
        query: str | dict[str, list[str]]) -> None:
    # As FastAPI reads it (Starlette's QueryParams.get): the last value, not a list.
    assert validate(None, "scan_twins", query=query) is None


def test_a_repeated_query_parameter_whose_last_value_is_bad_is_refused_for_it() -> None:
    with pytest.raises(TTError) as error:
        validate(None, "scan_twins", query="count=7&count=abc")
    assert verdict(error) == (400, 400589, "query::count: value is not a valid integer")


def test_a_second_question_mark_is_part_of_the_first_name() -> None:
    # GET /twins??count=abc: Starlette reads the parameter "?count", which scan_twins ignores.
    assert parse_query("?count=abc") == {"?count": "abc"}
    assert validate(None, "scan_twins", query="?count=abc") is None


def test_a_query_keeps_every_value_where_no_operation_or_no_single_value_is_declared() -> None:
    assert parse_query("count=1&count=2") == {"count": ["1", "2"]}
    assert parse_query("entries=a&entries=b", "get_twin_ledger_entry") == {
        "entries": ["a", "b"]}  # its schema declares no type: a list of entries, as sent
    assert parse_query("count=1&count=2&x=1&x=2", "scan_twins") == {
        "count": "2", "x": ["1", "2"]}


# -- an empty body -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b" \n", b"null"])
def test_an_empty_body_is_judged_as_an_empty_object(body: bytes) -> None:
    # The reading that refuses less (schemas/README.md): only a required field is missing.
    assert validate(body, "create_twin") is None
    with pytest.raises(TTError) as error:
        validate(body, "add_twin_ledger_entry")
    assert verdict(error) == (400, 400926, "body::entries: field required")


@pytest.mark.parametrize("ledger", ["personal", "owner", "creator", ROLE, ROLE.replace("-", ""),
                                    "{" + ROLE + "}", "urn:uuid:" + ROLE.upper()])
def test_a_ledger_is_an_alias_or_an_account_uuid_in_the_forms_clients_write(ledger: str) -> None:
    assert validate(None, "get_twin_ledger_entry",
                    path_params={"twin": ROLE, "ledger": ledger}) is None


# -- names and path parameters the docs print no stricter form of --------------------------------

NAME_REGEX = "^[0-9A-Za-z][0-9A-Za-z_ \\-]{0,30}[0-9A-Za-z]$"


@pytest.mark.parametrize("name", ["A", "7", "A_", "A-", "a ", "ab cd"])
@pytest.mark.parametrize("operation", ["create_user", "create_user_role"])
def test_a_name_the_javascript_clients_form_takes_passes(operation: str, name: str) -> None:
    # Trusted Twin's JavaScript client prints ...[0-9A-Za-z]*$: one character, a trailing "_".
    body = {"role": ROLE, "name": name} if operation == "create_user" else {"name": name}
    assert validate(body, operation) == body


@pytest.mark.parametrize("name", ["", "_A", "-x", " a"])
def test_a_name_no_printed_form_takes_is_refused(name: str) -> None:
    with pytest.raises(TTError) as error:
        validate({"name": name}, "create_user_role")
    assert verdict(error) == (400, 400589, f"body::name: string does not match regex {NAME_REGEX}")


@pytest.mark.parametrize("database", [
    "default", ROLE, ROLE.upper(), ROLE.replace("-", ""), f"{{{ROLE}}}", f"urn:uuid:{ROLE}"])
def test_a_database_is_default_or_a_uuid_in_any_form_pydantic_reads(database: str) -> None:
    assert validate(None, "get_database", path_params={"database": database}) is None


def test_a_database_that_is_neither_is_refused() -> None:
    with pytest.raises(TTError) as error:
        validate(None, "get_database", path_params={"database": "defaults"})
    assert verdict(error) == (400, 400589, "path::database: string does not match regex "
                              "^(default|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                              "[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")


@pytest.mark.parametrize("operation", ["get_indexes_table", "delete_indexes_table",
                                       "truncate_indexes_table"])
def test_an_indexes_table_name_is_not_checked(operation: str) -> None:
    # No regex is printed for {index}; the create page's is that of property names.
    assert validate(None, operation, path_params={"index": "Sales-2024"}) is None
