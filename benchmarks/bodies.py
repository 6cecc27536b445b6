"""Request bodies for the benchmarks: realistic valid ones, and lazily made oversized ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
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


LEDGER_PATH = f"/twins/{TWIN}/ledgers/personal"


def docs_ledger(size: int) -> tuple[bytes, bytes]:
    """A ledger entry body in the docs' idioms (``null`` for the optional fields) of at most
    ``size`` bytes, and the same body with one bad Entry key in the middle."""
    def body(count: int) -> bytes:
        return json.dumps({"entries": {f"sensor_{index:04d}": {
            "value": index / 3, "visibility": None, "history": None}
            for index in range(count)}}).encode()

    valid = _grow(body, size)
    count = len(json.loads(valid)["entries"])
    middle = f"sensor_{count // 2:04d}".encode()
    return valid, valid.replace(b'"' + middle + b'"', b'"Sensor ' + middle[-4:] + b'"')
