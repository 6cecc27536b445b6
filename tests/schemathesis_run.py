"""Schemathesis against the gateway, from the exported OpenAPI document.

Shared by the bounded run of ``make test`` (tests/test_schemathesis.py) and the long one of
``make fuzz`` (fuzz/openapi.py). For each operation, Schemathesis generates requests that fit
the document (positive) and requests that do not (negative), sends them to a running
``ttguard serve --upstream local --openapi``, and each answer is judged:

* Schemathesis' own checks: no 5xx, a documented status, content type and response schema
  (the error body, with a subcode the document lists for that status);
* **positive**: accepted (2xx): the document describes only requests ttguard accepts, or
  refused for what pydantic checks and no schema can say (the export's ``x-ttguard``): in an
  object sent as a list of pairs or ``""``, what ``dict()`` reads of it (a repeated key's last
  value counts); a number or boolean where a string with a pattern or length is expected, by
  its ``str()``;
* **negative**: refused with 400 and one of ttguard's subcodes, or accepted only where the
  request *as sent* is explained: it fits the document after all (the mutation did not survive
  serialisation, e.g. a number in a query string; or it only adds a query parameter the
  document does not list, which ttguard ignores and OpenAPI does not forbid), or its path names
  another operation or none (a ``/`` or an empty value in a path parameter), which ttguard
  does not check. The ``Authorization`` header is fixed, not fuzzed: ttguard checks at most
  that it is there.

A request ttguard refuses although it fits the document, or accepts although it does not, is
a finding. Nothing here uses ttguard's own keyword functions to judge: the document is read by
jsonschema and jsonschema-rs (:mod:`tests.exported`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.exported import exported, parse_body, refusals
from ttguard.core import Subcode, parse_query, resolve

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
TTGUARD_SUBCODES = frozenset(int(subcode) for subcode in Subcode)


@dataclass
class Report:
    """What a run sent, how it was answered, and what it found."""

    sent: Counter[str] = field(default_factory=Counter)
    explained: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    not_generated: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"sent {sum(self.sent.values())} requests ({dict(self.sent)}); answers "
                f"explained: {dict(self.explained)}; findings: "
                f"{len(self.findings)}; not generated: {len(self.not_generated)}")


def _as_sent(response: Any) -> tuple[str, str, dict[str, str], dict[str, Any], Any] | None:
    """(operation, path params, query, body) of the request as the gateway read it."""
    request = response.request
    url = urlsplit(request.url)
    # As the middleware does: the path as sent; resolve() decodes each parameter once.
    route = resolve(request.method, url.path)
    if route is None:
        return None
    body = request.body or b""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return (route.operation, request.method, route.path_params,
            parse_query(url.query, route.operation),
            parse_body(raw))


#: Why ttguard may refuse a request the document accepts: what pydantic checks that no schema
#: can say (the export's ``x-ttguard`` notes).
BY_DICT = 'refused in an object sent as pairs or "" (read by dict())'
BY_STR = "refused by the pattern or length of a number or boolean's str()"


def _beyond_the_document(body: Any, description: str) -> str | None:
    """Why a refusal (its ``description``, ``body::a->b: message``) lies beyond what the
    document can say, or None: its location steps into a value of ``body`` that is no dict by a
    name, not an index (an object sent as a list of pairs or ``""``, which ttguard reads by
    ``dict()``), or a string's pattern or length refuses the number or boolean there, whose
    ``str()`` ttguard checks."""
    location, _, rest = description.partition("::")
    if location != "body":
        return None
    steps, _, message = rest.partition(": ")
    value = body
    for step in steps.split("->"):
        if isinstance(value, dict):
            if step not in value:
                return None
            value = value[step]
            continue
        try:
            read = dict(value)
        except (TypeError, ValueError):
            read = None
        if read is not None and (step in read or not step.isdigit()):
            return BY_DICT
        if not isinstance(value, list) or not step.isdigit() or int(step) >= len(value):
            return None
        value = value[int(step)]
    if isinstance(value, (int, float)) and message.startswith(
            ("string does not match regex", "ensure this value has at")):
        return BY_STR
    return None


def judge(case: Any, response: Any, mode: GenerationMode, report: Report) -> None:
    """Judge one answer; record a finding or an explanation in ``report``."""
    name = case.operation.definition.raw["operationId"]
    status = response.status_code
    report.sent[f"{mode.value} {status}"] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as failure:
        report.findings.append(f"{name} {mode.value}: {failure}")
        return
    accepted = 200 <= status < 300
    if status == 400:
        subcode = json.loads(response.content)["subcode"]
        if subcode not in TTGUARD_SUBCODES:
            report.findings.append(f"{name}: unknown subcode {subcode}")
    sent = _as_sent(response)
    where = f"{name} {mode.value}: {response.request.method} {response.request.url}"
    if sent is None or sent[0] != name:
        if mode.is_negative and accepted:
            report.explained["path names another operation or none"] += 1
        return
    _, _, path, query, body = sent
    fits = refusals(name, path, query, body)
    if accepted and fits:
        report.findings.append(f"{where}: accepted, but the document refuses it: {fits}")
    elif not accepted and not fits:
        description = json.loads(response.content).get("description", "") if status == 400 else ""
        beyond = _beyond_the_document(body, description)
        if beyond is not None:
            report.explained[beyond] += 1
        else:
            report.findings.append(f"{where}: refused ({response.content[:300]!r}), but the "
                                   f"document accepts it; body {str(body)[:300]}")
    elif accepted and mode.is_negative:
        listed = {parameter for place, parameter in exported(name).parameters if place == "query"}
        report.explained["an unlisted query parameter (ignored, as the document allows)"
                         if set(query) - listed else "fits the document as sent"] += 1


def run(base_url: str, *, examples: int, seed: int | None = None,
        operations: list[str] | None = None) -> Report:
    """Fuzz the gateway at ``base_url`` from its ``/openapi.json``: ``examples`` requests per
    operation and mode (fewer where Schemathesis finds fewer distinct ones), the same ones each
    time unless a ``seed`` is given."""
    document = requests.get(f"{base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    report = Report()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            name = operation.definition.raw["operationId"]
            if operations is not None and name not in operations:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run_one(operation, mode, base_url, session, report, examples, seed)
    return report


def _run_one(operation: Any, mode: GenerationMode, base_url: str, session: requests.Session,
             report: Report, examples: int, seed: int | None) -> None:
    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    # The Authorization header is fixed: ttguard checks its presence at most, never its value,
    # so a negated one says nothing; negative cases then break the path, query or body.
    @given(operation.as_strategy(generation_mode=mode, headers={"Authorization": "fuzz"}))
    def send(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, session=session, timeout=30)
        except requests.RequestException as failure:
            report.findings.append(f"{operation.label} {mode.value}: no answer: {failure!r}")
            return
        judge(case, response, mode, report)

    if seed is not None:
        send = hypothesis.seed(seed)(send)
    try:
        send()
    except Unsatisfiable:
        report.not_generated.append(f"{operation.label} {mode.value}")
