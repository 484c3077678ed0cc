"""The OpenAPI document is valid, built from the schemas, and describes every route as it is:
its real request body, security and answers (each platform's real answer validates against it)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from connector.offer import OfferSchema
from connector.platforms import PLATFORMS
from tests.conftest import HUBSPOT_SECRET, LiveConnector
from tests.documented import Document
from tests.platform_cases import ACME_KEY, OTHER_KEY, Case, api_offer, cases, json_call

CASES = cases(HUBSPOT_SECRET)


@pytest.fixture
def spec(tenants: LiveConnector) -> dict[str, Any]:
    document: dict[str, Any] = tenants.get("/openapi.json").json()
    return document


def test_openapi_document_is_valid_and_complete(connector: LiveConnector) -> None:
    spec = connector.get("/openapi.json").json()
    validate(spec)
    offer = spec["components"]["schemas"]["Offer"]
    assert set(offer["properties"]) == set(OfferSchema().fields)
    assert set(offer["required"]) == {"to", "template_name"}
    assert offer["additionalProperties"] is False
    assert offer["properties"]["body_params"]["anyOf"][0]["type"] == "array"
    assert "oneOf" in offer["properties"]["expires_at"]
    assert set(spec["paths"]) >= {"/v1/messages", "/hooks/zapier", "/hooks/hubspot/action",
                                  "/hooks/hubspot/webhook", "/healthz", "/readyz"}  # fmt: skip


def test_the_sandbox_flag_never_lands_in_the_document(
    start_connector: Any,
) -> None:
    spec = start_connector(sandbox=True).get("/openapi.json").json()
    assert "sandbox" not in spec
    validate(spec)


def test_every_route_the_app_serves_is_documented_with_its_methods(
    tenants: LiveConnector, spec: dict[str, Any]
) -> None:
    from connector import create_app

    app = create_app(tenants.settings)  # the same app, to read its URL map
    served = {}
    for rule in app.url_map.iter_rules():
        # the console's pages are HTML for people (README: Console), not the machine API
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        served[path] = {m.lower() for m in rule.methods or ()} - {"options"}
    documented = {path: set(item) for path, item in spec["paths"].items()}
    assert set(served) == set(documented)
    for path, methods in served.items():
        explicit_head = "head" in documented[path]
        assert documented[path] == (methods if explicit_head else methods - {"head"}), path


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_each_hook_documents_its_own_body_security_and_answers(
    spec: dict[str, Any], platform: Any
) -> None:
    operation = spec["paths"][platform.path]["post"]
    doc = platform.doc
    assert set(operation["requestBody"]["content"]) == set(doc.body)
    assert {str(s) for s in doc.answers} == set(operation["responses"])
    expected = [{scheme: [] for scheme in alternative} for alternative in doc.security]
    assert operation["security"] == expected
    for alternative in operation["security"]:
        assert set(alternative) <= set(spec["components"]["securitySchemes"])


def test_each_platforms_own_body_is_its_schema(spec: dict[str, Any]) -> None:
    body = {
        path: item["post"]["requestBody"]["content"]
        for path, item in spec["paths"].items()
        if "post" in item and "requestBody" in item["post"]
    }
    schema = {path: {m: c["schema"].get("$ref", c["schema"].get("type")) for m, c in media.items()}
              for path, media in body.items()}  # fmt: skip
    refs = "#/components/schemas/"
    assert schema["/v1/messages"] == {"application/json": refs + "Offer"}
    assert schema["/hooks/hubspot/action"] == {"application/json": refs + "HubSpotActionRequest"}
    assert schema["/hooks/clevertap"] == {"application/json": refs + "CleverTapMessage"}
    assert schema["/hooks/webengage"] == {"application/json": refs + "WebEngageMessage"}
    assert schema["/hooks/shopify/flow"] == {"application/json": refs + "FlowActionRequest"}
    assert schema["/hooks/salesforce"] == {"text/xml": "string"}
    assert set(schema["/hooks/leadsquared"]) == {
        "application/json", "application/x-www-form-urlencoded", "text/plain"}  # fmt: skip
    assert schema["/hooks/braze"]["application/json"] == "object"


@pytest.mark.parametrize(
    ("change", "valid"),
    [({}, True), ({"expires_at": "2030-01-01T00:00:00Z"}, False), ({"coupon_code": ""}, False),
     ({"template_name": ""}, False), ({"url_param": ""}, False), ({"language": "en-US"}, False),
     ({"body_params": ["a\tb"]}, False), ({"body_params": ["a     b"]}, False),
     ({"header_image_id": "1", "header_image_url": "https://x.example/a.png"}, False),
     ({"expires_at": 1_209_600_000, "expires_in": None}, False), ({"coupon": "X"}, False)],
)  # fmt: skip
def test_the_offer_schema_refuses_what_the_server_refuses(
    spec: dict[str, Any], tenants: LiveConnector, change: dict[str, Any], valid: bool
) -> None:
    body = {k: v for k, v in {**api_offer(), **change}.items() if v is not None}
    errors = Document(spec).errors({"$ref": "#/components/schemas/Offer"}, body)
    assert (not errors) is valid, errors
    answer = requests.post(  # a connection with no default template to fill a blank one
        tenants.base_url + "/v1/messages", json=body, headers={"X-Api-Key": OTHER_KEY}, timeout=30
    )
    assert (answer.status_code == 202) is valid, answer.text


def documented(spec: dict[str, Any], path: str, method: str, response: requests.Response) -> None:
    Document(spec).check(path, method, response)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.platform)
def test_each_platforms_real_answers_are_the_documented_ones(
    spec: dict[str, Any], tenants: LiveConnector, case: Case
) -> None:
    valid = case.valid()
    documented(spec, valid.path, "post", valid.send(tenants.base_url))
    forged = case.forged()
    documented(spec, forged.path, "post", forged.send(tenants.base_url))
    broken = json_call(valid.path, b"{not json", **valid.headers)
    documented(spec, valid.path, "post", broken.send(tenants.base_url))


def test_a_queued_answer_has_a_null_message_id_and_is_documented(
    spec: dict[str, Any], tenants: LiveConnector
) -> None:
    answer = requests.post(
        tenants.base_url + "/v1/messages",
        json=api_offer(),
        headers={"X-Api-Key": ACME_KEY, "Prefer": "respond-async"},
        timeout=30,
    )
    assert answer.status_code == 202 and answer.json()["message_id"] is None
    documented(spec, "/v1/messages", "post", answer)


def test_the_other_routes_answers_are_documented(
    spec: dict[str, Any], tenants: LiveConnector
) -> None:
    keyed = {"X-Api-Key": ACME_KEY}
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/me", "/v1/templates"):
        documented(spec, path, "get", tenants.get(path, headers=keyed))
        if path.startswith("/v1/"):
            documented(spec, path, "get", tenants.get(path))
    documented(spec, "/v1/events/{event_id}", "get", tenants.get("/v1/events/evt_0", headers=keyed))
    replay = requests.post(tenants.base_url + "/v1/events/evt_0/replay", headers=keyed, timeout=30)
    documented(spec, "/v1/events/{event_id}/replay", "post", replay)
