"""The floor of a refusal: the steps no refusal in ttguard's design can skip, timed one by one.

    python -m benchmarks.floor [--quick]

Issue 12 asks every refusal to cost at most 2.0x ``json.loads`` of the same bytes; at 1 kB
that is missed for some faults (``make bench``). This times, on one of the cases there (1 kB of
identities with a bad key in the first entry), each step a refusal by the walk
(:mod:`ttguard.core.fast_refusal`) cannot do without, in its cheapest form:

1. the parse, with the size, UTF-8 and JSON checks: :func:`ttguard.validate` with no operation;
2. the lenient schema's Rust pass, which fails;
3. two Rust passes to learn where: over the collection's first entry (the lenient pass refused
   the collection, so none over all its entries), then over that entry's key;
4. the rule of that key that refuses it, with its message (Rust's search of its pattern, as
   the walk runs it);
5. the ``TTError``, worded, made, raised and caught.

Their sum over ``json.loads`` is the floor; what is left under 2.0x is all a refusal may spend on
everything else (the way down to the collection in the server's order, the validator's own
frames). The refusal as ttguard makes it is timed beside. Every figure is measured in this
run, side by side (:func:`benchmarks.measure.medians`). ``--quick`` only checks the code runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import ttguard
from ttguard.core import rules
from ttguard.core.catalogue import child_schema, request_schema
from ttguard.core.errors import schema_error
from ttguard.core.fast_engine import fast_parse, lenient_schema, rust_validator
from ttguard.core.fast_refusal import _rule
from ttguard.core.rules import KEY_LOCATION

from . import bodies, pipelines
from .bodies import KiB
from .measure import medians

CASE = "identities: bad key, first"


def _raised() -> object:
    try:
        raise schema_error(["body", "identities", KEY_LOCATION], "string does not match regex",
                           missing=False)
    except ttguard.TTError as error:
        return error


def steps(case: bodies.Case) -> list[tuple[str, Callable[[], object]]]:
    """Each step of the floor, named, as a call to time."""
    request = {"path": case.path_params, "query": {}, "body": fast_parse(case.body)}
    lenient = rust_validator(lenient_schema(request_schema(case.operation)))
    identities = child_schema(child_schema(request_schema(case.operation), "body"), "identities")
    names = identities["propertyNames"]
    entries_proof = rust_validator({"items": {"prefixItems": [
        lenient_schema(names), lenient_schema(identities["additionalProperties"])]}})
    key_proof = rust_validator(lenient_schema(names))
    rule, search = _rule("pattern", names["pattern"], names)  # Rust's search: an exact pattern
    entries = list(request["body"]["identities"].items())
    [bad_key] = [key for key, _ in entries if rules.pattern(names["pattern"], key, names)]
    return [
        ("the parse, with the size, UTF-8 and JSON checks", lambda: ttguard.validate(case.body)),
        ("the lenient Rust pass, which fails", lambda: lenient.is_valid(request)),
        ("two Rust passes to learn where: the first entry, its key",
         lambda: (entries_proof.is_valid(entries[:1]), key_proof.is_valid(bad_key))),
        ("the rule of the key, with its message: Rust's search of its pattern",
         lambda: rule(search, bad_key, names)),
        ("the TTError, worded, made, raised and caught", _raised),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="check the code runs")
    arguments = parser.parse_args(argv)
    [case] = [case for case in bodies.refused_cases(KiB) if case.kind == CASE]
    named = steps(case)
    calls = [pipelines.json_loads(case), pipelines.ttguard_verdict(case),
             *[call for _, call in named]]
    loads, refusal, *timed = medians(calls, **({"repeat": 1, "budget": 0.001}
                                               if arguments.quick else {}))
    print(f"{case.kind}, {len(case.body)} B: json.loads {loads * 1e6:.2f} us")
    for (name, _), seconds in zip(named, timed, strict=True):
        print(f"  {name}: {seconds * 1e6:.2f} us ({seconds / loads:.2f}x)")
    floor = sum(timed)
    print(f"floor: {floor * 1e6:.2f} us ({floor / loads:.2f}x json.loads); left under 2.0x: "
          f"{(2 * loads - floor) * 1e6:.2f} us")
    print(f"the refusal as ttguard makes it: {refusal * 1e6:.2f} us ({refusal / loads:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
