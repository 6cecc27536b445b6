"""The demo: `ttguard validate` over every example body, one verdict a line.

Each example is named ``<operation>.<expected verdict>[-<what>].json``; the demo runs the real
command line on it and prints what the server would have answered. It exits non-zero if a
verdict differs from the one the file name expects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent


def main() -> int:
    unexpected = 0
    print(f"{'example':<50} {'expected':<9} {'verdict':<9} description")
    for example in sorted(EXAMPLES.glob("*.json")):
        operation, expected = example.name.split(".")[0], example.name.split(".")[1][:6]
        run = subprocess.run(
            [sys.executable, "-m", "ttguard", "validate", "--op", operation, str(example)],
            capture_output=True, text=True, check=False)
        if run.returncode == 0:
            got, description = "valid", run.stdout.strip()
        else:
            body = json.loads(run.stdout)
            got, description = str(body["subcode"]), body["description"]
        unexpected += got != expected
        mark = "" if got == expected else "   <-- unexpected"
        print(f"{example.name:<50} {expected:<9} {got:<9} {description[:70]}{mark}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
