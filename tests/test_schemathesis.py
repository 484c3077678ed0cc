"""schemathesis over ``/openapi.json``, against the running connector, route by route.

Cases are generated from the document itself (valid and invalid data), sent over a real socket
to the connector serving the test tenants, with each route's real credentials (HubSpot requests
signed over the exact bytes and URL sent, Shopify's HMAC over the body), so the fuzzer reaches
the parsers. Every answer must be no server error, and have a status, content type, headers
and body the document lists for that route.

Two hundred cases per route by default (deterministic: ``derandomize``); the long campaign,
``FUZZ_CAMPAIGN=1`` (2,000 per route), is for a run outside CI. ``pytest -s`` prints each route's
count.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from connector.hubspot_app import HubSpotApp
from connector.platforms import PLATFORMS
from tests.conftest import HUBSPOT_SECRET, LiveConnector
from tests.platform_cases import (
    ACME_KEY,
    CLEVERTAP_PASSWORD,
    CLEVERTAP_USER,
    HUBSPOT_PORTAL,
    SHOP,
    basic,
    hubspot_v3,
    shopify_sign,
)

CAMPAIGN = os.environ.get("FUZZ_CAMPAIGN") == "1"
CASES = int(os.environ.get("FUZZ_CASES") or (1000 if CAMPAIGN else 100))  # per mode: x2 per route
DERANDOMIZE = os.environ.get("FUZZ_RANDOM") != "1"  # FUZZ_RANDOM=1: new cases each run
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OTHER_ROUTES = [
    ("GET", "/v1/events/{event_id}"),
    ("POST", "/v1/events/{event_id}/replay"),
    ("GET", "/v1/me"),
    ("GET", "/v1/templates"),
    ("POST", "/hooks/hubspot/options"),
    ("POST", "/v1/zapier/hooks"),
    ("DELETE", "/v1/zapier/hooks/{hook_id}"),
    ("GET", "/v1/zapier/status-changes"),
    ("GET", "/oauth/hubspot/install"),
    ("GET", "/oauth/hubspot/callback"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    *(
        (method, path)
        for method in ("GET", "POST", "PUT")
        for path in ("/callbacks/kaleyra/{connection}", "/callbacks/kaleyra/{connection}/{token}")
    ),
]
ROUTES = [("POST", p.path) for p in PLATFORMS] + [("HEAD", "/hooks/leadsquared"), *OTHER_ROUTES]
# "format: phone" is the connector's: numbers it takes (and some it does not), so valid offers
# reach the relay, the store and the loopback Kaleyra
PHONES = ["+919876543210", "+91 98765 43210", "0091 98765 43210", "919812345678", "+14155550142",
          "(415) 555-0142", "+447911123456", "98765 43210", "12", "+1"]  # fmt: skip
schemathesis.openapi.format("phone", st.sampled_from(PHONES) | st.text(max_size=20))
CREDENTIAL_HEADERS = {
    "authorization", "x-api-key", "x-hubspot-signature", "x-hubspot-signature-v3",
    "x-hubspot-signature-version", "x-hubspot-request-timestamp", "x-shopify-hmac-sha256",
}  # fmt: skip


def keyed(request: requests.PreparedRequest) -> None:
    request.headers["X-Api-Key"] = ACME_KEY


def clevertap(request: requests.PreparedRequest) -> None:
    request.headers["Authorization"] = basic(CLEVERTAP_USER, CLEVERTAP_PASSWORD)


def bearer(request: requests.PreparedRequest) -> None:
    request.headers["Authorization"] = f"Bearer {ACME_KEY}"


def hubspot(request: requests.PreparedRequest) -> None:
    """HubSpot v3: signed over the method, the URL and the bytes exactly as sent."""
    request.headers.update(hubspot_v3(str(request.url), _body(request), HUBSPOT_SECRET))


def shopify(request: requests.PreparedRequest) -> None:
    request.headers["X-Shopify-Hmac-Sha256"] = shopify_sign(_body(request))
    request.headers["X-Shopify-Shop-Domain"] = SHOP


def nobody(request: requests.PreparedRequest) -> None:
    """Salesforce (its org id is in the XML), health, metrics, the document."""


def _body(request: requests.PreparedRequest) -> bytes:
    body = request.body or b""
    return body.encode() if isinstance(body, str) else bytes(body)


CREDENTIALS: dict[str, Callable[[requests.PreparedRequest], None]] = {
    "/hooks/clevertap": clevertap,
    "/hooks/clevertap/webhook": clevertap,
    "/hooks/webengage": bearer,
    "/hooks/hubspot/action": hubspot,
    "/hooks/hubspot/webhook": hubspot,
    "/hooks/hubspot/options": hubspot,
    "/hooks/shopify": shopify,
    "/hooks/shopify/flow": shopify,
    "/hooks/salesforce": nobody,
    "/healthz": nobody,
    "/readyz": nobody,
    "/metrics": nobody,
    "/openapi.json": nobody,
}


def prepare(case: Any, base_url: str) -> requests.PreparedRequest:
    """The generated request with the route's real credentials in place of generated ones."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    path = case.operation.path
    headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items()
               if k.lower() not in CREDENTIAL_HEADERS}  # fmt: skip
    params = kwargs.pop("params", None)
    if path == "/hooks/hubspot/webhook":  # signed: the query names the portal
        params = {**(params if isinstance(params, dict) else {}), "portalId": str(HUBSPOT_PORTAL)}
    body = kwargs.get("json")
    if isinstance(body, dict):  # where the body names the connection, name the test tenant's
        if path == "/hooks/shopify/flow":
            kwargs["json"] = {**body, "shopify_domain": SHOP}
        elif path == "/hooks/hubspot/action" and isinstance(body.get("origin"), dict | None):
            kwargs["json"] = {**body, "origin": {**(body.get("origin") or {}),
                                                 "portalId": HUBSPOT_PORTAL}}  # fmt: skip
        elif path == "/hooks/hubspot/options":
            kwargs["json"] = {**body, "portalId": HUBSPOT_PORTAL}
    if "json" in kwargs:  # the exact bytes, so signatures cover what is sent
        kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
        headers.setdefault("Content-Type", "application/json")
    request = requests.Request(
        method=kwargs.pop("method"),
        url=kwargs.pop("url"),
        headers=headers,
        params=params,
        data=kwargs.pop("data", None),
        files=kwargs.pop("files", None),
        cookies=kwargs.pop("cookies", None),
    ).prepare()
    CREDENTIALS.get(path, keyed)(request)
    return request


_SCHEMAS: dict[str, Any] = {}


def load_schema(connector: LiveConnector) -> Any:
    """The schema the connector serves, loaded once per distinct document."""
    document = connector.get("/openapi.json").text
    if document not in _SCHEMAS:
        _SCHEMAS[document] = schemathesis.openapi.from_dict(json.loads(document))
    return _SCHEMAS[document]


def fuzz(connector: LiveConnector, method: str, path: str, cases: int) -> Counter[int]:
    """Run ``cases`` positive and ``cases`` negative cases on one route; returns how many
    requests got each status."""
    operation = load_schema(connector)[path][method]
    session = requests.Session()
    sent: Counter[int] = Counter()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = operation.as_strategy(generation_mode=mode)
        before = sent.total()

        @settings(
            max_examples=cases,
            deadline=None,
            derandomize=DERANDOMIZE,
            database=None,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            try:
                request = prepare(case, connector.base_url)
            except (ValueError, TypeError, requests.exceptions.RequestException):
                reject()  # a value no HTTP client can send (a header with a newline ...)
            response = session.send(request, timeout=30, allow_redirects=False)
            sent[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # nothing in the route to make invalid (no parameters; a text body): valid only
            if mode is GenerationMode.POSITIVE or sent.total() > before:
                raise
    return sent


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_schemathesis_route(
    request: pytest.FixtureRequest, start_connector: Callable[..., LiveConnector],
    route: tuple[str, str],
) -> None:  # fmt: skip
    if route[1].startswith("/oauth/hubspot/"):  # the HubSpot app configured (HubSpot unused:
        app = HubSpotApp(client_id="app", api_base="http://127.0.0.1:9",  # no state verifies)
                         token_key=Fernet.generate_key().decode())  # fmt: skip
        connector = start_connector(sandbox=True, public_url="http://lto.test", hubspot=app)
    else:
        connector = request.getfixturevalue("tenants")
    sent = fuzz(connector, *route, CASES)
    print(f"\nschemathesis {route_id(route)}: {sent.total()} requests {dict(sorted(sent.items()))}")
    assert sent.total() > 0


def test_every_documented_operation_is_fuzzed(tenants: LiveConnector) -> None:
    spec = tenants.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert documented == set(ROUTES)
