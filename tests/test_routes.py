"""resolve(): every operation of the official client, from its method and path."""

from __future__ import annotations

import json
import re
from http import HTTPMethod
from pathlib import Path

import pytest
from conftest import verdict

from ttguard import Route, TTError, operations, resolve
from ttguard.core.routes import below_prefix, canonical_path, route_path

OPERATIONS = json.loads(
    (Path(__file__).parents[1] / "schemas" / "operations.json").read_text())


def filled(template: str) -> tuple[str, dict[str, str]]:
    """The template with each parameter given a distinct value that is no literal segment."""
    params = {name: f"value-of-{name}" for name in re.findall(r"{(\w+)}", template)}
    return template.format(**params), params


def test_the_catalogue_lists_the_85_operations_of_the_official_client_and_two_more() -> None:
    assert list(operations()) == [entry["operation"] for entry in OPERATIONS]
    # The two the client lacks name the documentation page they come from.
    documented_elsewhere = [entry["operation"] for entry in OPERATIONS if "$comment" in entry]
    assert documented_elsewhere == ["update_timeseries_access", "update_indexes_access"]
    assert len(OPERATIONS) - len(documented_elsewhere) == 85


@pytest.mark.parametrize("kind", ["timeseries", "indexes"])
def test_the_access_operations_the_client_lacks_are_known_to_reject_unknown(kind: str) -> None:
    # Listed by the API reference index; a guard with reject_unknown answered them 404.
    assert resolve("PATCH", f"/account/services/{kind}") == Route(f"update_{kind}_access", {})


@pytest.mark.parametrize("entry", OPERATIONS, ids=lambda entry: entry["operation"])
def test_every_operation_resolves_from_its_own_path(entry: dict[str, str]) -> None:
    path, params = filled(entry["path"])
    assert resolve(entry["method"], path) == Route(entry["operation"], params)


def test_a_literal_segment_wins_over_a_parameter() -> None:
    assert resolve("GET", "/notifications/webhooks/access") == Route(
        "get_notifications_access", {})
    assert resolve("GET", "/notifications/webhooks/acc-uuid") == Route(
        "webhook_confirm_subscription", {"account": "acc-uuid"})


def test_a_parameter_is_tried_when_a_literal_leads_nowhere() -> None:
    # "access" is a literal under /notifications/webhooks, but only GET has nothing deeper
    assert resolve("DELETE", "/notifications/webhooks/access") == Route(
        "webhook_unsubscribe", {"account": "access"})


def test_the_ledger_aliases_are_path_values() -> None:
    for alias in ("personal", "owner", "creator"):
        assert resolve("GET", f"/twins/t/ledgers/{alias}") == Route(
            "get_twin_ledger_entry", {"twin": "t", "ledger": alias})


@pytest.mark.parametrize("path", [
    "https://rest.trustedtwin.com/twins/t/ledgers/personal?entries=a&entries=b",
    "/twins/t/ledgers/personal?entries=a",
    "/twins/t/ledgers/personal/",
    "/twins/t/ledgers/personal#fragment",
])
def test_urls_queries_and_a_trailing_slash_are_understood(path: str) -> None:
    assert resolve("GET", path) == Route(
        "get_twin_ledger_entry", {"twin": "t", "ledger": "personal"})


def test_a_prefix_is_removed_before_matching() -> None:
    assert resolve("POST", "/gateway/tt/twins", prefix="/gateway/tt/") == Route("create_twin", {})
    assert resolve("POST", "/twins", prefix="/gateway/tt") is None
    assert resolve("POST", "/gateway/ttwins", prefix="/gateway/t") is None


def test_path_parameters_are_percent_decoded_after_splitting() -> None:
    assert resolve("GET", "/resolve/RFID%23be744bdc%3Dx%25") == Route(
        "resolve_twin_identity", {"identity": "RFID#be744bdc=x%"})


TWIN = "4a7e8f8c-9b1e-4a4f-8e35-9f0e0f2e3a11"


@pytest.mark.parametrize(("path", "canonical"), [
    ("/twins", "/twins"),
    ("/tw%69ns", "/twins"),
    ("/%74%77%69%6E%73", "/twins"),
    ("/x/../twins", "/twins"),
    ("/./twins", "/twins"),
    ("/twins/.", "/twins/"),
    ("/twins/t/..", "/twins/"),
    ("//twins", "/twins"),
    ("/twins//t", "/twins/t"),
    ("/twins/a%2Fb%2fc", "/twins/a%2Fb%2fc"),
    ("/twins/%41%25%20", "/twins/A%25%20"),
    ("/twins/%zz%4", "/twins/%zz%4"),
    ("http://host:8080/a/../twins", "/twins"),
    ("/", "/"),
    ("/..%2e", "/..."),
])
def test_a_path_has_one_canonical_spelling(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


@pytest.mark.parametrize(("method", "path", "route"), [
    ("POST", "/tw%69ns", Route("create_twin", {})),
    ("POST", "/%74wins", Route("create_twin", {})),
    ("POST", "/x/../twins", Route("create_twin", {})),
    ("POST", "/twins/.", Route("create_twin", {})),
    ("POST", "/TWINS", Route("create_twin", {})),
    ("GET", "/twins//docs", Route("get_twin", {"twin": "docs"})),
    ("POST", f"/twins/{TWIN}/Ledgers/personal",
     Route("add_twin_ledger_entry", {"twin": TWIN, "ledger": "personal"})),
    ("GET", f"/twins/{TWIN}/docs/folder/sub/report.pdf",
     Route("get_twin_doc", {"twin": TWIN, "doc_name": "folder/sub/report.pdf"})),
    ("GET", f"/twins/{TWIN}/docs/folder%2Fsub%2Freport.pdf",
     Route("get_twin_doc", {"twin": TWIN, "doc_name": "folder/sub/report.pdf"})),
])
def test_the_same_request_spelled_another_way_is_the_same_operation(
        method: str, path: str, route: Route) -> None:
    assert resolve(method, path) == route


@pytest.mark.parametrize(("path", "reason"), [
    ("/twins;x=1", "a ';' parameter"),
    (f"/twins/{TWIN};v=2/identities", "a ';' parameter"),
    ("/twins\\x", "a backslash"),
    ("*", "the target is no path"),
    ("twins", "the target is no path"),
    ("/%2E%2E/twins", "an encoded dot segment"),
    ("/x/%2e/twins", "an encoded dot segment"),
    ("/x/.%2E/twins", "an encoded dot segment"),
    ("/../twins", "'..' climbs above the root"),
    ("/twins/../../twins", "'..' climbs above the root"),
    (f"/twins/{TWIN}%2Fidentities", "an encoded '/' changes the route"),
    # Decoded, a trailing or doubled encoded '/' leaves an empty segment, dropped as in any
    # path: the operation an application that decodes first would route it to.
    (f"/twins/{TWIN}/identities%2F", "an encoded '/' changes the route"),
    (f"/twins/{TWIN}%2F%2Fidentities", "an encoded '/' changes the route"),
    ("/twins%2F", "an encoded '/' changes the route"),
    # Dot segments that only decoding makes: a reader that decodes, then normalises, goes up.
    (f"/twins/{TWIN}/identities%2F..%2F..%2F..%2Ftwins", "an encoded '/' changes the route"),
    ("/resolve/RFID%23be744bdc%2Fx", "an encoded '/' changes the route"),
])
def test_an_ambiguous_target_is_the_servers_400(path: str, reason: str) -> None:
    with pytest.raises(TTError) as error:
        route_path("POST" if "identities" in path or "twins" in path else "GET", path)
    assert verdict(error) == (400, 400793, f"Request path is ambiguous: {reason}.")


@pytest.mark.parametrize(("method", "path", "reason"), [
    # Starlette's {doc_name:path} takes the rest, even an empty one: a Doc named "", "a/".
    ("PATCH", f"/twins/{TWIN}/docs/", "a trailing '/' changes the route"),
    ("GET", f"/twins/{TWIN}/docs/", "a trailing '/' changes the route"),
    ("DELETE", f"/twins/{TWIN}/docs/", "a trailing '/' changes the route"),
    ("PATCH", f"/twins/{TWIN}/docs/a/", "a trailing '/' changes the route"),
    ("PATCH", f"/twins/{TWIN}/docs//a", "an empty segment changes the route"),
    # Its parameters take "." and "..": the identity "..", the twin "..".
    ("PATCH", f"/twins/{TWIN}/identities/..", "a dot segment changes the route"),
    ("POST", "/twins/../identities", "a dot segment changes the route"),
    ("PATCH", f"/twins/{TWIN}/docs/x/../../../{TWIN}", "a dot segment changes the route"),
    ("PATCH", f"/twins/{TWIN}/docs/.", "a dot segment changes the route"),
    # Its literals keep their case: the account "ACCESS".
    ("GET", "/notifications/webhooks/ACCESS", "a letter's case changes the route"),
    ("HEAD", "/notifications/webhooks/Access", "a letter's case changes the route"),
    ("GET", "/notifications/webhooks/%41ccess", "a letter's case changes the route"),
    # Its ^...$ routes, matched by re.match, take a final newline: create_twin.
    ("POST", "/twins%0A", "a final newline changes the route"),
    ("PATCH", f"/twins/{TWIN}/ledgers/personal/value%0a", "a final newline changes the route"),
])
def test_a_path_routed_elsewhere_as_sent_is_ambiguous(method: str, path: str,
                                                      reason: str) -> None:
    with pytest.raises(TTError) as error:
        route_path(method, path)
    assert verdict(error) == (400, 400793, f"Request path is ambiguous: {reason}.")


@pytest.mark.parametrize(("path", "prefix", "below"), [
    ("/api", "/api", "/"), ("/api/twins/", "/api", "/twins/"), ("/apix/twins", "/api", None),
    ("/twins", "/api", None), ("/twins", "", "/twins"),
    # A mount's path is decoded (an ASGI root_path, Starlette's Mount("/{tenant}")).
    ("/acme%20corp/twins", "/acme corp", "/twins"), ("/m%C3%BCnchen/twins", "/münchen", "/twins"),
])
def test_below_prefix_compares_the_mount_decoded(path: str, prefix: str,
                                                 below: str | None) -> None:
    assert below_prefix(path, prefix) == below


def test_a_mount_whose_path_is_encoded_as_sent_holds_the_api() -> None:
    # Compared undecoded, /acme%20corp/twins lay outside /acme corp: unchecked.
    assert route_path("POST", "/acme%20corp/twins", prefix="/acme corp") == Route(
        "create_twin", {})


@pytest.mark.parametrize(("method", "path", "route"), [
    ("GET", f"/twins/{TWIN}/docs/", Route("get_twin_docs", {"twin": TWIN})),
    ("PATCH", f"/twins/{TWIN}/identities/..", Route("update_twin", {"twin": TWIN})),
    ("GET", "/notifications/webhooks/ACCESS", Route("get_notifications_access", {})),
])
def test_without_the_reading_as_sent_the_canonical_form_alone_is_judged(
        method: str, path: str, route: Route) -> None:
    # For a guard whose server reads paths its own way: the client guards.
    assert resolve(method, path, as_sent=False) == route


def test_below_a_prefix_a_path_routed_elsewhere_as_sent_is_ambiguous() -> None:
    with pytest.raises(TTError) as error:
        route_path("PATCH", f"/api/twins/{TWIN}/identities/..", prefix="/api")
    assert verdict(error) == (400, 400793,
                              "Request path is ambiguous: a dot segment changes the route.")


@pytest.mark.parametrize(("method", "path", "route"), [
    # Routed nowhere as sent (a 404, a 405, a redirect): judged in the canonical form.
    ("POST", f"/twins/{TWIN}/docs/", Route("attach_twin_doc", {"twin": TWIN})),
    ("GET", f"/twins/{TWIN}/", Route("get_twin", {"twin": TWIN})),
    ("GET", f"/twins//{TWIN}", Route("get_twin", {"twin": TWIN})),
    ("POST", "/Twins", Route("create_twin", {})),
    # Routed alike either way.
    ("GET", "/notifications/webhooks/access", Route("get_notifications_access", {})),
    ("GET", f"/twins/{TWIN.upper()}", Route("get_twin", {"twin": TWIN.upper()})),
    ("PATCH", f"/twins/{TWIN}/identities/RFID%231",
     Route("update_twin_identity", {"twin": TWIN, "identity": "RFID#1"})),
])
def test_a_path_routed_nowhere_else_as_sent_is_judged_canonical(method: str, path: str,
                                                                route: Route) -> None:
    assert route_path(method, path) == route


def test_a_doc_name_that_climbs_once_decoded_is_ambiguous() -> None:
    # As sent, the doc "a/../b.pdf" (which the server's pattern refuses); decoded and
    # normalised, the doc "b.pdf".
    with pytest.raises(TTError) as error:
        route_path("GET", f"/twins/{TWIN}/docs/a%2F..%2Fb.pdf")
    assert verdict(error) == (400, 400793,
                              "Request path is ambiguous: an encoded '/' changes the route.")


@pytest.mark.parametrize("path", ["/api/../twins", "/x/../api/twins", "/api/x/../../twins"])
def test_dot_segments_across_the_prefix_are_ambiguous(path: str) -> None:
    with pytest.raises(TTError) as error:
        route_path("POST", path, prefix="/api")
    assert verdict(error) == (400, 400793,
                              "Request path is ambiguous: '..' crosses the prefix.")


@pytest.mark.parametrize("path", ["/api%2Ftwins", "/api%2f%2Ftwins", "/%61pi%2Ftwins"])
def test_an_encoded_slash_into_the_prefix_is_ambiguous(path: str) -> None:
    # Outside the prefix as sent; inside once decoded, as an application that decodes the path
    # before routing (Starlette's Mount) reads it.
    with pytest.raises(TTError) as error:
        route_path("POST", path, prefix="/api")
    assert verdict(error) == (400, 400793,
                              "Request path is ambiguous: an encoded '/' changes the route.")


def test_an_encoded_slash_outside_the_prefix_either_way_is_none_of_its_business() -> None:
    assert route_path("POST", "/other%2Ftwins", prefix="/api") is None


def test_dot_segments_inside_the_prefix_are_removed() -> None:
    assert route_path("POST", "/api/x/../twins", prefix="/api") == Route("create_twin", {})
    assert route_path("POST", "/other/../x", prefix="/api") is None


def test_an_encoded_slash_that_names_nothing_either_way_is_no_operation() -> None:
    assert route_path("POST", "/tw%2Fins") is None


def test_a_fragment_is_part_of_a_url_but_not_of_a_sent_path() -> None:
    assert resolve("POST", "/twins#fragment") == Route("create_twin", {})
    with pytest.raises(TTError):
        route_path("POST", "/twins#fragment")


def test_methods_are_case_insensitive() -> None:
    assert resolve("post", "/twins") == Route("create_twin", {})


@pytest.mark.parametrize(("method", "path", "prefix", "message"), [
    (None, "/twins", "", "method must be a str, not NoneType"),
    (b"POST", "/twins", "", "method must be a str, not bytes"),
    ("POST", b"/twins", "", "path must be a str, not bytes"),
    ("POST", "/x", None, "prefix must be a str, not NoneType"),
])
def test_an_argument_that_is_no_str_is_a_type_error_naming_it(
        method: object, path: object, prefix: object, message: str) -> None:
    with pytest.raises(TypeError) as refused:
        resolve(method, path, prefix=prefix)  # type: ignore[arg-type]
    assert str(refused.value) == message
    assert resolve(HTTPMethod.POST, "/twins") == Route("create_twin", {})  # a str all the same


def test_a_head_is_routed_as_a_get() -> None:
    assert resolve("HEAD", "/twins/t") == Route("get_twin", {"twin": "t"})
    assert resolve("head", "/token/refresh") is None  # a POST only: no GET to stand for


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/twins"), ("GET", "/nothing"), ("GET", "/twins/t/unknown"), ("POST", "/twins/t"),
    ("GET", ""),
])
def test_what_is_no_operation_resolves_to_none(method: str, path: str) -> None:
    assert resolve(method, path) is None
