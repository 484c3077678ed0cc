"""Every platform as it really calls the connector: a signed/authenticated request built from the
platform's documented payload (tests/fixtures/<platform>/), a forged one, and what each answer
must look like. Used by the conformance suite and by benchmarks/platform_ack.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
ACME_KEY = "acme-key-5f1c2b9d"
OTHER_KEY = "other-key-8e7d6c5b"
CLEVERTAP_USER, CLEVERTAP_PASSWORD = "clevertap", "ct-secret-2f9a"
HUBSPOT_PORTAL = 102670506
SHOP = "example-store.myshopify.com"
SHOPIFY_SECRET = "shpss_test_secret_4c1a"
ORG_ID = "00D5g000004ZkLmEAK"
HUBSPOT_V3_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
MAPPED = ("braze", "zoho", "moengage", "eloqua", "responsys")


def connections_yaml(kaleyra_base_url: str, hubspot_secret: str) -> str:
    """The tenants the suite runs against: ``acme`` (live, every identity) and ``other``."""
    mappings = {
        name: yaml.safe_load((FIXTURES / "mapped" / f"{name}-mapping.yaml").read_text())
        for name in MAPPED
    }
    from tests.kaleyra_fake import SENDER, SID

    doc = {
        "connections": {
            "acme": {
                "kaleyra": {
                    "sid": SID,
                    "api_key": "${TEST_ACME_KALEYRA_KEY}",
                    "sender": SENDER,
                    "base_url": kaleyra_base_url,
                    "rate": 0,
                },
                "defaults": {
                    "region": "IN",
                    "language": "en",
                    "template_name": "lto_default",
                    "offer_lifetime": "48h",
                },
                "inbound": {
                    "api_keys": [ACME_KEY],
                    "basic": [{"username": CLEVERTAP_USER, "password": CLEVERTAP_PASSWORD}],
                    "hubspot_portal_ids": [HUBSPOT_PORTAL],
                    "shopify_shops": [SHOP],
                    "shopify_secret": "${TEST_SHOPIFY_SECRET}",
                    "salesforce_org_ids": [ORG_ID],
                },
                "mappings": mappings,
            },
            "other": {"inbound": {"api_keys": [OTHER_KEY]}, "defaults": {"region": "US"}},
        }
    }
    return yaml.safe_dump(doc, sort_keys=False)


@dataclass
class Call:
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    def url(self, base_url: str) -> str:
        return base_url + self.path + (f"?{urlencode(self.query)}" if self.query else "")

    def send(self, base_url: str, session: Any = requests) -> requests.Response:
        url = self.url(base_url)
        headers = dict(self.headers)
        if "X-HubSpot-Signature-v3" in headers:  # signed over the URL it is sent to
            headers.update(hubspot_v3(url, self.body, headers["X-HubSpot-Signature-v3"]))
        return session.request(self.method, url, data=self.body, headers=headers, timeout=30)


@dataclass
class Case:
    platform: str
    wa_source: str
    valid: Callable[[], Call]
    forged: Callable[[], Call]
    accepted: Callable[[requests.Response], None]  # the platform's success answer
    refused: Callable[[requests.Response], None]  # its refusal of a forged call
    sends: int = 1  # messages one valid call carries


def text(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def shopify_sign(body: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def hubspot_v3(url: str, body: bytes, secret: str) -> dict[str, str]:
    stamp = str(time.time_ns() // 1_000_000)
    for escaped, char in HUBSPOT_V3_DECODED.items():
        url = url.replace(escaped, char)
    digest = hmac.new(secret.encode(), b"POST" + url.encode() + body + stamp.encode(), "sha256")
    return {
        "X-HubSpot-Signature-v3": base64.b64encode(digest.digest()).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
    }


def json_call(path: str, body: bytes, **headers: str) -> Call:
    return Call(path, body, {"Content-Type": "application/json", **headers})


# --- answers -------------------------------------------------------------------------------


def status_is(http_status: int, **fields: Any) -> Callable[[requests.Response], None]:
    def check(response: requests.Response) -> None:
        assert response.status_code == http_status, response.text
        body = response.json()
        for key, value in fields.items():
            assert body.get(key) == value, (key, body)

    return check


def connector_accepted(status: int) -> Callable[[requests.Response], None]:
    def check(response: requests.Response) -> None:
        assert response.status_code == status, response.text
        assert response.json()["id"], response.text

    return check


def clevertap_failure(code: int) -> Callable[[requests.Response], None]:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text  # CleverTap reads only 200 bodies
        body = response.json()
        assert body["status"] == "failure" and body["error"]["code"] == code, body

    return check


def soap_ack(response: requests.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    assert "<Ack>true</Ack>" in response.text


def soap_fault(status: int) -> Callable[[requests.Response], None]:
    def check(response: requests.Response) -> None:
        assert response.status_code == status, response.text
        assert "Fault>" in response.text and "<Ack>" not in response.text

    return check


def hubspot_success(response: requests.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["outputFields"]["hs_execution_state"] == "SUCCESS"


# --- the cases -----------------------------------------------------------------------------


def api_offer() -> dict[str, Any]:
    return {
        "to": "+919876543210",
        "template_name": "lto_summer",
        "body_params": ["Asha", "30%"],
        "expires_in": "14d",
        "coupon_code": "SUMMER30",
        "url_param": "summer30",
    }


def shopify_call(path: str, fixture: str, *, secret: str = SHOPIFY_SECRET, **headers: str) -> Call:
    body = text(fixture)
    return json_call(path, body, **{"X-Shopify-Hmac-Sha256": shopify_sign(body, secret), **headers})


def shopify_webhook(secret: str = SHOPIFY_SECRET) -> Call:
    return shopify_call(
        "/hooks/shopify",
        "shopify/orders-create.json",
        secret=secret,
        **{
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "X-Shopify-API-Version": "2025-07",
        },
    )


def hubspot_action(secret: str) -> Call:
    return json_call(
        "/hooks/hubspot/action",
        text("hubspot/action-execution.json"),
        **{"X-HubSpot-Signature-v3": secret},
    )


def hubspot_webhook(secret: str) -> Call:
    call = json_call(
        "/hooks/hubspot/webhook",
        text("hubspot/webhook-contact-legacy.json"),
        **{"X-HubSpot-Signature-v3": secret},
    )
    call.query = {"portalId": str(HUBSPOT_PORTAL), "template_name": "lto_summer"}
    return call


def mapped(name: str, key: str | None = ACME_KEY) -> Call:
    headers = json.loads(text(f"mapped/{name}-headers.json"))
    headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-api-key")}
    suffix = "form" if name == "zoho" else "json"
    call = Call(f"/hooks/{name}", text(f"mapped/{name}-request.{suffix}"), headers)
    if name == "eloqua":  # Eloqua can set no header: the key rides in the notification URL
        call.query = {"api_key": key or "wrong-key-000000"}
    elif name == "braze":
        call.headers["Authorization"] = f"Bearer {key or 'wrong-key-000000'}"
    elif key is not None:
        call.headers["X-Api-Key"] = key
    return call


def cases(hubspot_secret: str) -> list[Case]:
    wrong = "wrong-key-000000"
    out = [
        Case(
            "api",
            "api",
            lambda: json_call(
                "/v1/messages", json.dumps(api_offer()).encode(), **{"X-Api-Key": ACME_KEY}
            ),
            lambda: json_call(
                "/v1/messages", json.dumps(api_offer()).encode(), **{"X-Api-Key": wrong}
            ),
            connector_accepted(202),
            status_is(401, code="unauthorized"),
        ),
        Case(
            "zapier",
            "zapier",
            lambda: Call(
                "/hooks/zapier",
                urlencode({**api_offer(), "body_params": "Asha,30%"}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "X-Api-Key": ACME_KEY},
            ),
            lambda: Call(
                "/hooks/zapier",
                urlencode(api_offer() | {"body_params": "x"}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "X-Api-Key": wrong},
            ),
            connector_accepted(202),
            status_is(401, code="unauthorized"),
        ),
        Case(
            "hubspot_action",
            "hubspot",
            lambda: hubspot_action(hubspot_secret),
            lambda: hubspot_action("not-the-client-secret"),
            hubspot_success,
            status_is(401, code="invalid_signature"),
        ),
        Case(
            "hubspot_webhook",
            "hubspot",
            lambda: hubspot_webhook(hubspot_secret),
            lambda: hubspot_webhook("not-the-client-secret"),
            connector_accepted(202),
            status_is(401, code="invalid_signature"),
        ),
        Case(
            "clevertap",
            "clevertap",
            lambda: json_call(
                "/hooks/clevertap",
                text("clevertap/send-lto.json"),
                Authorization=basic(CLEVERTAP_USER, CLEVERTAP_PASSWORD),
            ),
            lambda: json_call(
                "/hooks/clevertap",
                text("clevertap/send-lto.json"),
                Authorization=basic(CLEVERTAP_USER, "guess"),
            ),
            status_is(200, status="success"),
            clevertap_failure(2000),
        ),
        Case(
            "clevertap_webhook",
            "clevertap",
            lambda: json_call(
                "/hooks/clevertap/webhook",
                text("clevertap/webhook-channel.json"),
                Authorization=basic(CLEVERTAP_USER, CLEVERTAP_PASSWORD),
            ),
            lambda: json_call(
                "/hooks/clevertap/webhook",
                text("clevertap/webhook-channel.json"),
                Authorization=basic(CLEVERTAP_USER, "guess"),
            ),
            status_is(200, status="success", accepted=2),
            status_is(401, code="unauthorized"),
            sends=2,
        ),
        Case(
            "webengage",
            "webengage",
            lambda: json_call(
                "/hooks/webengage",
                text("webengage/send-lto.json"),
                Authorization=f"Bearer {ACME_KEY}",
            ),
            lambda: json_call(
                "/hooks/webengage", text("webengage/send-lto.json"), Authorization=f"Bearer {wrong}"
            ),
            status_is(200, status="whatsapp_accepted", statusCode=0),
            status_is(401, status="whatsapp_rejected"),
        ),
        Case(
            "shopify",
            "shopify",
            shopify_webhook,
            lambda: shopify_webhook("not-the-app-secret"),
            connector_accepted(200),
            status_is(401, code="unauthorized"),
        ),
        Case(
            "shopify_flow",
            "shopify",
            lambda: shopify_call("/hooks/shopify/flow", "shopify/flow-action.json"),
            lambda: shopify_call(
                "/hooks/shopify/flow", "shopify/flow-action.json", secret="not-the-app-secret"
            ),
            connector_accepted(200),
            status_is(401, code="unauthorized"),
        ),
        Case(
            "salesforce",
            "salesforce",
            lambda: Call(
                "/hooks/salesforce",
                text("salesforce/outbound-message.xml"),
                {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
            ),
            lambda: Call(
                "/hooks/salesforce",
                text("salesforce/outbound-message.xml").replace(
                    b"00D5g000004ZkLm", b"00D000000000001"
                ),
                {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
            ),
            soap_ack,
            soap_fault(401),
            sends=2,  # two notifications, two messages
        ),
        Case(
            "leadsquared",
            "leadsquared",
            lambda: json_call(
                "/hooks/leadsquared",
                text("leadsquared/lead-webhook.json"),
                **{"X-Api-Key": ACME_KEY},
            ),
            lambda: json_call(
                "/hooks/leadsquared", text("leadsquared/lead-webhook.json"), **{"X-Api-Key": wrong}
            ),
            status_is(200, Status="Success"),
            status_is(200, Status="Error"),  # LeadSquared may disable a webhook answering 4xx
        ),
    ]
    for name in MAPPED:
        out.append(
            Case(
                name,
                name,
                lambda name=name: mapped(name),  # type: ignore[misc]
                lambda name=name: mapped(name, key=None if name != "eloqua" else wrong),  # type: ignore[misc]
                connector_accepted(200),
                status_is(401, code="unauthorized"),
            )
        )
    return out
