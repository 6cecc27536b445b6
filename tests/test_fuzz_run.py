"""The long fuzz run (``make fuzz``) stays in step with the tests whose laws it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_fuzz_run_names_laws_that_exist() -> None:
    # Read in a process of its own: it sets the laws' example counts for its long run.
    completed = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('fuzz/run.py')"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
