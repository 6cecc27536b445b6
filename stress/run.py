"""Run a command again and again while CPU hogs keep every core busy: `make stress-test`.

CI runs the suite on a loaded 2-core box, so a test that passes only on an idle machine fails
there at random. This reproduces that load on purpose: one busy-looping process per core (at
a lower priority would yield to the suite and prove nothing), and
the command run ``--runs`` times in a row under them. It prints each run's outcome and exits
non-zero if any run failed.

Bounded: the hogs live as long as this script (they exit when its pipe to them closes, even if
it is killed), and each run of the command is given ``--timeout`` seconds.

    python stress/run.py --runs 10 -- make test
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection


def _hog(parent_alive: Connection) -> None:
    """Spin until the parent's end of the pipe closes (the parent ended, however it ended)."""
    while not parent_alive.poll():
        for _ in range(100_000):
            pass


@contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """``count`` processes busy-looping for the ``with`` block."""
    context = multiprocessing.get_context("spawn")
    keep, hand = context.Pipe()
    hogs = [context.Process(target=_hog, args=(hand,), daemon=True) for _ in range(count)]
    for hog in hogs:
        hog.start()
    try:
        yield
    finally:
        keep.close()  # each hog sees the pipe end closed and returns
        for hog in hogs:
            hog.join(5)
            if hog.is_alive():
                hog.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="times to run the command")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2,
                        help="busy processes (default: one per core)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("no command given (put it after --)")
    if arguments.runs < 1 or arguments.hogs < 0:
        parser.error("--runs must be at least 1 and --hogs at least 0")

    failures = 0
    with cpu_hogs(arguments.hogs):
        for run in range(1, arguments.runs + 1):
            started = time.monotonic()
            try:
                code = subprocess.run(command, check=False, timeout=arguments.timeout).returncode
            except subprocess.TimeoutExpired:
                code = -1
            failures += code != 0
            print(f"stress: run {run}/{arguments.runs} with {arguments.hogs} CPU hogs: "
                  f"{'passed' if code == 0 else f'FAILED ({code})'} in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    print(f"stress: {arguments.runs - failures} of {arguments.runs} runs passed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
