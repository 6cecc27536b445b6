"""The command line: verdicts, exit statuses, and the demo over examples/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ttguard.cli import main

ROOT = Path(__file__).parents[1]


def run(*arguments: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ttguard", *arguments], input=stdin,
                          capture_output=True, check=False)


def test_a_valid_body_is_accepted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"description": {"a": 1}}')
    assert main(["validate", "--op", "create_twin", str(body)]) == 0
    assert capsys.readouterr().out == "accepted: create_twin\n"


def test_a_rejection_prints_the_servers_error_body_and_exits_1() -> None:
    result = run("validate", "--method", "POST", "--path", "/twins", "-",
                 stdin=b'{"description": {"A": 1}}')
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert set(body) == {"subcode", "trace", "description"}
    assert (body["subcode"], body["description"]) == (
        400589, "body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$")
    assert result.stderr.decode().splitlines() == [
        "rejected: 400 request_format: body::description->__key__: string does not match regex "
        "^[a-z_][0-9a-z_]{0,63}$",
        "  at <stdin>:1:18"]


@pytest.mark.parametrize(("method", "path", "description"), [
    ("POST", "/twins/pump-7/ledgers/personal", "path::twin: value is not a valid uuid"),
    ("GET", "/twins/e834214a-e13d-412b-ffd6-911ab58c8733/identities?show_expired=maybe#x",
     "query::show_expired: value could not be parsed to a boolean"),
])
def test_a_path_is_checked_with_its_parameters_and_query(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str, path: str,
        description: str) -> None:
    # The path named the operation and nothing more: these were "accepted".
    body = tmp_path / "body.json"
    body.write_text('{"entries": {"k": {"value": 1}}}' if method == "POST" else "")
    assert main(["validate", "--method", method, "--path", path, str(body)]) == 1
    assert json.loads(capsys.readouterr().out)["description"] == description


def test_the_operation_is_the_first_argument() -> None:
    body = b'{"entries": {"k-1": {"value": 1}}}'
    result = run("validate", "add_twin_ledger_entry", "-", stdin=body)
    assert (result.returncode, result.stdout) == (0, b"accepted: add_twin_ledger_entry\n")
    assert run("validate", "--op", "add_twin_ledger_entry", "-", stdin=body).returncode == 0


@pytest.mark.parametrize(("body", "where"), [
    # A value: where it starts.
    (b'{"entries": {\n  "k-1": {\n    "value": 1,\n    "history": "1Q"\n  }\n}}',
     "body.json:4:16"),
    # A key at fault: the key itself.
    (b'{"entries": {"k-1": {}, "Bad": {}}}', "body.json:1:25"),
    # A missing field: the object that lacks it.
    (b'\n\n  {"entry": {}}', "body.json:3:3"),
])
def test_a_rejection_says_where_the_value_sits(tmp_path: Path, body: bytes, where: str) -> None:
    (tmp_path / "body.json").write_bytes(body)
    result = subprocess.run([sys.executable, "-m", "ttguard", "validate", "add_twin_ledger_entry",
                             "body.json"], cwd=tmp_path, capture_output=True, check=False)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines()[1] == f"  at {where}"


def test_a_rejection_before_the_schema_has_no_position() -> None:
    result = run("validate", "add_twin_ledger_entry", "-", stdin=b'{"entries": ')
    assert result.stderr.decode().splitlines() == [
        "rejected: 400 not_a_valid_json: Request body is not a valid JSON."]


def test_without_an_operation_only_the_generic_checks_run() -> None:
    assert run("validate", "-", stdin=b'{"anything": []}').returncode == 0
    result = run("validate", "--max-body", "4", "-", stdin=b"[1, 2]")
    assert json.loads(result.stdout)["subcode"] == 400141


@pytest.mark.parametrize(("arguments", "message"), [
    (["validate", "--op", "nope", "-"], "unknown operation 'nope'"),
    (["validate", "nope", "-"], "unknown operation 'nope'"),
    (["validate", "create_twin", "--op", "create_twin", "-"], "name the operation once"),
    (["validate", "--op", "create_twin", "--path", "/twins", "-"], "name the operation once"),
    (["validate", "create_twin", "-", "extra"], "validate takes [OPERATION] FILE"),
    (["validate"], "validate takes [OPERATION] FILE"),
    (["validate", "--frobnicate", "-"], "unrecognized arguments: --frobnicate"),
    (["validate", "--method", "GET", "--path", "/nowhere", "-"], "no operation is GET /nowhere"),
    (["validate", "--path", "/nowhere", "-"], "no operation is POST /nowhere"),
    (["validate", "--method", "GET", "-"],
     "--method names the operation with --path, and --path is missing"),
    (["validate", "--method", "POST", "--path", "/twins;x", "-"],
     "POST /twins;x: Request path is ambiguous: a ';' parameter."),
    (["validate", "--max-body", "-1", "-"], "--max-body must not be negative"),
    (["validate", "/no/such/file.json"], "cannot read /no/such/file.json"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_a_message(arguments: list[str], message: str) -> None:
    result = run(*arguments)
    assert result.returncode == 2
    assert message in result.stderr.decode()


@pytest.mark.parametrize("arguments", [
    ["validate", "--max-body", "-1", "-"],
    ["validate", "nope", "-"],
    ["validate", "--frobnicate", "-"],
])
def test_a_usage_error_after_parsing_shows_the_commands_usage(arguments: list[str]) -> None:
    assert run(*arguments).stderr.decode().startswith(
        "usage: ttguard validate [-h] [OPERATION | --op NAME | --method M --path P]")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--port", "99999"], "argument --port: not a port number (0 to 65535): '99999'"),
    (["--port", "http"], "argument --port: not a port number (0 to 65535): 'http'"),
    (["--metrics-port", "-1"], "argument --metrics-port: not a port number (0 to 65535): '-1'"),
    (["--timeout", "0"], "argument --timeout: not a number of seconds above 0: '0'"),
    (["--timeout", "nan"], "argument --timeout: not a number of seconds above 0: 'nan'"),
    (["--report", "/nonexistent/dir/x.jsonl"],
     "cannot write the report /nonexistent/dir/x.jsonl: No such file or directory"),
    (["--upstream", "notaurl"], "--upstream: the upstream is 'local' or an absolute http or https "
                                "URL (such as https://rest.trustedtwin.com), not 'notaurl'"),
    (["--upstream", "ftp://example.com"], "--upstream: the upstream is 'local' or an absolute "
     "http or https URL (such as https://rest.trustedtwin.com), not 'ftp://example.com'"),
])
def test_serve_refuses_what_it_could_not_serve_with_before_serving(
        arguments: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from ttguard import gateway

    monkeypatch.setattr(gateway, "serve", lambda upstream, **options: pytest.fail("served"))
    with pytest.raises(SystemExit) as exited:
        main(["serve", *arguments])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"ttguard serve: error: {message}"


def test_serve_takes_any_port_uvicorn_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    from ttguard import gateway

    ports: list[object] = []
    monkeypatch.setattr(gateway, "serve", lambda upstream, **options: ports.append(
        (options["port"], options["metrics_port"])))
    assert main(["serve", "--port", "0", "--metrics-port", "65535"]) == 0
    assert ports == [(0, 65535)]


@pytest.mark.parametrize(("arguments", "epilog"), [
    (["--help"], "exit status: 0 done (validate: the body is accepted), 1 the body is refused "
                 "(validate), 2 a usage error"),
    (["validate", "--help"], "exit status: 0 the body is accepted, 1 it is refused, 2 a usage "
                             "error"),
])
def test_the_help_gives_the_exit_statuses(arguments: list[str], epilog: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(arguments)
    assert " ".join(capsys.readouterr().out.split()).endswith(epilog)


@pytest.mark.parametrize("command", ["ops", "openapi"])
def test_a_reader_that_leaves_early_gets_no_traceback(command: str) -> None:
    with subprocess.Popen([sys.executable, "-m", "ttguard", command], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        # Closed before the command writes: every write of it meets a pipe with no reader.
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read()
    assert (process.returncode, stderr) == (1, b"")


def test_ops_lists_every_operation() -> None:
    lines = run("ops").stdout.decode().splitlines()
    assert len(lines) == 87
    assert lines[0].split() == ["GET", "/account", "get_account"]


def test_the_demo_gives_every_expected_verdict() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    assert "unexpected" not in result.stdout
    assert len(result.stdout.splitlines()) == 1 + len(list((ROOT / "examples").glob("*.json")))


def test_the_gateway_demo_answers_each_request_as_the_server_would() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "gateway_demo.py")],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    enforcing, report_only, report = result.stdout.split("\n\n")
    verdicts = [line.split("  ")[-1].split()[:2] for line in enforcing.splitlines()[1:]]
    assert verdicts == [["201", "forwarded,"], ["201", "forwarded,"], ["400", "400141"],
                        ["400", "400314"], ["400", "400415"], ["400", "400589"],
                        ["400", "400926"], ["400", "400589"], ["401", "401000"]]
    statuses = [line.split("  ")[-1].split()[0] for line in report_only.splitlines()[1:]]
    assert statuses == ["201"] * 7 + ["200", "201"]
    refusals = [line.split()[0] + " " + line.split()[-3] for line in report.splitlines()[1:]]
    assert refusals == ["false_rejection 400141,", "false_rejection 400314,",
                        "false_rejection 400415,", "false_rejection 400589,",
                        "false_rejection 400926,", "false_rejection 400589,",
                        "false_rejection 401000,"]


def test_the_readme_counts_the_gateway_demos_requests() -> None:
    from examples.gateway_demo import REQUESTS

    readme = (ROOT / "README.md").read_text()
    assert f"prints its verdict on {len(REQUESTS)} requests" in readme
    assert f"then the same {len(REQUESTS)} in report-only mode" in readme


def test_serve_openapi_reaches_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    from ttguard import gateway

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(gateway, "serve", lambda upstream, **options: calls.append(options))
    assert main(["serve", "--upstream", "local", "--openapi"]) == 0
    assert main(["serve", "--upstream", "local"]) == 0
    assert [call["openapi"] for call in calls] == [True, False]
