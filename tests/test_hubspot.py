"""HubSpot: custom workflow actions and the workflow "Send a webhook" action, over real HTTP.

Requests are signed here the way HubSpot documents it (independently of ``connector.signatures``),
sent to the running connector, and relayed to the loopback Kaleyra.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.signatures import hubspot_uri, hubspot_v1, hubspot_v2, hubspot_v3
from tests.conftest import CONNECTOR_KEY, HUBSPOT_SECRET, LiveConnector
from tests.kaleyra_fake import FakeKaleyra
from tests.test_payload import components as components_of
from tests.test_payload import page_sample

ACTION = "/hooks/hubspot/action"
WEBHOOK = "/hooks/hubspot/webhook"
FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"  # HubSpot's docs and SDK tests
# the escapes HubSpot's v3 rule decodes in the request URI, and nothing else
V3_DECODED = dict(
    zip("%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B".split(), ":/?@!$'()*,;", strict=True)
)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def signed(
    url: str,
    body: bytes,
    *,
    version: str = "v3",
    secret: str = HUBSPOT_SECRET,
    ts: int | None = None,
) -> dict[str, str]:
    """The headers HubSpot sends with a request to ``url`` (v3 per the docs' steps, or v2)."""
    headers = {"Content-Type": "application/json"}
    if version == "v2":
        source = (secret + "POST" + url).encode() + body
        headers["X-HubSpot-Signature"] = hashlib.sha256(source).hexdigest()
        headers["X-HubSpot-Signature-Version"] = "v2"
        return headers
    stamp = str(now_ms() if ts is None else ts)
    for escaped, char in V3_DECODED.items():
        url = url.replace(escaped, char)
    digest = hmac.new(secret.encode(), b"POST" + url.encode() + body + stamp.encode(), "sha256")
    headers["X-HubSpot-Signature-v3"] = base64.b64encode(digest.digest()).decode()
    headers["X-HubSpot-Request-Timestamp"] = stamp
    return headers


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def send(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=30)


def run_action(connector: LiveConnector, payload: dict[str, Any], **sign: Any) -> requests.Response:
    """POST ``payload`` to the action URL, signed (v3 by default) over that URL."""
    url, body = connector.base_url + ACTION, encode(payload)
    return send(url, body, signed(url, body, **sign))


def outputs(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["outputFields"]
    return result


def with_inputs(name: str = "action-execution.json", **inputs: Any) -> dict[str, Any]:
    payload = fixture(name)
    payload["inputFields"].update(inputs)
    payload["inputFields"] = {k: v for k, v in payload["inputFields"].items() if v is not None}
    return payload


# --- 1. HubSpot's published signature vectors -----------------------------------------------


def test_v1_vector_from_hubspot_docs() -> None:
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert hubspot_v1(DOC_SECRET, body) == expected


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [
        ("GET", b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),
        (
            "POST",
            b'{"example_field":"example_value"}',
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
        ),
    ],
)
def test_v2_vectors_from_hubspot_docs(method: str, body: bytes, expected: str) -> None:
    assert hubspot_v2(DOC_SECRET, method, "https://www.example.com/webhook_uri", body) == expected


def test_python_sdk_vectors_v1_v2_v3() -> None:
    """HubSpot/hubspot-api-python tests/spec/utils/test_signature.py (single-quoted body)."""
    body, uri = b"{'example_field':'example_value'}", "https://www.example.com/webhook_uri"
    assert hubspot_v3(DOC_SECRET, "POST", uri, body, "15000000") == (
        "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
    )
    assert hubspot_v1(DOC_SECRET, body) == (
        "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    )
    assert hubspot_v2(DOC_SECRET, "POST", uri, body) == (
        "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
    )


def test_v3_uri_decodes_only_the_twelve_listed_escapes() -> None:
    listed = "".join(V3_DECODED)
    assert (
        hubspot_uri(f"https://example.com/p?x={listed}") == "https://example.com/p?x=:/?@!$'()*,;"
    )
    kept = "https://example.com/p?q=a%20b%26c%3Dd%25e%2Bf%23g%7B%7D"
    assert hubspot_uri(kept) == kept
    raw = "https://example.com/hook?src=hs%3Aapp%2Fv3&x=%28a%29&q=a%20b%26c"
    assert hubspot_uri(raw) == "https://example.com/hook?src=hs:app/v3&x=(a)&q=a%20b%26c"
    # the signature is taken over the decoded URI, not the raw one
    body, ts = b'{"a":1}', "1700000000000"
    assert hubspot_v3(DOC_SECRET, "POST", raw, body, ts) == (
        "1n4DWFJ1PQC5mBUrnyVeKoQXRFKvKct5GcLrjn0j4Nc="
    )


# --- 2. the custom workflow action ----------------------------------------------------------


def test_action_sends_the_offer_and_answers_success(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    out = outputs(run_action(connector, fixture("action-execution.json")))

    assert out["hs_execution_state"] == "SUCCESS"
    assert isinstance(out["message_id"], str) and out["message_id"]
    assert len(kaleyra.requests) == len(kaleyra.sent) == 1
    sent = kaleyra.sent[0].json
    assert sent["extra_info"]["wa_source"] == "hubspot"
    message = sent["messaging_object"]
    assert message["to"] == "+919876543210"  # the "to" input wins over object.properties
    assert message["template"]["name"] == "lto_summer"
    assert message["template"]["language"] == {"code": "en_US"}
    # the API page's sample without its header image, ending when the input said
    assert message["template"]["components"] == components_of(page_sample(4102444799000))[1:]


def test_action_url_with_query_string_is_signed_with_hubspots_decoding(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    url = connector.base_url + ACTION + "?src=hs%3Aapp%2Fv3&x=%28a%29&note=a%20b%26c"
    body = encode(fixture("action-execution.json"))

    response = send(url, body, signed(url, body))

    assert outputs(response)["hs_execution_state"] == "SUCCESS"
    assert len(kaleyra.sent) == 1


def test_action_with_body_params_and_expires_in(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    before = now_ms()
    out = outputs(run_action(connector, fixture("action-execution-properties.json")))

    assert out["hs_execution_state"] == "SUCCESS"
    components = kaleyra.sent[0].json["messaging_object"]["template"]["components"]
    assert [p["text"] for p in components[0]["parameters"]] == ["Ann", "WELCOME10"]
    expiry = components[1]["parameters"][0]["limited_time_offer"]["expiration_time_ms"]
    assert before + 14 * 86_400_000 <= expiry <= now_ms() + 14 * 86_400_000


# --- 3. signatures --------------------------------------------------------------------------


def test_wrong_secret_is_refused(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    response = run_action(
        connector, fixture("action-execution.json"), secret="zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert kaleyra.requests == []


def test_body_tampered_after_signing_is_refused(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    url = connector.base_url + ACTION
    body = encode(fixture("action-execution.json"))
    tampered = body.replace(b"+91 98765 43210", b"+91 90000 00001")
    assert tampered != body

    response = send(url, tampered, signed(url, body))

    assert response.status_code == 401
    assert kaleyra.requests == []


@pytest.mark.parametrize(
    ("offset_ms", "status"),
    [(-301_000, 401), (+301_000, 401), (-299_000, 200), (+299_000, 200)],
    ids=["older-than-5-min", "5-min-in-future", "just-inside-past", "just-inside-future"],
)
def test_v3_timestamp_must_be_within_five_minutes(
    start_connector: Callable[..., LiveConnector],
    kaleyra: FakeKaleyra,
    offset_ms: int,
    status: int,
) -> None:
    frozen = now_ms()
    connector = start_connector(clock=lambda: frozen)

    response = run_action(connector, fixture("action-execution.json"), ts=frozen + offset_ms)

    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["code"] == "stale_signature"
    assert len(kaleyra.sent) == (1 if status == 200 else 0)


def test_v2_signature_alone_is_accepted(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    response = run_action(connector, fixture("action-execution.json"), version="v2")

    assert outputs(response)["hs_execution_state"] == "SUCCESS"
    assert len(kaleyra.sent) == 1


def test_v2_signature_over_another_body_is_refused(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    url = connector.base_url + ACTION
    body = encode(fixture("action-execution.json"))
    headers = signed(url, body.replace(b"CARIBE25", b"CARIBE99"), version="v2")

    assert send(url, body, headers).status_code == 401
    assert kaleyra.requests == []


def test_behind_a_proxy_the_public_https_url_is_what_hubspot_signed(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    body = encode(fixture("action-execution.json"))
    headers = signed("https://hooks.example.com" + ACTION, body)
    headers |= {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"}

    response = send(connector.base_url + ACTION, body, headers)

    assert outputs(response)["hs_execution_state"] == "SUCCESS"
    assert len(kaleyra.sent) == 1


def test_configured_public_url_is_what_hubspot_signed(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    connector = start_connector(public_url="https://public.example.com")
    body = encode(fixture("action-execution.json"))

    response = send(
        connector.base_url + ACTION, body, signed("https://public.example.com" + ACTION, body)
    )

    assert outputs(response)["hs_execution_state"] == "SUCCESS"
    assert len(kaleyra.sent) == 1


# --- 4. mapping from the CRM record ---------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (
            {
                "hs_whatsapp_phone_number": "+91 99887 76655",
                "mobilephone": "+91 98765 43210",
                "phone": "+91 91234 56789",
            },
            "+919988776655",
        ),
        (
            {"hs_whatsapp_phone_number": "", "mobilephone": "+91 98765 43210", "phone": "x"},
            "+919876543210",
        ),
        ({"phone": "+91 91234 56789"}, "+919123456789"),
        ({"mobilephone": "098765 43210"}, "+919876543210"),  # national: default region IN
        ({"phone": "98765 43210"}, "+919876543210"),
    ],
    ids=["whatsapp-first", "then-mobilephone", "then-phone", "national-0", "national-bare"],
)
def test_phone_comes_from_the_record_when_no_to_input(
    connector: LiveConnector, kaleyra: FakeKaleyra, properties: dict[str, str], expected: str
) -> None:
    payload = fixture("action-execution-properties.json")
    payload["object"]["properties"] = {"email": "ann@example.com", **properties}

    assert outputs(run_action(connector, payload))["hs_execution_state"] == "SUCCESS"
    assert kaleyra.sent[0].json["messaging_object"]["to"] == expected


@pytest.mark.parametrize("key", ["to", "whatsapp_number", "phone_number", "To", "Phone Number"])
def test_mapped_recipient_is_never_replaced_by_the_records_phone(
    connector: LiveConnector, kaleyra: FakeKaleyra, key: str
) -> None:
    payload = fixture("action-execution.json")  # object.properties.mobilephone is +91 91234 56789
    payload["inputFields"][key] = payload["inputFields"].pop("to")

    assert outputs(run_action(connector, payload))["hs_execution_state"] == "SUCCESS"
    assert kaleyra.sent[0].json["messaging_object"]["to"] == "+919876543210"


def test_national_to_input_uses_default_region(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    outputs(run_action(connector, with_inputs(to="98765 43210")))

    assert kaleyra.sent[0].json["messaging_object"]["to"] == "+919876543210"


# --- 5. business errors and transient failures ----------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "code", "field"),
    [
        ({"to": "12345"}, "INVALID_PHONE", "to"),
        ({"coupon_code": "SIXTEEN_CHARS_XX"}, "INVALID_OFFER", "coupon_code"),
        ({"expires_at": "1209600000"}, "INVALID_OFFER", "expires_at"),
    ],
    ids=["bad-phone", "coupon-16-chars", "expiry-in-seconds"],
)
def test_invalid_input_fails_the_action_and_sends_nothing(
    connector: LiveConnector,
    kaleyra: FakeKaleyra,
    inputs: dict[str, str],
    code: str,
    field: str,
) -> None:
    out = outputs(run_action(connector, with_inputs(**inputs)))

    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == code
    assert field in out["errorMessage"]
    assert kaleyra.requests == []


def test_no_phone_anywhere_is_invalid_phone(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    payload = fixture("action-execution-properties.json")
    payload["object"]["properties"] = {"email": "ann@example.com"}

    out = outputs(run_action(connector, payload))

    assert (out["hs_execution_state"], out["errorCode"]) == ("FAIL_CONTINUE", "INVALID_PHONE")
    assert kaleyra.requests == []


@pytest.mark.parametrize(
    ("kaleyra_code", "error_code"),
    [
        ("WA400", "KALEYRA_REJECTED"),
        ("RBC001", "KALEYRA_ACCOUNT_ERROR"),
        ("WA401", "KALEYRA_ACCOUNT_ERROR"),
        ("E110", "KALEYRA_LOW_BALANCE"),
    ],
)
def test_kaleyra_refusal_fails_the_action_with_a_labelled_code(
    connector: LiveConnector, kaleyra: FakeKaleyra, kaleyra_code: str, error_code: str
) -> None:
    kaleyra.then(kaleyra_code)

    out = outputs(run_action(connector, fixture("action-execution.json")))

    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == error_code
    assert out["errorMessage"]
    assert len(kaleyra.requests) == 1 and kaleyra.sent == []


def test_kaleyra_outage_is_retried_by_hubspot_and_sent_once(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    payload = fixture("action-execution.json")
    kaleyra.then("WA500")

    first = run_action(connector, payload)

    assert first.status_code == 503  # a 5xx: HubSpot retries with backoff
    assert int(first.headers["Retry-After"]) > 0

    retry = outputs(run_action(connector, payload))  # HubSpot re-signs, same callbackId

    assert retry["hs_execution_state"] == "SUCCESS"
    assert len(kaleyra.requests) == 2
    assert len(kaleyra.sent) == 1


# --- 6. callbackId dedupe -------------------------------------------------------------------


def test_same_callback_sent_twice_sends_one_message(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    url, body = connector.base_url + ACTION, encode(fixture("action-execution.json"))
    headers = signed(url, body)

    first = outputs(send(url, body, headers))
    second = outputs(send(url, body, headers))

    assert first["hs_execution_state"] == second["hs_execution_state"] == "SUCCESS"
    assert second["message_id"] == first["message_id"]
    assert len(kaleyra.requests) == 1


def test_callback_dedupe_outlasts_the_content_dedupe_window(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    """HubSpot retries for up to 3 days, longer than any content window: callbackId decides."""
    connector = start_connector(dedupe_window_s=0)
    payload = fixture("action-execution.json")

    first = outputs(run_action(connector, payload))
    late_retry = outputs(run_action(connector, payload))

    assert late_retry["message_id"] == first["message_id"]
    assert len(kaleyra.requests) == 1


def test_different_callbacks_with_the_same_offer_send_two_messages(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    payload = fixture("action-execution.json")
    first = outputs(run_action(connector, payload))
    again = copy.deepcopy(payload)
    again["callbackId"] = "ap-102670506-56776413549-8-0"

    second = outputs(run_action(connector, again))

    assert second["message_id"] != first["message_id"]
    assert len(kaleyra.sent) == 2


# --- 7. workflow "Send a webhook" -----------------------------------------------------------

OFFER_QUERY = (
    "?template_name=lto_summer&language=en_US&body_1=%7B%7Bfirstname%7D%7D&body_2=CARIBE25"
    "&expires_in=14d&coupon_code=CARIBE25"
)


def webhook_headers(url: str, body: bytes, auth: str) -> dict[str, str]:
    if auth == "api-key":
        return {"Content-Type": "application/json", "X-Api-Key": CONNECTOR_KEY}
    return signed(url, body, version=auth)


@pytest.mark.parametrize("auth", ["v3", "v2", "api-key"])
def test_webhook_legacy_contact_body(
    connector: LiveConnector, kaleyra: FakeKaleyra, auth: str
) -> None:
    url = connector.base_url + WEBHOOK + OFFER_QUERY
    body = encode(fixture("webhook-contact-legacy.json"))

    response = send(url, body, webhook_headers(url, body, auth))

    assert response.status_code == 202, response.text
    assert response.json()["wa_source"] == "hubspot"
    assert response.json()["status"] == "accepted"
    sent = kaleyra.sent[0].json
    assert sent["extra_info"]["wa_source"] == "hubspot"
    assert sent["messaging_object"]["to"] == "+919876543210"  # mobilephone before phone
    components = sent["messaging_object"]["template"]["components"]
    assert components[0]["parameters"] == [
        {"type": "text", "text": "perf_user_970"},
        {"type": "text", "text": "CARIBE25"},
    ]
    assert components[2]["parameters"] == [{"type": "coupon_code", "coupon_code": "CARIBE25"}]
    assert len(kaleyra.requests) == 1


def test_webhook_flat_body_with_national_phone(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    response = connector.post(WEBHOOK + OFFER_QUERY, json=fixture("webhook-flat.json"))

    assert response.status_code == 202, response.text
    assert response.json()["wa_source"] == "hubspot"
    message = kaleyra.sent[0].json["messaging_object"]
    assert message["to"] == "+919876543210"
    assert message["template"]["components"][0]["parameters"][0]["text"] == "Ann"


def test_webhook_recipient_in_the_query_wins_over_the_record(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    query = OFFER_QUERY + "&phone_number=%2B919988776655"
    response = connector.post(WEBHOOK + query, json=fixture("webhook-contact-legacy.json"))

    assert response.status_code == 202, response.text
    assert kaleyra.sent[0].json["messaging_object"]["to"] == "+919988776655"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Api-Key": "not-the-key"},
        {"X-HubSpot-Signature": "0" * 64, "X-HubSpot-Signature-Version": "v2"},
    ],
    ids=["nothing", "wrong-key", "bad-signature"],
)
def test_webhook_without_valid_credentials_is_refused(
    connector: LiveConnector, kaleyra: FakeKaleyra, headers: dict[str, str]
) -> None:
    response = connector.post(
        WEBHOOK + OFFER_QUERY, key=None, json=fixture("webhook-flat.json"), headers=headers
    )

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == 401
    assert kaleyra.requests == []


def test_webhook_placeholder_empty_for_the_record_is_refused(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    record = {**fixture("webhook-flat.json"), "firstname": ""}
    response = connector.post(WEBHOOK + OFFER_QUERY, json=record)
    assert response.status_code == 422
    error = response.json()["errors"]["body_1"][0]
    assert error["code"] == "empty" and "{{firstname}}" in error["message"]
    assert kaleyra.requests == []


def test_v1_signatures_are_not_accepted_on_workflow_routes(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    body = encode(fixture("action-execution.json"))
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": hashlib.sha256(HUBSPOT_SECRET.encode() + body).hexdigest(),
        "X-HubSpot-Signature-Version": "v1",
    }
    response = send(connector.base_url + ACTION, body, headers)
    assert response.status_code == 401 and response.json()["code"] == "invalid_signature"
    assert kaleyra.requests == []
