"""The long Schemathesis run: the gateway fuzzed from its own OpenAPI document, for a bounded time.

Runs ``ttguard serve --upstream local --openapi`` on 127.0.0.1 (in-process, under uvicorn),
then rounds of tests/schemathesis_run.py, each with a fresh seed and EXAMPLES requests per
operation and mode, until the time budget is spent. Every finding is printed; any finding makes
the exit status non-zero.

    python fuzz/openapi.py [SECONDS] [EXAMPLES]      # defaults: 300, 25
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.schemathesis_run import run
from tests.servers import uvicorn_server
from ttguard.gateway import create_app


def main(seconds: float, examples: int) -> int:
    started = time.monotonic()
    rounds = 0
    findings: list[str] = []
    with uvicorn_server(create_app("local", openapi=True)) as gateway:
        while time.monotonic() - started < seconds and not findings:
            seed = random.getrandbits(32)
            report = run(gateway.url, examples=examples, seed=seed)
            rounds += 1
            print(f"round {rounds} (seed {seed}): {report.summary()}", flush=True)
            findings += report.findings
    for finding in findings:
        print(f"- {finding}")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {rounds} rounds over {elapsed:.0f} s, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 300.0,
                  int(sys.argv[2]) if len(sys.argv) > 2 else 25))
