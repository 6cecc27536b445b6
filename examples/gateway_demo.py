"""The gateway demo: `ttguard serve --upstream local`, a handful of requests, a table of verdicts.

It starts the validating gateway in front of the built-in demo echo upstream (no internet
needed) on a free port of 127.0.0.1, sends good and bad requests with httpx as a client would,
prints what came back for each, and stops the gateway. Then it does it again in report-only
mode (``--report-only --report FILE``): every request is forwarded, and the echo, which
accepts anything, disagrees with each refusal: the report holds one line per false rejection,
as it would for a real server that accepts what ttguard refuses. ``make demo`` runs it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"
AUTH = {"Authorization": "demo-key", "Content-Type": "application/json"}


def oversized_upload() -> Iterator[bytes]:
    """10 MiB, sent chunked: the gateway answers at the 64 kB quota and reads no further."""
    yield b'{"description": {"notes": "'
    for _ in range(160):
        yield b"x" * 65536


# what, method, path, headers, body
REQUESTS: list[tuple[str, str, str, dict[str, str], bytes | Iterator[bytes]]] = [
    ("a valid twin", "POST", "/twins", AUTH, b'{"description": {"name": "Pump 7"}}'),
    ("a valid ledger entry", "POST", f"/twins/{TWIN}/ledgers/personal", AUTH,
     b'{"entries": {"temperature": {"value": 21.5}}}'),
    ("10 MiB, chunked", "POST", "/twins", AUTH, oversized_upload()),
    ("a byte that is not UTF-8", "POST", "/twins", AUTH, b'{"description": {"name": "\xff"}}'),
    ("a trailing comma", "POST", "/twins", AUTH, b'{"description": {"name": "Pump 7",}}'),
    ("a capital in a key", "POST", "/twins", AUTH, b'{"description": {"Name": "Pump 7"}}'),
    ("no entries", "POST", f"/twins/{TWIN}/ledgers/personal", AUTH,
     b'{"temperature": {"value": 21.5}}'),
    ("a twin that is no UUID", "GET", "/twins/pump-7", AUTH, b""),
    ("no Authorization header", "POST", "/twins", {"Content-Type": "application/json"},
     b'{"description": {"name": "Pump 7"}}'),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_listening(port: int, gateway: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            raise SystemExit(f"the gateway exited with status {gateway.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the gateway did not start within 20 s")


def verdict(response: httpx.Response) -> str:
    if response.status_code < 400:
        return f"{response.status_code} forwarded, echoed {len(response.content)} bytes"
    error = response.json()
    return f"{response.status_code} {error['subcode']} {error['description']}"


def requests() -> list[tuple[str, str, str, dict[str, str], bytes | Iterator[bytes]]]:
    """The requests, each time afresh (the oversized upload is a generator)."""
    return [(*request[:4], oversized_upload()) if isinstance(request[4], Iterator) else request
            for request in REQUESTS]


def run(options: list[str]) -> None:
    """Start ``ttguard serve --upstream local`` with ``options``, send every request, stop it."""
    port = free_port()
    command = [sys.executable, "-m", "ttguard", "serve", "--upstream", "local",
               "--port", str(port), *options]
    print("$", " ".join(["ttguard", *command[3:]]))
    gateway = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(port, gateway)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            width = max(len(what) for what, *_ in REQUESTS)
            path_width = max(len(path) for _, _, path, *_ in REQUESTS)
            for what, method, path, headers, body in requests():
                response = client.request(method, path, headers=headers, content=body)
                print(f"{what:<{width}}  {method:<4} {path:<{path_width}}  {verdict(response)}")
    finally:
        gateway.terminate()
        gateway.wait(10)


def main() -> int:
    run(["--require-authorization"])
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "disagreements.jsonl"
        print()
        run(["--require-authorization", "--report-only", "--report", str(report)])
        print(f"\n{report.name}: what ttguard refused and the (echo) upstream accepted")
        for line in report.read_text().splitlines():
            entry = json.loads(line)
            print(f"  {entry['kind']:<16} {entry['method']:<4} {entry['path_template']:<34} "
                  f"ttguard {entry['ttguard']['subcode']}, upstream {entry['server']['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
