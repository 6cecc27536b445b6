"""The benchmark code paths, on tiny sizes, so they cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ttguard
from benchmarks import bodies, floor, pipelines
from tests.conftest import answer
from ttguard.core.reference import first_error

ROOT = Path(__file__).resolve().parent.parent


def test_valid_cases_are_valid_and_within_their_size() -> None:
    for size in (1024, 8192, 65536):
        for case in bodies.valid_cases(size):
            assert len(case.body) <= size
            assert pipelines.ttguard_check(case)() == json.loads(case.body)


def test_docs_idioms_are_valid_and_proven_fast_and_refused_cases_are_refused() -> None:
    for size in (1024, 65536):
        for case in bodies.docs_idiom_cases(size):
            assert len(case.body) <= size
            assert pipelines.ttguard_verdict(case)() == json.loads(case.body)
            assert pipelines.proven_fast(case), case.kind
        for case in bodies.refused_cases(size):
            error = pipelines.ttguard_verdict(case)()
            assert isinstance(error, ttguard.TTError), case.kind
            fault = bodies.byte_fault(case)
            if fault is not None:
                assert (error.subcode, error.description) == (
                    (400314, "Request body contains invalid characters.")
                    if fault.startswith("not UTF-8") else
                    (400415, "Request body is not a valid JSON.")), case.kind
                continue
            request = {"path": case.path_params, "query": {}, "body": json.loads(case.body)}
            expected = first_error(case.operation, request)
            assert expected is not None
            assert answer(error) == answer(expected)


def test_bodies_spelled_another_way_are_answered_as_the_reference_answers() -> None:
    for case in bodies.spelled_cases(8192):
        assert len(case.body) <= 8192
        request = {"path": case.path_params, "query": {}, "body": json.loads(case.body)}
        got = pipelines.ttguard_verdict(case)()
        expected = first_error(case.operation, request)
        if expected is None:
            assert got == request["body"], case.kind
        else:
            assert isinstance(got, ttguard.TTError), case.kind
            assert answer(got) == answer(expected)


def test_oversized_bodies_are_lazy_json_of_their_size() -> None:
    chunks = list(bodies.oversized(200_000))
    assert sum(map(len, chunks)) == 200_000
    assert max(map(len, chunks)) <= bodies.CHUNK_SIZE
    assert json.loads(b"".join(chunks))["description"]["notes"].startswith("x")
    assert pipelines.ttguard_stream(bodies.oversized(bodies.GiB)) == 400141
    assert pipelines.naive_buffered(bodies.oversized(200_000)) == 400141


def test_the_quick_run_prints_every_section_and_writes_its_results(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ttguard", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    for section in ("Valid bodies", "Docs idioms, valid", "Refused bodies",
                    "Bodies spelled another way", "Query parameters", "Oversized bodies",
                    "Chunk sizes", "Middleware under load", "Targets"):
        assert section in result.stdout
    assert {path.name for path in tmp_path.iterdir()} == {"latest.md", "latest.json",
                                                           "latest.png"}
    assert len(json.loads((tmp_path / "latest.json").read_text())["targets"]) == 15


def test_the_floor_of_a_refusal_times_each_step_beside_the_refusal(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert floor.main(["--quick"]) == 0
    printed = capsys.readouterr().out
    for name, _ in floor.steps(next(case for case in bodies.refused_cases(1024)
                                    if case.kind == floor.CASE)):
        assert f"  {name}: " in printed
    assert "floor: " in printed and "the refusal as ttguard makes it: " in printed


def test_bench_outside_a_checkout_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "ttguard", "bench"], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "source checkout" in result.stderr
