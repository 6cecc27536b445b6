"""The long fuzz run: the laws of tests/test_properties.py, tests/test_json_choices.py,
tests/test_fast_engine.py, tests/test_fast_refusal.py and tests/test_pydantic_oracle.py, for a
bounded time.

Each round runs hypothesis with a fresh seed on the streaming law (any chunking of any request
gives the same verdict as the whole body, and as the buffered reference pipeline; nothing but
TTError is ever raised), on the syntax law (a body cut short or with a byte inserted, deleted
or replaced gets the verdict of Python's decoder and json.loads), on the differential laws
(the fast engine and the reference give the same verdict, subcode and description on requests
generated from every catalogue schema; so do the two drivers of the keyword functions, and the
walk with Rust's proofs and without; Rust's spelling of each collection accepts what the
lenient schema as written accepts) and on the oracle laws (ttguard judges each body, and each
path and query, as pydantic v1, the server's engine, does), until the time budget is spent and
the differential law has seen at least ``FUZZ_DIFFERENTIAL`` requests (100 000 by default). A
finding stops the run with hypothesis' minimal failing example and a non-zero exit status.

    python fuzz/run.py [SECONDS]      # default 300
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ["TTGUARD_LAW_EXAMPLES"] = "2000"
os.environ["TTGUARD_DIFFERENTIAL_EXAMPLES"] = "200"
os.environ["TTGUARD_ORACLE_EXAMPLES"] = "200"
os.environ["TTGUARD_SYNTAX_EXAMPLES"] = "5000"
sys.path.insert(0, str(Path(__file__).parents[1]))
from tests import test_fast_engine as engines
from tests import test_fast_refusal as walks
from tests import test_json_choices as syntax
from tests import test_properties as laws
from tests import test_pydantic_oracle as oracle

DIFFERENTIAL = int(os.environ.get("FUZZ_DIFFERENTIAL", "100000"))
# Named when the module is read, so that a law renamed in the tests fails at once
# (tests/test_fuzz_run.py reads this module), not at the next long run.
STREAMING = laws.test_any_chunking_agrees_with_the_whole_body_and_the_reference
DIFFERENTIAL_LAWS = [engines.test_the_engines_agree_on_requests_from_every_schema,
                     engines.test_the_direct_driver_words_whole_requests_as_jsonschema_does,
                     walks.test_the_walk_answers_as_the_reference_with_and_without_proofs]
SPELLING = engines.test_rusts_spelling_of_a_collection_accepts_what_the_lenient_schema_accepts
ORACLE = oracle.test_ttguard_judges_a_body_as_pydantic_v1_does
ORACLE_PARAMETERS = oracle.test_ttguard_judges_path_and_query_as_pydantic_v1_does
SYNTAX = syntax.test_a_damaged_body_gets_the_verdict_of_json_loads


def main(seconds: float) -> int:
    started = time.monotonic()
    rounds = 0
    while time.monotonic() - started < seconds or engines.checked < DIFFERENTIAL:
        STREAMING()
        SYNTAX()
        for operation in engines.OPERATIONS:
            for law in DIFFERENTIAL_LAWS:
                law(operation=operation)
        for operation in engines.COLLECTIONS:
            SPELLING(operation=operation)
        for operation in oracle.OPERATIONS:
            ORACLE(operation=operation)
        for operation in oracle.PARAMETERS:
            ORACLE_PARAMETERS(operation=operation)
        rounds += 1
        print(f"round {rounds}: {laws.checked} streamed, {syntax.checked} damaged bodies, "
              f"{engines.checked} differential requests, {oracle.checked} bodies judged by "
              f"the oracle, {time.monotonic() - started:.0f} s", flush=True)
    elapsed = time.monotonic() - started
    print(f"fuzz: {laws.checked} requests (streaming law), {syntax.checked} damaged bodies "
          f"(syntax law), {engines.checked} requests (differential law) and {oracle.checked} "
          f"bodies (oracle law) in {rounds} rounds over {elapsed:.0f} s, no finding")
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 300.0))
