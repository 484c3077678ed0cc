"""Each platform's own contract beyond the shared suite: field mapping into the Kaleyra request,
the platform's error codes, and its special calls (CleverTap's validation, LeadSquared's HEAD,
Salesforce faults, WebEngage versions, Shopify's phone places)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveConnector, deliver_queued
from tests.kaleyra_fake import FakeKaleyra
from tests.platform_cases import (
    ACME_KEY,
    CLEVERTAP_PASSWORD,
    CLEVERTAP_USER,
    FIXTURES,
    OTHER_KEY,
    SHOP,
    Call,
    basic,
    json_call,
    mapped,
    shopify_sign,
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def components(kaleyra: FakeKaleyra) -> dict[str, Any]:
    (request,) = [r for r in kaleyra.sent if r.accepted]
    template = request.json["messaging_object"]["template"]
    out = {"name": template["name"], "to": request.json["messaging_object"]["to"]}
    for c in template["components"]:
        out[c["type"] + (f"_{c['sub_type']}" if "sub_type" in c else "")] = c
    return out


# --- CleverTap -------------------------------------------------------------------------------
def clevertap(body: Any, password: str = CLEVERTAP_PASSWORD) -> Call:
    raw = json.dumps(body).encode()
    return json_call("/hooks/clevertap", raw, Authorization=basic(CLEVERTAP_USER, password))


def test_clevertap_validation_call_is_answered_and_never_sent(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    response = clevertap(load("clevertap/validation-call.json")).send(tenants.base_url)
    assert response.status_code == 200 and response.json()["status"] == "success"
    unwrapped = load("clevertap/validation-call.json")["body"]  # older senders: unwrapped
    assert clevertap(unwrapped).send(tenants.base_url).json()["status"] == "success"
    wrong = clevertap(unwrapped, password="nope").send(tenants.base_url).json()
    assert wrong["status"] == "failure" and wrong["error"]["code"] == 2000
    assert tenants.runtime.store.count() == 0 and kaleyra.sent == []


def test_clevertap_components_become_the_lto_request(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    assert clevertap(load("clevertap/send-lto.json")).send(tenants.base_url).ok
    deliver_queued(tenants)
    sent = components(kaleyra)
    assert sent["to"] == "+919876543210" and sent["name"] == "diwali_lto_offer"
    assert sent["header"]["parameters"][0]["image"]["link"].endswith("diwali-2030.jpg")
    assert [p["text"] for p in sent["body"]["parameters"]] == ["Priya", "30%"]
    lto = sent["limited_time_offer"]["parameters"][0]["limited_time_offer"]
    assert lto["expiration_time_ms"] == 1924991999000
    assert sent["button_copy_code"]["parameters"][0]["coupon_code"] == "DIWALI30"
    assert sent["button_url"]["index"] == 1
    assert sent["button_url"]["parameters"][0]["text"] == "diwali30?src=wa"


def test_clevertap_failures_carry_its_codes(tenants: LiveConnector) -> None:
    bad_phone = load("clevertap/send-text-only.json") | {"to": "12"}
    answer = clevertap(bad_phone).send(tenants.base_url).json()
    assert answer["status"] == "failure" and answer["error"]["code"] == 2002
    assert "to" in answer["error"]["message"]
    bad_params = load("clevertap/send-lto.json")
    bad_params["components"][1]["body"]["parameters"][0]["text"] = "two\nlines"
    answer = clevertap(bad_params).send(tenants.base_url).json()
    assert answer["error"]["code"] == 2001
    assert "components.body.parameters" in answer["error"]["message"]


# --- WebEngage -------------------------------------------------------------------------------
def webengage(body: Any) -> Call:
    raw = json.dumps(body).encode()
    return json_call("/hooks/webengage", raw, Authorization=f"Bearer {ACME_KEY}")


def test_webengage_offer_expiry_comes_from_custom_data(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    assert webengage(load("webengage/send-text.json")).send(tenants.base_url).ok
    deliver_queued(tenants)
    lto = components(kaleyra)["limited_time_offer"]["parameters"][0]["limited_time_offer"]
    assert lto["expiration_time_ms"] == 1932748199000  # 2031-03-31T23:59:59+05:30


def test_webengage_unknown_version_and_invalid_number(tenants: LiveConnector) -> None:
    response = webengage(load("webengage/send-lto.json") | {"version": "2.0"}).send(
        tenants.base_url
    )
    assert response.status_code == 400
    assert response.json()["statusCode"] == 2010 and response.json()["supportedVersion"] == "1.0"
    body = load("webengage/send-lto.json")
    body["whatsAppData"]["toNumber"] = "5f2a9c0e1b7d"  # a hashed number cannot be sent
    answer = webengage(body).send(tenants.base_url).json()
    assert (
        answer
        == {
            "status": "whatsapp_rejected",
            "statusCode": 2003,
            "message": answer["message"],
            "sandbox": True,
        }
        or answer["statusCode"] == 2003
    )
    assert "whatsAppData.toNumber" in answer["message"]


# --- Shopify ---------------------------------------------------------------------------------
def shopify(fixture: str, webhook_id: str, **query: str) -> Call:
    body = (FIXTURES / fixture).read_bytes()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": shopify_sign(body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Topic": fixture.split("/")[1].removesuffix(".json").replace("-", "/"),
        "X-Shopify-Webhook-Id": webhook_id,
    }
    return Call("/hooks/shopify", body, headers, dict(query))


@pytest.mark.parametrize(
    ("fixture", "phone"),
    [
        ("shopify/orders-create.json", "+919876543210"),  # billing address
        ("shopify/customers-create.json", "+16135551111"),  # the customer
        ("shopify/checkouts-create.json", "+15024592181"),  # shipping address
    ],
)
def test_shopify_webhook_finds_the_phone_and_fills_query_templates(
    tenants: LiveConnector, kaleyra: FakeKaleyra, fixture: str, phone: str
) -> None:
    call = shopify(fixture, "w-1", template_name="lto_cart", body_1="{{email}}")
    assert call.send(tenants.base_url).status_code == 200
    deliver_queued(tenants)
    sent = components(kaleyra)
    assert sent["to"] == phone and sent["name"] == "lto_cart"
    assert "@" in sent["body"]["parameters"][0]["text"]


def test_shopify_record_without_phone_is_answered_200_with_the_reason(
    tenants: LiveConnector,
) -> None:
    body = load("shopify/orders-create.json")
    body["billing_address"]["phone"] = None
    raw = json.dumps(body).encode()
    call = Call(
        "/hooks/shopify",
        raw,
        {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": shopify_sign(raw),
         "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "w-2"},
    )  # fmt: skip
    response = call.send(tenants.base_url)
    assert response.status_code == 200  # a 4xx would only make Shopify retry, then give up
    assert response.json()["status"] == "not_sent" and "to" in response.json()["errors"]


def test_shopify_flow_properties_are_the_offer(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    body = (FIXTURES / "shopify/flow-action.json").read_bytes()
    call = json_call("/hooks/shopify/flow", body, **{"X-Shopify-Hmac-Sha256": shopify_sign(body)})
    assert call.send(tenants.base_url).status_code == 200
    deliver_queued(tenants)
    sent = components(kaleyra)
    assert sent["name"] == "lto_weekend_sale"
    assert sent["button_copy_code"]["parameters"][0]["coupon_code"] == "WEEKEND25"
    assert [p["text"] for p in sent["body"]["parameters"]] == ["Priya", "25%"]


# --- Salesforce ------------------------------------------------------------------------------
def salesforce(body: bytes) -> Call:
    return Call("/hooks/salesforce", body, {"Content-Type": "text/xml; charset=UTF-8"})


def test_salesforce_malformed_or_hostile_xml_gets_a_fault_never_an_ack(
    tenants: LiveConnector,
) -> None:
    good = (FIXTURES / "salesforce/outbound-message.xml").read_bytes()
    for body in (
        good[: len(good) // 2],
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'>"
        b"<soapenv:Body/></soapenv:Envelope>",
    ):
        response = salesforce(body).send(tenants.base_url)
        assert response.status_code == 400, response.text
        assert "<faultcode>soapenv:Client</faultcode>" in response.text
        assert "Ack" not in response.text
    assert tenants.runtime.store.count() == 0


def test_salesforce_fields_map_by_name(tenants: LiveConnector, kaleyra: FakeKaleyra) -> None:
    body = (FIXTURES / "salesforce/outbound-message.xml").read_bytes()
    assert "<Ack>true</Ack>" in salesforce(body).send(tenants.base_url).text
    deliver_queued(tenants)
    by_to = {r.json["messaging_object"]["to"]: r.json for r in kaleyra.sent}
    first = by_to["+919876543210"]["messaging_object"]["template"]
    assert first["name"] == "lto_festive_sale"
    kinds = {c["type"]: c for c in first["components"]}
    assert (
        kinds["limited_time_offer"]["parameters"][0]["limited_time_offer"]["expiration_time_ms"]
        == 1922293799000
    )  # 2030-11-30T18:29:59Z


# --- LeadSquared -----------------------------------------------------------------------------
def test_leadsquared_head_handshake_and_errors_always_200(tenants: LiveConnector) -> None:
    import requests

    head = requests.head(tenants.base_url + "/hooks/leadsquared", timeout=10)
    assert head.status_code == 200
    lead = load("leadsquared/lead-webhook.json") | {"Phone": None, "Mobile": None}
    call = json_call("/hooks/leadsquared", json.dumps(lead).encode(), **{"X-Api-Key": ACME_KEY})
    answer = call.send(tenants.base_url)
    assert answer.status_code == 200
    assert answer.json()["Status"] == "Error" and "to" in answer.json()["StatusReason"]


def test_leadsquared_form_body(tenants: LiveConnector, kaleyra: FakeKaleyra) -> None:
    from urllib.parse import urlencode

    form = urlencode({"ProspectID": "p-1", "FirstName": "Rahul", "Mobile": "+91-9876543210"})
    call = Call(
        "/hooks/leadsquared",
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "X-Api-Key": ACME_KEY},
        {"body_1": "{{FirstName}}"},
    )
    assert call.send(tenants.base_url).json()["Status"] == "Success"
    deliver_queued(tenants)
    sent = components(kaleyra)
    assert sent["to"] == "+919876543210" and sent["name"] == "lto_default"
    assert sent["body"]["parameters"][0]["text"] == "Rahul"


# --- mapped platforms and tenants ------------------------------------------------------------
def test_braze_mapping_fills_every_field(tenants: LiveConnector, kaleyra: FakeKaleyra) -> None:
    assert mapped("braze").send(tenants.base_url).status_code == 200
    deliver_queued(tenants)
    sent = components(kaleyra)
    request = load("mapped/braze-request.json")
    assert sent["name"] == request["offer"]["template"]
    assert sent["button_copy_code"]["parameters"][0]["coupon_code"] == request["offer"]["coupon"]
    assert sent["body"]["parameters"][1]["text"] == request["offer"]["discount"]


def test_a_missing_mapped_value_names_the_field_and_its_source(tenants: LiveConnector) -> None:
    body = load("mapped/braze-request.json")
    del body["user"]["phone"]
    call = mapped("braze")
    call.body = json.dumps(body).encode()
    response = call.send(tenants.base_url)
    assert response.status_code == 422
    assert "mapped from 'user.phone'" in response.json()["errors"]["to"][0]["message"]


def test_each_item_of_a_batch_is_one_message(
    start_tenants: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    def each_item(doc: dict[str, Any]) -> None:
        doc["connections"]["acme"]["mappings"]["eloqua"] = {
            "each": "items",
            "to": "MobilePhone",
            "template_name": {"value": "lto_weekly"},
            "body_params": ["{{FirstName}}"],
            "dedupe_key": "{{ContactID}}",
        }

    connector = start_tenants(each_item)
    items = [
        {"ContactID": "1", "FirstName": "Asha", "MobilePhone": "+91 98765 43210"},
        {"ContactID": "2", "FirstName": "Ravi", "MobilePhone": "+91 98765 43211"},
    ]
    body = json.dumps({"offset": 0, "limit": 2, "count": 2, "hasMore": False, "items": items})
    call = Call("/hooks/eloqua", body.encode(), {"Content-Type": "application/json"},
                {"api_key": ACME_KEY})  # fmt: skip
    answer = call.send(connector.base_url)
    assert answer.status_code == 200 and len(answer.json()["messages"]) == 2
    assert call.send(connector.base_url).status_code == 200  # redelivered: nothing new
    deliver_queued(connector)
    assert sorted(r.json["messaging_object"]["to"] for r in kaleyra.sent) == [
        "+919876543210",
        "+919876543211",
    ]


def test_the_callers_key_picks_its_connection(tenants: LiveConnector, kaleyra: FakeKaleyra) -> None:
    body = json.dumps({"to": "(415) 555-0142", "template_name": "lto_x", "expires_in": "1d"})
    answer = json_call("/v1/messages", body.encode(), **{"X-Api-Key": OTHER_KEY}).send(
        tenants.base_url
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["message_id"].startswith("sandbox-")  # "other" has no Kaleyra account
    event = tenants.runtime.store.get(answer.json()["id"])
    assert event is not None and event.offer["to"] == "+14155550142"  # other's region: US
    assert kaleyra.sent == []
    seen = tenants.get(f"/v1/events/{event.id}", headers={"X-Api-Key": ACME_KEY})
    assert seen.status_code == 404  # another tenant's event is not acme's to read


def test_clevertap_msg_id_is_the_dedupe_key(tenants: LiveConnector, kaleyra: FakeKaleyra) -> None:
    """Two campaigns may send the same content: distinct msgIds are two messages."""
    first = load("clevertap/send-lto.json")
    second = first | {"msgId": "48213377|1893456000|20301101|48213378"}
    for body in (first, second, first):
        assert clevertap(body).send(tenants.base_url).json()["status"] == "success"
    deliver_queued(tenants)
    assert len([r for r in kaleyra.sent if r.accepted]) == 2
