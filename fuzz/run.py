"""The long fuzz run: the streaming law of tests/test_properties.py, for a bounded time.

Each round runs hypothesis on the law (any chunking of any request gives the same verdict as
the whole body, and as the buffered reference pipeline; nothing but TTError is ever raised)
with a fresh seed, until the time budget is spent. A finding stops the run with hypothesis'
minimal failing example and a non-zero exit status.

    python fuzz/run.py [SECONDS]      # default 300
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ["TTGUARD_LAW_EXAMPLES"] = "2000"
sys.path.insert(0, str(Path(__file__).parents[1]))
from tests import test_properties as laws


def main(seconds: float) -> int:
    law = laws.test_any_chunking_agrees_with_the_whole_body_and_the_reference
    started = time.monotonic()
    rounds = 0
    while time.monotonic() - started < seconds:
        law()
        rounds += 1
    elapsed = time.monotonic() - started
    print(f"fuzz: {laws.checked} requests in {rounds} rounds over {elapsed:.0f} s, no finding")
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 300.0))
