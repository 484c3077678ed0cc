"""Hostile input, through the running connector: never a 500, never an offer accepted that the
connector cannot encode, and every refusal in the caller's own format, naming the field.

Each test here reproduces something a fuzzing campaign found (issue 10); each failed before its
fix. A lone UTF-16 surrogate is what JavaScript platforms send when they cut a string in the
middle of an emoji: JSON's ``\\ud800`` decodes to a Python string that cannot become UTF-8.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.conftest import HUBSPOT_SECRET, LiveConnector
from tests.kaleyra_fake import FakeKaleyra
from tests.platform_cases import (
    ACME_KEY,
    CLEVERTAP_PASSWORD,
    CLEVERTAP_USER,
    FIXTURES,
    OTHER_KEY,
    SHOP,
    Call,
    api_offer,
    basic,
    json_call,
    shopify_sign,
)

CUT = "Pri\ud83d"  # "Pri😀" cut in the middle of the emoji: a lone high surrogate
NUL = "Pri\x00ya"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def raw(body: Any) -> bytes:
    """JSON as the platforms send it: a lone surrogate becomes the escape ``\\ud83d``."""
    return json.dumps(body).encode()


def api(connector: LiveConnector, body: Any, path: str = "/v1/messages", **headers: str) -> Any:
    return requests.post(
        connector.base_url + path,
        data=raw(body),
        headers={"Content-Type": "application/json", "X-Api-Key": ACME_KEY, **headers},
        timeout=30,
    )


def nothing_kept(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    assert connector.runtime.store.count() == 0
    assert kaleyra.sent == []


def field_codes(response: requests.Response) -> dict[str, list[str]]:
    return {k: [i["code"] for i in v] for k, v in response.json()["errors"].items()}


# --- text that cannot be encoded, or that WhatsApp refuses, is refused at the door -----------
TEXT_FIELDS = [
    ("body_params", ["Asha", CUT], "body_params.2"),
    ("coupon_code", CUT, "coupon_code"),
    ("url_param", CUT, "url_param"),
    ("ref", CUT, "ref"),
    ("ref1", CUT, "ref1"),
    ("ref2", CUT, "ref2"),
    ("idempotency_key", CUT, "idempotency_key"),
    ("to", "+91 98765 4321\ud800", "to"),
    ("language", "en\udc00", "language"),
    ("template_name", "lto\ud800", "template_name"),
    ("header_image_url", "https://cdn.example.com/\ud800.png", "header_image_url"),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("name", "value", "field"), TEXT_FIELDS, ids=[t[0] for t in TEXT_FIELDS])
def test_lone_surrogate_in_any_offer_field_is_refused_at_the_door(
    tenants: LiveConnector, kaleyra: FakeKaleyra, name: str, value: Any, field: str, mode: str
) -> None:
    headers = {"Prefer": "respond-async"} if mode == "async" else {}
    response = api(tenants, {**api_offer(), name: value}, **headers)
    assert response.status_code == 422, response.text
    assert field_codes(response)[field] == ["invalid_text"]
    assert "surrogate" in response.json()["message"]
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [("body_params", ["Asha", NUL], "body_params.2"), ("coupon_code", "SAVE\x0010", "coupon_code"),
     ("ref", NUL, "ref"), ("idempotency_key", NUL, "idempotency_key"),
     ("url_param", NUL, "url_param")],
)  # fmt: skip
def test_nul_character_is_refused_naming_the_field(
    tenants: LiveConnector, kaleyra: FakeKaleyra, name: str, value: Any, field: str
) -> None:
    response = api(tenants, {**api_offer(), name: value})
    assert response.status_code == 422, response.text
    assert field_codes(response)[field] == ["invalid_text"]
    assert "NUL" in response.json()["message"]
    nothing_kept(tenants, kaleyra)


def test_nul_in_a_form_field_is_refused(tenants: LiveConnector, kaleyra: FakeKaleyra) -> None:
    form = urlencode({**api_offer(), "body_params": "Asha,30%", "coupon_code": "SAVE\x0010"})
    response = requests.post(
        tenants.base_url + "/hooks/zapier",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Api-Key": ACME_KEY},
        timeout=30,
    )
    assert response.status_code == 422, response.text
    assert field_codes(response)["coupon_code"] == ["invalid_text"]
    nothing_kept(tenants, kaleyra)


# --- ... in each platform's own answer format ------------------------------------------------
CLEVERTAP_AUTH = {"Authorization": basic(CLEVERTAP_USER, CLEVERTAP_PASSWORD)}
BEARER = {"Authorization": f"Bearer {ACME_KEY}"}


def changed(fixture: str, change: Any) -> bytes:
    """A platform's documented payload with ``change`` applied, as the bytes it posts."""
    body = load(fixture)
    change(body)
    return raw(body)


def clevertap(body: Any) -> Call:
    return json_call("/hooks/clevertap", raw(body), **CLEVERTAP_AUTH)


def clevertap_with(change: Any) -> Call:
    return json_call("/hooks/clevertap", changed("clevertap/send-lto.json", change),
                     **CLEVERTAP_AUTH)  # fmt: skip


def webengage_with(change: Any) -> Call:
    return json_call("/hooks/webengage", changed("webengage/send-lto.json", change), **BEARER)


def hubspot_with(change: Any) -> Call:
    data = changed("hubspot/action-execution.json", change)
    return json_call("/hooks/hubspot/action", data, **{"X-HubSpot-Signature-v3": HUBSPOT_SECRET})


def flow_with(change: Any) -> Call:
    data = changed("shopify/flow-action.json", change)
    return json_call("/hooks/shopify/flow", data, **{"X-Shopify-Hmac-Sha256": shopify_sign(data)})


def shopify_with(change: Any) -> Call:
    data = changed("shopify/orders-create.json", change)
    call = json_call(
        "/hooks/shopify",
        data,
        **{"X-Shopify-Hmac-Sha256": shopify_sign(data), "X-Shopify-Shop-Domain": SHOP,
           "X-Shopify-Webhook-Id": "w-hostile"},
    )  # fmt: skip
    call.query = {"body_1": "{{customer.first_name}}"}
    return call


def leadsquared_with(change: Any) -> Call:
    data = changed("leadsquared/lead-webhook.json", change)
    call = json_call("/hooks/leadsquared", data, **{"X-Api-Key": ACME_KEY})
    call.query = {"body_1": "{{FirstName}}"}
    return call


def braze_with(change: Any) -> Call:
    return json_call("/hooks/braze", changed("mapped/braze-request.json", change), **BEARER)


def clevertap_webhook_with(change: Any) -> Call:
    data = changed("clevertap/webhook-channel.json", change)
    return json_call("/hooks/clevertap/webhook", data, **CLEVERTAP_AUTH)


def set_at(*path: Any, value: Any = CUT) -> Any:
    def change(body: Any) -> None:
        for key in path[:-1]:
            body = body[key]
        body[path[-1]] = value

    return change


def clevertap_refused(code: int, *names: str) -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "failure" and body["error"]["code"] == code, body
        for name in names:
            assert name in body["error"]["message"], body

    return check


def webengage_rejected(code: int, *names: str) -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "whatsapp_rejected" and body["statusCode"] == code, body
        for name in names:
            assert name in body["message"], body

    return check


def hubspot_failed(code: str, name: str) -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text
        output = response.json()["outputFields"]
        assert output["hs_execution_state"] == "FAIL_CONTINUE", output
        assert output["errorCode"] == code and output["errorMessage"].startswith(name), output

    return check


def connector_error(status: int, field: str, code: str = "invalid_text") -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == status, response.text
        assert code in field_codes(response)[field], response.text

    return check


def shopify_not_sent(field: str) -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "not_sent" and field in body["errors"], body
        assert body["errors"][field][0]["code"] == "invalid_text"

    return check


def leadsquared_error(field: str) -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["Status"] == "Error" and body["code"] == "invalid_text", body
        assert field in body["errors"], body

    return check


def profile_not_sent(field: str) -> Any:
    def check(response: requests.Response) -> None:
        assert response.status_code == 200, response.text
        first = response.json()["messages"][0]
        assert first["status"] == "not_sent" and first["code"] == "invalid_text", first
        assert field in first["errors"], first

    return check


PLATFORM_CASES = {
    "clevertap-body": (
        clevertap_with(set_at("components", 1, "body", "parameters", 0, "text")),
        clevertap_refused(2001, "components.body.parameters.1"),
    ),
    "clevertap-msgId": (
        clevertap_with(set_at("msgId")),
        clevertap_refused(2001, "msgId"),
    ),
    "webengage-variables": (
        webengage_with(set_at("whatsAppData", "templateData", "templateVariables", 1)),
        webengage_rejected(2021, "templateData.templateVariables.2"),
    ),
    "webengage-messageId": (
        webengage_with(set_at("metadata", "messageId")),
        webengage_rejected(2022, "metadata.messageId"),
    ),
    "hubspot-input": (
        hubspot_with(set_at("inputFields", "coupon_code")),
        hubspot_failed("INVALID_OFFER", "coupon_code"),
    ),
    "hubspot-callbackId": (
        hubspot_with(set_at("callbackId")),
        hubspot_failed("INVALID_OFFER", "callbackId"),
    ),
    "flow-property": (
        flow_with(set_at("properties", "coupon_code")),
        connector_error(422, "coupon_code"),
    ),
    "flow-action_run_id": (
        flow_with(set_at("action_run_id")),
        connector_error(422, "action_run_id"),
    ),
    "shopify-record": (
        shopify_with(set_at("customer", "first_name")),
        shopify_not_sent("body_params.1"),
    ),
    "leadsquared-lead": (
        leadsquared_with(set_at("FirstName")),
        leadsquared_error("body_params.1"),
    ),
    "braze-mapped": (
        braze_with(set_at("offer", "coupon")),
        connector_error(422, "coupon_code"),
    ),
    "braze-dedupe-key": (
        braze_with(set_at("user", "external_id")),
        connector_error(422, "dedupe_key"),
    ),
    "clevertap_webhook-profile": (
        clevertap_webhook_with(set_at("profiles", 0, "key_values", "body_1")),
        profile_not_sent("body_params.1"),
    ),
    "clevertap_webhook-objectId": (
        clevertap_webhook_with(set_at("profiles", 0, "objectId")),
        profile_not_sent("objectId"),
    ),
}


@pytest.mark.parametrize("name", list(PLATFORM_CASES))
def test_lone_surrogate_is_refused_in_the_platforms_own_format(
    tenants: LiveConnector, kaleyra: FakeKaleyra, name: str
) -> None:
    call, check = PLATFORM_CASES[name]
    check(call.send(tenants.base_url))
    if not name.startswith("clevertap_webhook"):  # its other profile is fine and was taken
        nothing_kept(tenants, kaleyra)
    assert kaleyra.sent == []


# --- the error answer itself must never fail -------------------------------------------------
@pytest.mark.parametrize(
    ("path", "key"),
    [("/v1/messages", ACME_KEY), ("/hooks/zapier", ACME_KEY), ("/hooks/braze", OTHER_KEY)],
)
def test_lone_surrogate_in_a_json_key_gets_an_answer_naming_it(
    tenants: LiveConnector, kaleyra: FakeKaleyra, path: str, key: str
) -> None:
    response = api(tenants, {**api_offer(), "coupon\ud800": "X"}, path, **{"X-Api-Key": key})
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/json"
    response.content.decode("utf-8")  # strict UTF-8: the surrogate was replaced, not emitted
    assert field_codes(response) == {"coupon\ufffd": ["unknown_field"]}
    nothing_kept(tenants, kaleyra)


# --- malformed platform bodies: the platform's own refusal, never a 500 ----------------------
@pytest.mark.parametrize("domain", [5, 1.5, True, {"shop": SHOP}, [SHOP]])
def test_shopify_flow_with_a_shop_domain_that_is_not_text_is_refused(
    tenants: LiveConnector, kaleyra: FakeKaleyra, domain: Any
) -> None:
    response = flow_with(set_at("shopify_domain", value=domain)).send(tenants.base_url)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("depth", [70, 980, 5000])
def test_shopify_flow_nested_deeply_is_refused_before_authentication(
    tenants: LiveConnector, depth: int
) -> None:
    data = b'{"shopify_domain":' * depth + b"1" + b"}" * depth
    call = json_call("/hooks/shopify/flow", data, **{"X-Shopify-Hmac-Sha256": shopify_sign(data)})
    response = call.send(tenants.base_url)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("value", ["soon", 1924991999000, ["x"], "expiration_time_ms"])
def test_clevertap_limited_time_offer_that_is_not_an_object_is_a_template_failure(
    tenants: LiveConnector, kaleyra: FakeKaleyra, value: Any
) -> None:
    call = clevertap_with(
        set_at("components", 2, "parameters", 0, "limited_time_offer", value=value)
    )
    check = clevertap_refused(2001, "components.2.parameters.0.limited_time_offer")
    check(call.send(tenants.base_url))
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("control", ["header_type", "expiry_type"])
@pytest.mark.parametrize("value", [{"option": "image"}, ["image"], 3])
def test_hubspot_choice_that_is_not_text_fails_the_action_naming_it(
    tenants: LiveConnector, kaleyra: FakeKaleyra, control: str, value: Any
) -> None:
    response = hubspot_with(set_at("inputFields", control, value=value)).send(tenants.base_url)
    hubspot_failed("INVALID_OFFER", control)(response)
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("portal", [b"Infinity", b"-Infinity", b"NaN", b"1e400"])
def test_nan_infinity_or_an_overflowing_number_is_malformed_json(
    tenants: LiveConnector, portal: bytes
) -> None:
    data = (FIXTURES / "hubspot/action-execution.json").read_bytes()
    data = data.replace(b"102670506,", portal + b",")
    call = json_call("/hooks/hubspot/action", data, **{"X-HubSpot-Signature-v3": HUBSPOT_SECRET})
    response = call.send(tenants.base_url)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_body"


@pytest.mark.parametrize("encoding", [b"klingon", b"utf-16", b"x" * 300])
def test_salesforce_xml_in_an_unknown_encoding_gets_a_soap_fault(
    tenants: LiveConnector, encoding: bytes
) -> None:
    data = (FIXTURES / "salesforce/outbound-message.xml").read_bytes()
    data = data.replace(b'encoding="UTF-8"', b'encoding="' + encoding + b'"')
    response = Call("/hooks/salesforce", data, {"Content-Type": "text/xml"}).send(tenants.base_url)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    assert "<faultcode>soapenv:Client</faultcode>" in response.text
    assert tenants.runtime.store.count() == 0


def salesforce_batch(count: int) -> bytes:
    text = (FIXTURES / "salesforce/outbound-message.xml").read_text()
    start, end = text.index("<Notification>"), text.index("</Notification>") + 15
    one = text[start:end]
    batch = "".join(
        one.replace("04l5g00000Gx7QzAAJ", f"04l5g0000{i:05d}AAJ").replace(
            "+91 98765 43210", f"+91 98765 {i:05d}"
        )
        for i in range(count)
    )
    return (text[:start] + batch + text[text.index("</notifications>") :]).encode()


def test_salesforce_more_than_100_notifications_are_refused_whole(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    call = Call("/hooks/salesforce", salesforce_batch(101), {"Content-Type": "text/xml"})
    response = call.send(tenants.base_url)
    assert response.status_code == 400, response.text
    assert "Fault>" in response.text and "Ack" not in response.text
    assert "100" in response.text and "Notification" in response.text
    nothing_kept(tenants, kaleyra)
    exactly = Call("/hooks/salesforce", salesforce_batch(100), {"Content-Type": "text/xml"})
    assert "<Ack>true</Ack>" in exactly.send(tenants.base_url).text
    assert tenants.runtime.store.count() == 100


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
@pytest.mark.parametrize("depth", [70, 980, 5000])
def test_leadsquared_nested_deeply_is_still_answered_200(
    tenants: LiveConnector, content_type: str, depth: int
) -> None:
    data = b'{"Lead":' * depth + b"1" + b"}" * depth
    call = Call("/hooks/leadsquared", data, {"Content-Type": content_type, "X-Api-Key": ACME_KEY})
    response = call.send(tenants.base_url)
    assert response.status_code == 200, response.text
    assert response.json()["Status"] == "Error" and response.json()["code"] == "malformed_body"


@pytest.mark.parametrize("path", ["/v1/messages", "/hooks/zapier", "/hooks/braze"])
@pytest.mark.parametrize("depth", [70, 965, 970, 975])
def test_json_nested_beyond_any_platforms_shape_is_a_400(
    tenants: LiveConnector, path: str, depth: int
) -> None:
    data = json.dumps(api_offer())[:-1] + ', "x": ' + '{"a":' * depth + "1" + "}" * depth + "}"
    response = requests.post(
        tenants.base_url + path,
        data=data,
        headers={"Content-Type": "application/json", "X-Api-Key": ACME_KEY},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_body"
    assert "nested" in response.json()["message"]


@pytest.mark.parametrize("path", ["/v1/messages", "/hooks/zapier"])
@pytest.mark.parametrize("depth", [2000, 100_000])
def test_body_params_as_a_deeply_nested_array_string_is_one_literal_value(
    tenants: LiveConnector, kaleyra: FakeKaleyra, path: str, depth: int
) -> None:
    """A string that is not a readable JSON array is one body variable (``[Sale] 20% off``),
    however deep its brackets go: here one too long for WhatsApp."""
    response = api(tenants, {**api_offer(), "body_params": "[" * depth}, path)
    assert response.status_code == 422, response.text
    assert field_codes(response) == {"body_params.1": ["too_long"]}
    nothing_kept(tenants, kaleyra)


# --- HTTP itself -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("GET", "/v1/messages", {"POST"}), ("PUT", "/hooks/leadsquared", {"POST", "HEAD"}),
     ("POST", "/healthz", {"GET", "HEAD"}), ("DELETE", "/v1/events/evt_1", {"GET", "HEAD"})],
)  # fmt: skip
def test_405_names_the_allowed_methods(
    connector: LiveConnector, method: str, path: str, allowed: set[str]
) -> None:
    response = requests.request(method, connector.base_url + path, timeout=30)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_body_too_large_is_refused_in_each_platforms_own_format(tenants: LiveConnector) -> None:
    big = b'{"a":"' + b"x" * (1024 * 1024) + b'"}'
    url = tenants.base_url

    def post(path: str, **headers: str) -> requests.Response:
        return requests.post(url + path, data=big, headers=headers, timeout=30)

    lead = post("/hooks/leadsquared", **{"X-Api-Key": ACME_KEY})
    assert lead.status_code == 200 and lead.json()["Status"] == "Error"  # never a 4xx
    assert lead.json()["code"] == "request_entity_too_large"
    soap = post("/hooks/salesforce", **{"Content-Type": "text/xml"})
    assert soap.status_code == 400 and "<faultcode>soapenv:Client</faultcode>" in soap.text
    ct = post("/hooks/clevertap", Authorization=basic(CLEVERTAP_USER, CLEVERTAP_PASSWORD))
    assert ct.status_code == 200 and ct.json()["status"] == "failure"
    api_answer = post("/v1/messages", **{"X-Api-Key": ACME_KEY})
    assert api_answer.status_code == 413 and api_answer.json()["status"] == 413


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_template_name_is_refused_not_sent_to_kaleyra(
    tenants: LiveConnector, kaleyra: FakeKaleyra, blank: str
) -> None:
    response = requests.post(
        tenants.base_url + "/v1/messages",
        json={**api_offer(), "template_name": blank},
        headers={"X-Api-Key": OTHER_KEY},  # a connection without a default template
        timeout=30,
    )
    assert response.status_code == 422, response.text
    assert field_codes(response) == {"template_name": ["empty"]}
    nothing_kept(tenants, kaleyra)


# --- found by the connector's own fuzzing (issue 10, part 7) ---------------------------------
@pytest.mark.parametrize(
    "path", ["/hooks/clevertap", "/hooks/clevertap/webhook", "/hooks/webengage"]
)
@pytest.mark.parametrize("credentials", [b"\xe9\xe9", b"\xff", b"\xc3\xa9==", b"=", b"a" * 5])
def test_basic_credentials_that_are_not_base64_ascii_are_refused_as_credentials(
    tenants: LiveConnector, kaleyra: FakeKaleyra, path: str, credentials: bytes
) -> None:
    """A Basic header holding bytes outside ASCII made base64 raise ValueError (a 500)."""
    data = (FIXTURES / "clevertap/send-lto.json").read_bytes()
    answer = raw_post(tenants, path, {b"Authorization": b"Basic " + credentials}, data)
    assert answer.status < 500, answer.body
    body = json.loads(answer.body)
    if path == "/hooks/clevertap":
        assert answer.status == 200 and body["error"]["code"] == 2000
    elif path == "/hooks/webengage":
        assert answer.status == 401 and body["status"] == "whatsapp_rejected"
    else:
        assert answer.status == 401 and body["code"] == "unauthorized"
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("stamp", [b"\xb2", b"\xb9\xb2\xb3", b"17\xbd"])
def test_hubspot_timestamp_of_non_ascii_digits_is_refused_not_a_500(
    tenants: LiveConnector, stamp: bytes
) -> None:
    """'²' is a digit to str.isdigit() but not to int(): the check let it through (a 500)."""
    data = (FIXTURES / "hubspot/action-execution.json").read_bytes()
    headers = {b"X-HubSpot-Signature-v3": b"abc", b"X-HubSpot-Request-Timestamp": stamp}
    answer = raw_post(tenants, "/hooks/hubspot/action", headers, data)
    assert answer.status == 401, answer.body
    assert json.loads(answer.body)["code"] == "invalid_signature"


@pytest.mark.parametrize("placeholder", ["{{}}", "{{ }}", "{{.}}", "{{a..b}}"])
def test_a_query_placeholder_that_is_not_a_path_is_refused_naming_it(
    tenants: LiveConnector, kaleyra: FakeKaleyra, placeholder: str
) -> None:
    """``{{}}`` resolved to the whole record: its text (phone numbers included) became the
    body variable, silently, whenever it fit."""
    lead = {"ProspectID": "p-1", "FirstName": "Rahul", "Mobile": "+919876543210"}
    call = json_call("/hooks/leadsquared", raw(lead), **{"X-Api-Key": ACME_KEY})
    call.query = {"body_1": placeholder}
    answer = call.send(tenants.base_url)
    assert answer.status_code == 200 and answer.json()["Status"] == "Error", answer.text
    assert field_codes(answer) == {"body_1": ["invalid_placeholder"]}
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("event_id", ["%00", "evt_%00", "%ff", "x" * 300])
def test_an_event_id_that_cannot_be_one_is_a_404_on_postgresql(
    start_connector: Any, pg_url: str, event_id: str
) -> None:
    """PostgreSQL refuses a NUL in a query parameter: /v1/events/%00 was a 500 there."""
    connector = start_connector(database_url=pg_url)
    for method, path in (("GET", f"/v1/events/{event_id}"),
                         ("POST", f"/v1/events/{event_id}/replay")):  # fmt: skip
        answer = raw_post(connector, path, {b"X-Api-Key": b"test-connector-key"}, b"", method)
        assert answer.status in (401, 404), answer.body
    assert connector.runtime.store.count() == 0


class RawAnswer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


def raw_post(
    connector: LiveConnector,
    path: str,
    headers: dict[bytes, bytes],
    body: bytes,
    method: str = "POST",
) -> RawAnswer:
    """A request with header bytes as given (requests would refuse to send some of them)."""
    import http.client

    host, port = connector.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in {b"Content-Type": b"application/json", **headers}.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    answer = RawAnswer(response.status, response.read())
    conn.close()
    return answer


@pytest.mark.parametrize("placeholder", ["{{}}", "{{ }}", "{{firstname", "{{properties}}x{{"])
def test_hubspot_webhook_query_placeholder_that_is_not_a_property_is_refused(
    tenants: LiveConnector, kaleyra: FakeKaleyra, placeholder: str
) -> None:
    """HubSpot's own filler skipped what it could not read, leaving '{{}}' in the message."""
    call = json_call(
        "/hooks/hubspot/webhook",
        (FIXTURES / "hubspot/webhook-contact-legacy.json").read_bytes(),
        **{"X-HubSpot-Signature-v3": HUBSPOT_SECRET},
    )
    call.query = {"portalId": "102670506", "template_name": "lto_summer", "body_1": placeholder}
    answer = call.send(tenants.base_url)
    assert answer.status_code == 422, answer.text
    assert field_codes(answer) == {"body_1": ["invalid_placeholder"]}
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("value", [{"first": "Priya"}, ["Priya"]])
def test_clevertap_webhook_key_value_that_is_not_text_is_refused_not_stringified(
    tenants: LiveConnector, kaleyra: FakeKaleyra, value: Any
) -> None:
    """A key-value pair's object or list became its Python repr ("{'first': 'Priya'}") in the
    message; found by fuzzing the Webhooks channel."""
    body = load("clevertap/webhook-channel.json")
    body["key_values"]["body_2"] = value
    for profile in body["profiles"]:
        profile["key_values"].pop("body_2", None)
    answer = clevertap_webhook_with(lambda b: b.update(body)).send(tenants.base_url)
    assert answer.status_code == 200, answer.text
    for outcome in answer.json()["messages"]:
        assert outcome["status"] == "not_sent", outcome
        assert outcome["errors"]["key_values.body_2"][0]["code"] == "invalid_type"
    nothing_kept(tenants, kaleyra)


@pytest.mark.parametrize("variable", [{"name": "Priya"}, ["Priya"], None])
def test_webengage_template_variable_that_is_not_text_is_refused_not_stringified(
    tenants: LiveConnector, kaleyra: FakeKaleyra, variable: Any
) -> None:
    """str() turned an object variable into its repr ("{'name': 'Priya'}"), and sent it."""
    change = set_at("whatsAppData", "templateData", "templateVariables", 0, value=variable)
    answer = webengage_with(change).send(tenants.base_url)
    webengage_rejected(2021, "templateData.templateVariables.1")(answer)
    nothing_kept(tenants, kaleyra)
