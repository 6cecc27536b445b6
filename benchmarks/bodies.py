"""Request bodies for the benchmarks: realistic valid ones, the docs' idioms valid and refused,
bodies spelled another way, and lazily made oversized ones."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
#: The size of one chunk of an oversized body, as a server would read it.
CHUNK_SIZE = 64 * KiB
TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"


class Case(NamedTuple):
    """A valid request: its kind, operation, path parameters and body."""

    kind: str
    operation: str
    path_params: dict[str, str]
    body: bytes


def _grow(make: Any, size: int) -> bytes:
    """The longest body ``make(n)`` gives within ``size`` bytes, n counting up."""
    best = make(1)
    low, high = 1, size
    while low <= high:
        middle = (low + high) // 2
        body = make(middle)
        if len(body) <= size:
            best, low = body, middle + 1
        else:
            high = middle - 1
    return bytes(best)


def _ledger_entries(count: int) -> bytes:
    entries = {f"sensor_{index:04d}": {"value": {"reading": index * 0.37, "unit": "kWh",
                                                 "ok": index % 7 != 0},
                                       "visibility": "USER.profession == 'technician'",
                                       "history": "30D"}
               for index in range(count)}
    return json.dumps({"entries": entries}).encode()


def _twin_description(count: int) -> bytes:
    description = {f"attribute_{index:04d}": [index, f"value {index}", {"nested": index % 3}]
                   for index in range(count)}
    return json.dumps({"description": description}).encode()


def _non_ascii_text(count: int) -> bytes:
    text = "Zażółć gęślą jaźń — 温度センサー ☂ " * count
    return json.dumps({"description": {"notes": text, "site": "Gdańsk"}},
                      ensure_ascii=False).encode()


def valid_cases(size: int) -> list[Case]:
    """Three valid requests of at most ``size`` bytes each: ledger, description, non-ASCII."""
    ledger = {"twin": TWIN, "ledger": "personal"}
    return [
        Case("ledger entries", "add_twin_ledger_entry", ledger, _grow(_ledger_entries, size)),
        Case("twin description", "create_twin", {}, _grow(_twin_description, size)),
        Case("non-ASCII text", "create_twin", {}, _grow(_non_ascii_text, size)),
    ]


# -- the docs' idioms -------------------------------------------------------------------------
# Bodies written as the Trusted Twin docs write them: optional fields set to null, a timestamp or
# a reading given as a string, booleans as words, keys at their maximum length, non-ASCII text.
# Each kind grows a keyed collection to the size wanted; a refused body breaks one field of it,
# placed first, in the middle or last (or a field of the body itself, before or after the
# collection).

USER_ROLE = "a7e3c1d2-0b4f-4e5a-9c6d-7e8f9a0b1c2d"
Body = dict[str, Any]
#: A fault breaks a body at a place: 0 (first), 0.5 (middle) or 1 (last).
Fault = Callable[[Body, float], Any]


class Idiom(NamedTuple):
    """A kind of request written in the docs' idioms: how to make one, and how to break it."""

    kind: str
    operation: str
    path_params: dict[str, str]
    make: Callable[[int], Body]
    #: The keyed collection that grows with the body, as a path of keys from the body.
    collection: tuple[str, ...]
    #: Each fault by name, with the places it is tried at.
    faults: dict[str, tuple[Fault, tuple[float, ...]]]
    ascii_only: bool = True


def _entry_key(index: int) -> str:
    key = f"sensor_{index:04d}"
    return key.ljust(128, "_") if index % 8 == 0 else key  # the Entry key's longest form


def _ledger(count: int) -> Body:
    return {"entries": {_entry_key(index): {
        "value": {"reading": f"{index * 0.37:.2f}", "unit": "kWh", "calibrated": index % 7 != 0,
                  "site": "Gdańsk"},
        "visibility": None if index % 2 else "USER.profession == 'technician'",
        "history": None if index % 3 else "30D",
    } for index in range(count)}}


def _identities(count: int) -> Body:
    return {"identities": {
        f"RFID#{index:08d}".ljust(133, "0") if index % 8 == 0 else f"RFID#{index:08d}": {
            "validity_ts": None if index % 2 else f"{1646228891 + index}.123",
            "visibility": None if index % 3 else "USER.role == 'operator'",
        } for index in range(count)}}


def _description(count: int) -> Body:
    return {"description": {
        (f"attribute_{index:04d}".ljust(64, "_") if index % 8 == 0 else f"attribute_{index:04d}"):
            [index, f"wartość {index} — 温度", {"nested": index % 3, "note": None}]
        for index in range(count)}}


def _user(count: int) -> Body:
    return {"name": "Jan Kowalski", "role": USER_ROLE, **_description(count),
            "activity": {"last_seen": None}}


def _role(count: int) -> Body:
    return {"name": "Field technicians",
            "rules": {f"rule_{index:04d}": f"USER.site == 'site {index}'"
                      for index in range(count)},
            "statement": {"effect": "allow", "actions": ["get_twin", "add_twin_ledger_entry"]}}


def _at(items: dict[str, Any], place: float) -> str:
    keys = list(items)
    return keys[round(place * (len(keys) - 1))]


def _collection(body: Body, path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        body = body[key]
    return body


def _replace_key(path: tuple[str, ...], key: str) -> Fault:
    def fault(body: Body, place: float) -> Body:
        items = _collection(body, path)
        old = _at(items, place)
        renamed = {key if name == old else name: value for name, value in items.items()}
        items.clear()
        items.update(renamed)
        return body
    return fault


def _set_value(path: tuple[str, ...], field: str | None, value: object) -> Fault:
    """Set ``field`` of the item at the place (the item itself when ``field`` is None)."""
    def fault(body: Body, place: float) -> Body:
        items = _collection(body, path)
        name = _at(items, place)
        if field is None:
            items[name] = value
        else:
            items[name][field] = value
        return body
    return fault


def _set_every(path: tuple[str, ...], field: str, value: object) -> Fault:
    """Set ``field`` of every item (to a value no longer than the grown body holds there, so
    the body stays within its size): a client that gets a field wrong gets it wrong each time."""
    def fault(body: Body, place: float) -> Body:
        for item in _collection(body, path).values():
            item[field] = value
        return body
    return fault


def _body_field(name: str, value: object) -> Fault:
    """Set a field of the body itself, written before (0) or after (1) the grown collection."""
    def fault(body: Body, place: float) -> Body:
        body.pop(name, None)
        return {name: value, **body} if place == 0 else {**body, name: value}
    return fault


def _without(name: str, inside: str | None = None) -> Fault:
    def fault(body: Body, place: float) -> Body:
        (body if inside is None else body[inside]).pop(name)
        return body
    return fault


EVERYWHERE = (0.0, 0.5, 1.0)
ENDS = (0.0, 1.0)
#: A fault with no place: a body or a field of it replaced or missing.
ONCE = (0.0,)
_PLACES = {0.0: "first", 0.5: "middle", 1.0: "last"}
IDIOMS = [
    Idiom("ledger", "add_twin_ledger_entry", {"twin": TWIN, "ledger": "personal"}, _ledger,
          ("entries",), {
              "bad key": (_replace_key(("entries",), "Sensor A"), EVERYWHERE),
              "bad value": (_set_value(("entries",), "history", "30X"), EVERYWHERE),
              "bad value in every entry": (_set_every(("entries",), "history", "X"), ONCE),
              "wrong type": (_set_value(("entries",), None, "on"), EVERYWHERE),
              "missing required": (lambda body, place: {"entry": body["entries"]}, ONCE),
          }),
    Idiom("identities", "create_twin_identity", {"twin": TWIN}, _identities, ("identities",), {
        "bad key": (_replace_key(("identities",), "RFID-00000001"), EVERYWHERE),
        "bad value": (_set_value(("identities",), "validity_ts", "soon"), EVERYWHERE),
        "wrong type": (_set_value(("identities",), None, "x"), EVERYWHERE),
    }),
    Idiom("twin", "update_twin", {"twin": TWIN}, _description, ("description",), {
        "bad key": (_replace_key(("description",), "Colour"), EVERYWHERE),
        "wrong type": (lambda body, place: [body], ONCE),
    }, ascii_only=False),
    Idiom("user", "create_user", {}, _user, ("description",), {
        "bad key": (_replace_key(("description",), "Colour"), EVERYWHERE),
        "bad value": (_body_field("name", "!"), ENDS),
        "wrong type": (_body_field("activity", "active"), ENDS),
        "missing required": (_without("role"), ONCE),
    }),
    Idiom("role", "create_user_role", {}, _role, ("rules",), {
        "bad value": (_body_field("statement", {"effect": "permit", "actions": None}), ENDS),
        "wrong type": (_body_field("name", ["Field", "technicians"]), ENDS),
        "missing required": (_without("effect", inside="statement"), ONCE),
    }),
]


def _encode(idiom: Idiom, body: object) -> bytes:
    return json.dumps(body, ensure_ascii=idiom.ascii_only).encode()


def docs_idiom_cases(size: int) -> list[Case]:
    """A valid request of each kind in the docs' idioms, of at most ``size`` bytes."""
    return [Case(idiom.kind, idiom.operation, idiom.path_params,
                 _grow(lambda count, idiom=idiom: _encode(idiom, idiom.make(count)), size))
            for idiom in IDIOMS]


#: Faults of the bytes, not of the value: the JSON broken (an upload cut off, a stray byte),
#: or the UTF-8, each where the parser meets it last, or halfway.
BYTE_FAULTS: dict[str, Callable[[bytes], bytes]] = {
    "not JSON, cut short, middle": lambda body: body[:len(body) // 2].decode(
        "utf-8", "ignore").encode(),  # between two characters: still UTF-8
    "not JSON, cut short, last": lambda body: body[:-1],
    "not JSON, a stray byte, last": lambda body: body + b"}",
    "not UTF-8, last": lambda body: body[:-1] + b"\xff" + body[-1:],
}


def byte_fault(case: Case) -> str | None:
    """The fault of the bytes (:data:`BYTE_FAULTS`) a refused case was made with, if any."""
    fault = case.kind.split(": ", 1)[-1]
    return fault if fault in BYTE_FAULTS else None


def refused_cases(size: int) -> list[Case]:
    """Each kind broken by each of its faults at each place, then by each fault of its bytes
    (:data:`BYTE_FAULTS`), of about ``size`` bytes."""
    cases = []
    for idiom in IDIOMS:
        valid = _grow(lambda count, idiom=idiom: _encode(idiom, idiom.make(count)), size)
        count = len(_collection(json.loads(valid), idiom.collection))
        for name, (fault, places) in idiom.faults.items():
            for place in places:
                where = "" if places == ONCE else f", {_PLACES[place]}"
                body = _encode(idiom, fault(idiom.make(count), place))
                cases.append(Case(f"{idiom.kind}: {name}{where}", idiom.operation,
                                  idiom.path_params, body))
        cases += [Case(f"{idiom.kind}: {name}", idiom.operation, idiom.path_params, damage(valid))
                  for name, damage in BYTE_FAULTS.items()]
    return cases


# -- bodies spelled another way ----------------------------------------------------------------
# Requests no doc writes, but a client or an attacker may send: values that only Python's reading
# accepts, strings Rust cannot read, an object as a list of pairs. Each costs more than the docs'
# idioms (the fast engine's lenient reading refuses what the rules then accept, or cannot read
# it); what they must not do is cost more than their length: their ratio to json.loads stays flat
# as they grow.


def _identities_each(value: Callable[[int], Any],
                     key: Callable[[int], str] = lambda index: f"RFID#{index:08d}"
                     ) -> Callable[[int], bytes]:
    return lambda count: json.dumps({"identities": {key(index): value(index)
                                                    for index in range(count)}}).encode()


#: Kind, operation, path parameters, and the body of a count, for each way of spelling.
_SPELLED: list[tuple[str, str, dict[str, str], Callable[[int], bytes]]] = [
    ('identities: "validity_ts": " 1" (pydantic\'s float() reads it)', "create_twin_identity",
     {"twin": TWIN}, _identities_each(lambda index: {"validity_ts": " 1"})),
    ("identities: validity_ts in Arabic-Indic digits (float() reads them)",
     "create_twin_identity", {"twin": TWIN},
     _identities_each(lambda index: {"validity_ts": "\u0661\u0662"})),
    ("identities: validity_ts NaN (Rust reads null)", "create_twin_identity", {"twin": TWIN},
     _identities_each(lambda index: {"validity_ts": math.nan})),
    ("identities: keys with a lone surrogate (Rust cannot read them)", "create_twin_identity",
     {"twin": TWIN}, _identities_each(lambda index: {},
                                      lambda index: f"RFID#{index:08d}\ud800")),
    ('twin: description keys ending in "\\n" (Python\'s $ takes it)', "create_twin", {},
     lambda count: json.dumps({"description": {f"key_{index}\n": index
                                               for index in range(count)}}).encode()),
    ("twin: description as a list of pairs (pydantic's dict() reads it)", "create_twin", {},
     lambda count: json.dumps({"description": [[f"key_{index}", index]
                                               for index in range(count)]}).encode()),
    ("twin: one long description key, its last character bad", "create_twin", {},
     lambda count: json.dumps({"description": {"k" * (8 * count) + "K": 1}}).encode()),
    ("ledger: one long entry key, its last character bad (searched for)",
     "add_twin_ledger_entry", {"twin": TWIN, "ledger": "personal"},
     lambda count: json.dumps({"entries": {"a" * (8 * count) + "!": {"value": 1}}}).encode()),
    ("ledger: values at the limits of a double (1e+308, 5e-324)", "add_twin_ledger_entry",
     {"twin": TWIN, "ledger": "personal"},
     lambda count: json.dumps({"entries": {f"e{index}": {"value": [1e308, 5e-324]}
                                           for index in range(count)}}).encode()),
]


def spelled_cases(size: int) -> list[Case]:
    """Each request spelled another way than the docs', grown to at most ``size`` bytes."""
    return [Case(kind, operation, path_params, _grow(make, size))
            for kind, operation, path_params, make in _SPELLED]


class Query(NamedTuple):
    """A request whose parameters are the whole check: a GET with a query and no body."""

    kind: str
    operation: str
    path_params: dict[str, str]
    query: str


#: Bounded integers in queries, as the docs write them: each is a string to the core.
QUERIES = [
    Query("scan twins, count and details", "scan_twins", {}, "count=100&details=true"),
    Query("list stickers, limit and offset", "list_stickers", {}, "limit=50&offset=10"),
    Query("ledger entry history, limit", "get_twin_ledger_entry_history",
          {"twin": TWIN, "ledger": "personal"}, "limit=20"),
]


def oversized(size: int) -> Iterator[bytes]:
    """A ``size``-byte twin description, made lazily in 64 KiB chunks (valid JSON if joined)."""
    head, tail = b'{"description": {"notes": "', b'"}}'
    filler = b"x" * CHUNK_SIZE
    yield head
    left = size - len(head) - len(tail)
    while left > 0:
        yield filler[:left]
        left -= CHUNK_SIZE
    yield tail


def split(body: bytes, chunk_size: int) -> list[bytes]:
    """``body`` in chunks of ``chunk_size`` bytes."""
    return [body[start:start + chunk_size] for start in range(0, len(body), chunk_size)]

