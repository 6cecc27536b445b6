"""The ``ttguard`` command line.

``ttguard validate [OPERATION | --op NAME | --method M --path P] FILE|-`` checks one request body
(read in chunks, so a huge file stops at the quota), and with ``--path`` the path's parameters
and query too, and prints the verdict: on a rejection, the
server's error body as JSON on stdout, its description on stderr with the line and column of
the value at fault (``at FILE:LINE:COLUMN``), and exit status 1; on success, ``accepted`` and
exit status 0. ``ttguard openapi`` prints the catalogue as an OpenAPI 3.1 document.
``ttguard ops`` lists the operations. ``ttguard serve --upstream URL`` runs the validating
gateway (:mod:`ttguard.gateway`, with the ``gateway`` extra). ``ttguard bench [--quick]``, in
a source checkout, runs the benchmarks under ``benchmarks/``. Usage errors exit with status 2.
A standard output closed early (``ttguard ops | head -1``) ends the command quietly, with
status 1, as Python's own note on SIGPIPE does.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import BinaryIO

from .core import DEFAULT_MAX_BODY, Route, StreamValidator, TTError, operations, resolve
from .core.locate import Position, locate
from .core.syntax import decode_utf8, is_blank
from .openapi import DEFAULT_SERVER, openapi_document

__all__ = ["main"]

_READ_SIZE = 16384
#: What the command exits with, as ``ttguard --help`` says; ``validate --help``'s own words.
_EXIT_STATUSES = ("exit status: 0 done (validate: the body is accepted), 1 the body is refused "
                  "(validate), 2 a usage error")
_VALIDATE_EXIT_STATUSES = "exit status: 0 the body is accepted, 1 it is refused, 2 a usage error"


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(_READ_SIZE):
        yield chunk


def _target(arguments: argparse.Namespace, parser: argparse.ArgumentParser
            ) -> tuple[Route | None, str | None, str]:
    """The operation to check the request against, with its path parameters (``None``: generic
    checks only), its query, and the file."""
    if not 1 <= len(arguments.targets) <= 2:
        parser.error("validate takes [OPERATION] FILE")
    *positional, file = arguments.targets
    route = _route(positional, arguments, parser)
    query = None
    if arguments.path is not None:
        query = arguments.path.split("#", 1)[0].partition("?")[2] or None
    return route, query, file


def _route(positional: list[str], arguments: argparse.Namespace,
           parser: argparse.ArgumentParser) -> Route | None:
    named: list[str] = [name for name in (*positional, arguments.op) if name is not None]
    if arguments.method is not None and arguments.path is None:
        parser.error("--method names the operation with --path, and --path is missing")
    if len(named) > 1 or (named and arguments.path is not None):
        parser.error("name the operation once: OPERATION, --op, or --method and --path")
    if named:
        if named[0] not in operations():
            parser.error(f"unknown operation {named[0]!r} (`ttguard ops` lists them)")
        return Route(named[0], {})
    if arguments.path is None:
        return None
    method = arguments.method or "POST"
    try:
        route = resolve(method, arguments.path)
    except TTError as ambiguous:
        parser.error(f"{method} {arguments.path}: {ambiguous.description}")
    if route is None:
        parser.error(f"no operation is {method} {arguments.path}")
    return route


def _open(name: str) -> AbstractContextManager[BinaryIO]:
    return nullcontext(sys.stdin.buffer) if name == "-" else open(name, "rb")


def _where(operation: str | None, body: bytes, error: TTError) -> Position | None:
    """Where in the body the value ``error`` is about starts, if it is about one."""
    if operation is None or not error.description.startswith("body::"):
        return None
    # Imported here, as the core does: jsonschema takes 100 ms to import, paid on errors only.
    from .core.reference import first_error_at

    # Only a body the core parsed gets a schema error: it is UTF-8 JSON, within the quota.
    text = decode_utf8(body)
    parsed = None if is_blank(text) else json.loads(text)
    found = first_error_at(operation, {"path": {}, "query": {},
                                       "body": {} if parsed is None else parsed})
    return None if found is None else locate(text, found[1][1:])


def _validate(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    route, query, file = _target(arguments, parser)
    operation = None if route is None else route.operation
    if arguments.max_body < 0:
        parser.error("--max-body must not be negative")
    # The body, kept for locating an error in it; a body over the quota is not kept whole.
    body = bytearray()
    try:
        with _open(file) as stream:
            validator = StreamValidator(operation, max_body=arguments.max_body, query=query,
                                        path_params=None if route is None else route.path_params)
            for chunk in _read_chunks(stream):
                if len(body) <= arguments.max_body:
                    body += chunk
                validator.feed(chunk)
            validator.finish()
    except OSError as error:
        parser.error(f"cannot read {file}: {error.strerror}")
    except TTError as error:
        print(json.dumps(error.to_dict()))
        print(f"rejected: {error.status} {error.message}: {error.description}", file=sys.stderr)
        where = _where(operation, bytes(body), error)
        if where is not None:
            name = "<stdin>" if file == "-" else file
            print(f"  at {name}:{where.line}:{where.column}", file=sys.stderr)
        return 1
    print(f"accepted{'' if operation is None else ': ' + operation}")
    return 0


def _ops(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    for operation in operations().values():
        print(f"{operation.method:<7}{operation.path:<60}{operation.name}")
    return 0


def _serve(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if arguments.max_body < 0:
        parser.error("--max-body must not be negative")
    if arguments.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        # Imported here: the gateway needs the optional uvicorn, httpx and prometheus-client.
        from . import gateway
    except ImportError as error:
        parser.error(f"`ttguard serve` needs the gateway extra, "
                     f"pip install 'ttguard[gateway]' ({error})")
    # Each worker would find these only once serving, and then answer every request with a 500
    # (an upstream that is no URL) or fail to start (a report it cannot write).
    try:
        gateway.check_upstream(arguments.upstream)
    except ValueError as error:
        parser.error(f"--upstream: {error}")
    if arguments.report is not None:
        try:
            open(arguments.report, "a").close()  # created now, as each worker would append to it
        except OSError as error:
            parser.error(f"cannot write the report {arguments.report}: {error.strerror}")
    gateway.serve(arguments.upstream, host=arguments.host, port=arguments.port,
                  prefix=arguments.prefix, max_body=arguments.max_body,
                  require_authorization=arguments.require_authorization,
                  timeout=arguments.timeout, report_only=arguments.report_only,
                  report=arguments.report, report_values=arguments.report_values,
                  metrics_port=arguments.metrics_port, workers=arguments.workers,
                  log_format=arguments.log_format,
                  openapi=arguments.openapi)
    return 0


def _openapi(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    print(json.dumps(openapi_document(arguments.server), indent=2))
    return 0


def _bench(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    # The benchmarks are not part of the package: they run from a source checkout.
    checkout = Path.cwd()
    if not (checkout / "benchmarks" / "run.py").is_file():
        parser.error("`ttguard bench` runs the benchmarks of a source checkout: run it in the "
                     "project's folder (or `make bench` there)")
    sys.path.insert(0, str(checkout))
    options = ["--quick"] if arguments.quick else []
    if arguments.out is not None:
        options += ["--out", arguments.out]
    status: int = importlib.import_module("benchmarks.run").main(options)
    return status


def _seconds(text: str) -> float:
    """A wait in seconds: more than none (httpx would give up on every request at once)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:  # NaN too
        raise argparse.ArgumentTypeError(f"not a number of seconds above 0: {text!r}")
    return seconds


def _port(text: str) -> int:
    """A TCP port to listen on; 0 lets the system pick a free one, as uvicorn reads it."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ttguard",
        description="Check Trusted Twin API requests as the server would, before they leave.",
        epilog=_EXIT_STATUSES)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check one request body",
        usage="%(prog)s [-h] [OPERATION | --op NAME | --method M --path P] [--max-body BYTES] "
              "FILE",
        epilog=_VALIDATE_EXIT_STATUSES)
    # One list, not two positionals: argparse would take "OPERATION --op X FILE" apart.
    validate.add_argument("targets", nargs="*", metavar="[OPERATION] FILE",
                          help="operation name (see `ttguard ops`; none: generic checks only), "
                               "then the body, or - for standard input")
    validate.add_argument("--op", help="operation name, as OPERATION")
    validate.add_argument("--path", help="request path, with its query if any, resolved with "
                                          "--method; its parameters and query are checked too")
    validate.add_argument("--method", help="HTTP method for --path (POST)")
    validate.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, metavar="BYTES",
                          help=f"body quota in bytes ({DEFAULT_MAX_BODY})")
    validate.set_defaults(run=_validate, parser=validate)

    ops = commands.add_parser("ops", help="list the operations")
    ops.set_defaults(run=_ops, parser=ops)

    serve = commands.add_parser("serve", help="run the validating gateway")
    serve.add_argument("--upstream", default="https://rest.trustedtwin.com", metavar="URL",
                       help="the API to forward to (https://rest.trustedtwin.com), "
                            "or 'local' for the built-in demo echo")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port to listen on (8080)")
    serve.add_argument("--prefix", default="", help="path the API is served under (none)")
    serve.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, metavar="BYTES",
                       help=f"body quota in bytes ({DEFAULT_MAX_BODY})")
    serve.add_argument("--require-authorization", action="store_true",
                       help="refuse requests without an Authorization header")
    serve.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                       help="wait on the upstream at most this long per step (30)")
    serve.add_argument("--report-only", action="store_true",
                       help="forward every request as if ttguard were absent; log its verdicts")
    serve.add_argument("--report", metavar="FILE",
                       help="append a JSON line per verdict that disagrees with the upstream")
    serve.add_argument("--report-values", action="store_true",
                       help="with --report: also record path, query and body (may hold secrets)")
    serve.add_argument("--metrics-port", type=_port, metavar="PORT",
                       help="serve Prometheus metrics on this port (summed over the workers)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    serve.add_argument("--log-format", choices=["text", "json"], default="text",
                       help="the ttguard logger's records: text or one JSON object a line")
    serve.add_argument("--openapi", action="store_true",
                       help="also serve the catalogue as OpenAPI 3.1 at /openapi.json")
    serve.set_defaults(run=_serve, parser=serve)

    openapi = commands.add_parser("openapi", help="print the catalogue as an OpenAPI 3.1 document")
    openapi.add_argument("--server", default=DEFAULT_SERVER, metavar="URL",
                         help=f"the server URL the document names ({DEFAULT_SERVER})")
    openapi.set_defaults(run=_openapi, parser=openapi)

    bench = commands.add_parser("bench", help="run the benchmarks (in a source checkout)")
    bench.add_argument("--quick", action="store_true",
                       help="tiny sizes: check that the benchmarks run (figures mean nothing)")
    bench.add_argument("--out", metavar="DIR",
                       help="where to write the results (benchmarks/results)")
    bench.set_defaults(run=_bench, parser=bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit status."""
    arguments, unknown = _parser().parse_known_args(argv)
    # A usage error found from here on shows the command's own usage line.
    command: argparse.ArgumentParser = arguments.parser
    if arguments.command == "validate":
        # Positionals after an option come back unknown; they are the command's own.
        arguments.targets += [argument for argument in unknown
                              if argument == "-" or not argument.startswith("-")]
        unknown = [argument for argument in unknown
                   if argument != "-" and argument.startswith("-")]
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        status: int = arguments.run(arguments, command)
        sys.stdout.flush()  # here, where a closed pipe can be caught, not at the exit
    except BrokenPipeError:
        # The reader is gone (`ttguard ops | head -1`): nothing more to say, and nobody to say
        # it to. Python's note on SIGPIPE: point stdout at devnull, so that the flush at exit
        # fails no more, and exit 1.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
