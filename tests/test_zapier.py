"""Zapier: what the Zapier runtime and "Webhooks by Zapier" really send, over real HTTP."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests import zapier_runtime
from tests.conftest import CONNECTOR_KEY, LiveConnector
from tests.kaleyra_fake import FakeKaleyra
from tests.platform_cases import ACME_KEY, OTHER_KEY

ZAP_INPUT = {
    "to": "+91 98765 43210",
    "template_name": "lto_summer",
    "language": "en",
    "header_image_url": "",
    "body_params": ["Asha", "20%"],
    "expires_at": "2031-07-01T13:00:00-05:00",
    "expires_in": "",
    "coupon_code": "SUMMER20",
    "url_param": "",
    "ref": "order-42",
    "idempotency_key": "",
}


def components(kaleyra: FakeKaleyra) -> dict[str, Any]:
    [request] = kaleyra.sent
    template = request.json["messaging_object"]["template"]
    return {c.get("sub_type", c["type"]): c for c in template["components"]}


# --- the real Zapier runtime --------------------------------------------------------------------


def test_zapier_runtime_create_sends_one_offer(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    outcome = zapier_runtime.run("create", connector.base_url, CONNECTOR_KEY, ZAP_INPUT)
    assert outcome["ok"], outcome
    result = outcome["result"]
    assert result["status"] == "accepted" and result["wa_source"] == "zapier"
    [request] = kaleyra.sent
    assert result["message_id"] == request.message_id
    body = request.json
    # the caller's ref as given; the connector's own reference (the event id) in the next slot
    assert body["extra_info"] == {"ref": "order-42", "ref1": result["id"], "wa_source": "zapier"}
    assert body["messaging_object"]["to"] == "+919876543210"
    parts = components(kaleyra)
    assert [p["text"] for p in parts["body"]["parameters"]] == ["Asha", "20%"]
    lto = parts["limited_time_offer"]["parameters"][0]["limited_time_offer"]
    assert lto["expiration_time_ms"] == int(datetime(2031, 7, 1, 18, tzinfo=UTC).timestamp() * 1000)
    assert parts["copy_code"]["parameters"][0]["coupon_code"] == "SUMMER20"
    assert "url" not in parts and "header" not in parts  # blank fields are absent, not ""


def test_zapier_runtime_auth_test_names_the_connection(connector: LiveConnector) -> None:
    outcome = zapier_runtime.run("auth", connector.base_url + "/", CONNECTOR_KEY)
    assert outcome["ok"], outcome
    assert outcome["result"]["connection"] == "default"  # the connectionLabel Zapier shows
    assert "api_key" not in json.dumps(outcome["result"]).lower()


def test_zapier_runtime_with_a_wrong_key_asks_to_reconnect(connector: LiveConnector) -> None:
    for action in ("auth", "create"):
        outcome = zapier_runtime.run(action, connector.base_url, "not-the-key", ZAP_INPUT)
        assert outcome["name"] == "ExpiredAuthError", outcome
        assert "API key" in outcome["message"]


def test_zapier_runtime_shows_a_field_error_as_a_user_error(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    outcome = zapier_runtime.run(
        "create",
        connector.base_url,
        CONNECTOR_KEY,
        {**ZAP_INPUT, "coupon_code": "TOO-LONG-COUPON-CODE"},
    )
    assert (outcome["name"], outcome["status"], outcome["code"]) == ("AppError", 422, "too_long")
    assert outcome["message"].startswith("coupon_code: Must be at most 15 characters")
    assert kaleyra.requests == []


@pytest.mark.parametrize(("kaleyra_status", "retry_after"), [(429, "7"), (503, "30")])
def test_zapier_runtime_is_throttled_with_the_retry_after(
    connector: LiveConnector, kaleyra: FakeKaleyra, kaleyra_status: int, retry_after: str
) -> None:
    kaleyra.then(
        "raw", status=kaleyra_status, body={"message": "busy"}, headers={"Retry-After": retry_after}
    )
    direct = connector.post("/hooks/zapier", json={**ZAP_INPUT, "ref": "direct"})
    kaleyra.then(
        "raw", status=kaleyra_status, body={"message": "busy"}, headers={"Retry-After": retry_after}
    )
    outcome = zapier_runtime.run("create", connector.base_url, CONNECTOR_KEY, ZAP_INPUT)
    assert outcome["name"] == "ThrottledError", outcome
    assert outcome["delay"] == int(direct.headers["Retry-After"])  # an integer, as Zapier wants
    assert outcome["message"] == direct.json()["message"]  # the connector's words, not a status


def test_zapier_template_dropdown_lists_the_connections_templates(start_tenants: Any) -> None:
    def templates(doc: dict[str, Any]) -> None:
        doc["connections"]["acme"]["templates"] = {"lto_summer": {"label": "Summer sale"}}

    live = start_tenants(templates)
    outcome = zapier_runtime.run("templates", live.base_url, ACME_KEY)
    assert outcome["ok"], outcome
    assert [(t["id"], t["label"]) for t in outcome["result"]] == [
        ("lto_default", "lto_default"),
        ("lto_summer", "Summer sale"),
    ]
    other = zapier_runtime.run("templates", live.base_url, OTHER_KEY)
    assert other["result"] == []  # another connection sees only its own


# --- the integration's definition ---------------------------------------------------------------


def test_zapier_definition_validates_with_zapier_platform_schema() -> None:
    assert zapier_runtime.run("validate") == {"ok": True, "result": {"errors": []}}


def test_zapier_schema_check_catches_a_broken_definition(tmp_path: Path) -> None:
    broken = tmp_path / "zapier"
    shutil.copytree(zapier_runtime.INTEGRATION.parent, broken)
    definition = json.loads((broken / "definition.json").read_text())
    definition["creates"]["send_offer"]["operation"]["inputFields"][0]["type"] = "phone"
    (broken / "definition.json").write_text(json.dumps(definition))
    errors = zapier_runtime.run("validate", app=broken / "index.js")["result"]["errors"]
    assert any("inputFields" in e for e in errors), errors


def test_every_create_has_a_sample_shaped_like_a_real_answer(
    connector: LiveConnector,
) -> None:
    definition = json.loads((zapier_runtime.INTEGRATION.parent / "definition.json").read_text())
    live = zapier_runtime.run("create", connector.base_url, CONNECTOR_KEY, ZAP_INPUT)["result"]
    for key, create in definition["creates"].items():
        operation = create["operation"]
        assert operation.get("sample"), f"create {key} has no sample"
        declared = [f["key"] for f in operation["outputFields"]]
        assert sorted(operation["sample"]) == sorted(declared)
        assert set(declared) <= set(live), set(declared) - set(live)


def test_zapier_create_offers_every_offer_field(connector: LiveConnector) -> None:
    definition = json.loads((zapier_runtime.INTEGRATION.parent / "definition.json").read_text())
    operation = definition["creates"]["send_offer"]["operation"]
    fields = {f["key"]: f for f in operation["inputFields"]}
    assert list(fields) == list(connector.runtime.offer_schema.fields)
    assert all(f["label"] and f["helpText"] for f in fields.values())
    assert [k for k, f in fields.items() if f["required"]] == ["to", "template_name"]
    assert fields["body_params"]["list"] is True
    assert fields["expires_at"]["type"] == "datetime"
    assert fields["template_name"]["dynamic"] == "templates.id.label"
    with_package = json.loads((zapier_runtime.INTEGRATION.parent / "package.json").read_text())
    installed = json.loads(
        (zapier_runtime.HARNESS / "node_modules/zapier-platform-core/package.json").read_text()
    )
    assert with_package["dependencies"]["zapier-platform-core"] == installed["version"]


def test_zapier_retry_of_the_same_step_sends_once(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    first = zapier_runtime.run("create", connector.base_url, CONNECTOR_KEY, ZAP_INPUT)
    again = zapier_runtime.run("create", connector.base_url, CONNECTOR_KEY, ZAP_INPUT)
    assert first["result"]["message_id"] == again["result"]["message_id"]
    assert again["result"]["replayed"] is True
    assert len(kaleyra.sent) == 1


# --- Webhooks by Zapier: whatever a person composes ---------------------------------------------


def test_form_encoded_with_numbered_body_variables(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    response = connector.post(
        "/hooks/zapier",
        data={
            "Phone": "98765 43210",
            "Template": "lto_summer",
            "body_1": "Asha",
            "body_2": "a, b",
            "expires_in": "48h",
            "coupon": "SAVE10",
        },
    )
    assert response.status_code == 202, response.text
    parts = components(kaleyra)
    assert [p["text"] for p in parts["body"]["parameters"]] == ["Asha", "a, b"]
    assert parts["copy_code"]["parameters"][0]["coupon_code"] == "SAVE10"


def test_form_list_as_repeated_keys_or_comma_string(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    base = {"to": "+919876543210", "template_name": "lto_summer", "expires_in": "1d"}
    repeated = connector.post("/hooks/zapier", data={**base, "body_params": ["A", "B"]})
    comma = connector.post("/hooks/zapier", data={**base, "body_params": "C,D", "ref": "2"})
    assert (repeated.status_code, comma.status_code) == (202, 202)
    texts = [
        [p["text"] for p in r.json["messaging_object"]["template"]["components"][0]["parameters"]]
        for r in kaleyra.sent
    ]
    assert texts == [["A", "B"], ["C", "D"]]


def test_unflattened_and_flattened_keys(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    nested = {
        "to": "+919876543210",
        "template_name": "lto_summer",
        "expires_in": "1d",
        "header": {"image_url": "https://cdn.example.com/a.png"},
    }
    flat = {
        "to": "+919876543210",
        "template_name": "lto_summer",
        "expires_in": "2d",
        "header__image_url": "https://cdn.example.com/b.png",
    }
    assert connector.post("/hooks/zapier", json=nested).status_code == 202
    assert connector.post("/hooks/zapier", json=flat).status_code == 202
    links = [
        r.json["messaging_object"]["template"]["components"][0]["parameters"][0]["image"]["link"]
        for r in kaleyra.sent
    ]
    assert links == ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"]


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"template_name": "lto_summer"}, "to", "required"),
        ({"to": "12", "template_name": "lto_summer"}, "to", "invalid_phone"),
        (
            {"to": "+919876543210", "template_name": "lto_summer", "cupon": "X"},
            "cupon",
            "unknown_field",
        ),
        (
            {"to": "+919876543210", "template_name": "lto_summer", "body_1": "a", "body_3": "c"},
            "body_2",
            "required",
        ),
        (
            {"to": "+919876543210", "template_name": "lto_summer", "expires_at": "1209600000"},
            "expires_at",
            "expiry_not_milliseconds",
        ),
    ],
)
def test_errors_name_the_zap_field(
    connector: LiveConnector, data: dict[str, Any], field: str, code: str
) -> None:
    response = connector.post("/hooks/zapier", data=data)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][field][0]["code"] == code
    assert field in body["message"]


def test_without_a_key_zapier_gets_401(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    response = connector.post("/hooks/zapier", key=None, json={"to": "+919876543210"})
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    assert kaleyra.requests == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"phone": "+447911123456"}, "to"), ({"coupon": "OTHER"}, "coupon_code"),
     ({"Body 1": "x"}, "body_1")],
)  # fmt: skip
def test_one_field_under_two_names_is_refused(
    connector: LiveConnector, kaleyra: FakeKaleyra, extra: dict[str, str], field: str
) -> None:
    data = {"to": "+919876543210", "template_name": "lto_summer", "coupon_code": "SAVE10",
            "body_1": "Asha", **extra}  # fmt: skip
    response = connector.post("/hooks/zapier", json=data)
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == "conflicting_fields"
    assert kaleyra.requests == []


def test_the_same_value_under_two_names_is_fine(connector: LiveConnector) -> None:
    data = {"to": "+919876543210", "phone": "+919876543210", "template_name": "lto_summer"}
    assert connector.post("/hooks/zapier", json=data).status_code == 202
