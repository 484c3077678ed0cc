"""The platform manifests: generated from the schema, committed, and accepted by the connector
exactly as each platform would call it with them (HubSpot, Shopify Flow, the webhook templates;
the Zapier integration runs in the real Zapier runtime in test_zapier.py)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

from connector.manifests import build
from connector.manifests.catalog import offer_fields
from connector.manifests.hubspot_model import validate_definition
from connector.platforms.hubspot import FAIL_CODES
from tests.conftest import HUBSPOT_SECRET, LiveConnector, deliver_queued
from tests.hubspot_lint import lint
from tests.kaleyra_fake import FakeKaleyra
from tests.platform_cases import (
    ACME_KEY,
    CLEVERTAP_PASSWORD,
    CLEVERTAP_USER,
    HUBSPOT_PORTAL,
    SHOP,
    Call,
    basic,
    shopify_sign,
)

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
CLI = [sys.executable, "-m", "connector"]
IN_TWO_DAYS_MS = str(int(time.time() * 1000) + 2 * 86_400_000)
# a value for every field a manifest may show; a field without one fails the test
SAMPLES = {
    "to": "+919876543210",
    "template_name": "lto_summer",
    "language": "en",
    "header_image_url": "https://cdn.example.com/offer.jpg",
    "header_video_url": "https://cdn.example.com/offer.mp4",
    "expires_at": IN_TWO_DAYS_MS,
    "expires_in": "48h",
    "coupon_code": "SAVE10",
    "url_param": "summer-sale",
    "ref": "order-42",
    "wait_for_delivery": "no",  # "yes" answers BLOCK (tests/test_hubspot_wait.py)
    **{f"body_{n}": f"var {n}" for n in range(1, 11)},
}


def definition(path: str) -> Any:
    return json.loads((MANIFESTS / path).read_text())


def components(request: Any) -> dict[str, Any]:
    template = request.json["messaging_object"]["template"]
    return {c.get("sub_type", c["type"]): c for c in template["components"]}


# --- build and check ----------------------------------------------------------------------------


def test_committed_manifests_are_what_the_schemas_generate() -> None:
    done = subprocess.run([*CLI, "manifests", "check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout


def test_check_fails_and_names_the_file_when_a_manifest_was_edited(tmp_path: Path) -> None:
    copy = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, copy)
    edited = copy / "zapier" / "definition.json"
    edited.write_text(edited.read_text().replace("Send WhatsApp", "Send Whatsapp", 1))
    (copy / "hubspot" / "action-definition.json").unlink()
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text().replace("| `coupon_code` |", "| `coupon` |"))
    done = subprocess.run(
        [*CLI, "manifests", "check", "--dir", str(copy), "--readme", str(readme)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "differs: zapier/definition.json" in done.stderr
    assert "missing: hubspot/action-definition.json" in done.stderr
    assert "README's zapier field table differs" in done.stderr


def test_build_writes_the_public_url_into_every_platform_that_calls_back(tmp_path: Path) -> None:
    out = tmp_path / "m"
    done = subprocess.run(
        [
            *CLI,
            "manifests",
            "build",
            "--out",
            str(out),
            "--public-url",
            "https://lto.acme.test/",
            "--readme",
            str(tmp_path / "none.md"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    hubspot = json.loads((out / "hubspot" / "action-definition.json").read_text())
    assert hubspot["actionUrl"] == "https://lto.acme.test/hooks/hubspot/action"
    [template] = [
        f for f in hubspot["inputFields"] if f["typeDefinition"]["name"] == "template_name"
    ]
    assert template["typeDefinition"]["optionsUrl"] == "https://lto.acme.test/hooks/hubspot/options"
    flow = tomllib.loads((out / "shopify-flow" / "shopify.extension.toml").read_text())
    assert flow["extensions"][0]["runtime_url"] == "https://lto.acme.test/hooks/shopify/flow"
    braze = json.loads((out / "templates" / "braze.json").read_text())
    assert braze["url"] == "https://lto.acme.test/hooks/braze"


# --- HubSpot ------------------------------------------------------------------------------------


def test_hubspot_definition_is_valid_in_the_connectors_model_and_hubspots_own() -> None:
    action = definition("hubspot/action-definition.json")
    assert validate_definition(action) == {}
    assert lint(action) == []
    names = {f["typeDefinition"]["name"]: f for f in action["inputFields"]}
    assert names["to"]["supportedValueTypes"] == ["OBJECT_PROPERTY"]
    assert set(action["objectTypes"]) == {"CONTACT", "DEAL"}
    assert [f["typeDefinition"]["name"] for f in action["outputFields"]][0] == "message_id"
    # every errorCode the action can answer has a rule and an English label
    assert [r["conditions"]["errorCode"] for r in action["executionRules"]] == list(FAIL_CODES)
    assert set(action["labels"]["en"]["executionRules"]) == set(FAIL_CODES)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["inputFields"][0]["typeDefinition"].update(fieldtype="text"), "inputFields"),
        (lambda d: d.update(published="false"), "published"),
        (lambda d: d["inputFields"][0]["typeDefinition"].update(type="dateTime"), "inputFields"),
        (lambda d: d["labels"]["en"]["executionRules"].pop("INVALID_PHONE"), "labels.en."),
        (lambda d: d["inputFieldDependencies"][0].update(controllingFieldName="nope"), "input"),
    ],
)
def test_hubspot_model_refuses_what_hubspot_would(edit: Any, where: str) -> None:
    action = definition("hubspot/action-definition.json")
    edit(action)
    assert any(key.startswith(where.split(".")[0]) for key in validate_definition(action))


def hubspot_combinations(action: dict[str, Any]) -> list[tuple[str, dict[str, str], str]]:
    """(object type, the choice made in each select that shows other fields, value mode) for
    every combination the definition lets a workflow author make."""
    controls: dict[str, list[str]] = {}
    for dep in action["inputFieldDependencies"]:
        if dep["dependencyType"] == "CONDITIONAL_SINGLE_FIELD":
            field = next(
                f
                for f in action["inputFields"]
                if f["typeDefinition"]["name"] == dep["controllingFieldName"]
            )
            controls[dep["controllingFieldName"]] = [
                o["value"] for o in field["typeDefinition"]["options"]
            ]
    out = []
    for object_type in action["objectTypes"]:
        for choice in itertools.product(*controls.values()):
            for mode in ("STATIC_VALUE", "OBJECT_PROPERTY", "required only"):
                out.append((object_type, dict(zip(controls, choice, strict=True)), mode))
    return out


def hubspot_inputs(action: dict[str, Any], choices: dict[str, str], mode: str) -> dict[str, Any]:
    hidden = {
        name
        for dep in action["inputFieldDependencies"]
        if dep["dependencyType"] == "CONDITIONAL_SINGLE_FIELD"
        and choices[dep["controllingFieldName"]] != dep["controllingFieldValue"]
        for name in dep["dependentFieldNames"]
    }
    inputs: dict[str, Any] = dict(choices)
    for field in action["inputFields"]:
        name = field["typeDefinition"]["name"]
        if name in choices or name in hidden:
            continue
        if mode == "required only" and not field["isRequired"]:
            continue
        if name == "to" and mode != "OBJECT_PROPERTY":
            continue  # the phone is a property only; else the record's own number
        value = SAMPLES[name]
        if mode == "OBJECT_PROPERTY" and name == "to":
            value = "098765 43210"  # a phone property as people type it
        inputs[name] = value
    return inputs


def test_every_input_combination_the_hubspot_action_allows_is_sent(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    action = definition("hubspot/action-definition.json")
    combinations = hubspot_combinations(action)
    assert len(combinations) == 2 * 3 * 3 * 3
    for object_type, choices, mode in combinations:
        inputs = hubspot_inputs(action, choices, mode)
        origin = {"portalId": HUBSPOT_PORTAL, "actionDefinitionId": 9, "actionDefinitionVersion": 1}
        body = {
            "callbackId": f"ap-{uuid.uuid4().hex}",
            "origin": origin,
            "context": {"source": "WORKFLOWS", "workflowId": 7},
            "object": {"objectId": 501, "objectType": object_type,
                       "properties": {"mobilephone": "+91 98765 43210"}},
            "inputFields": inputs,
        }  # fmt: skip
        call = Call(
            "/hooks/hubspot/action",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "X-HubSpot-Signature-v3": HUBSPOT_SECRET},
        )
        response = call.send(tenants.base_url)
        assert response.status_code == 200, (choices, mode, response.text)
        output = response.json()["outputFields"]
        assert output["hs_execution_state"] == "SUCCESS", (choices, mode, output)
        sent = kaleyra.sent[-1]
        assert output["message_id"] == sent.message_id
        assert sent.json["extra_info"]["wa_source"] == "hubspot"
        assert sent.json["messaging_object"]["to"] == "+919876543210"
        parts = components(sent)
        header = parts.get("header", {}).get("parameters", [{}])[0].get("type")
        given = any(key.startswith("header_") and key.endswith("_url") for key in inputs)
        assert header == (choices["header_type"] if given else None)
        assert "limited_time_offer" in parts  # an expiry always: given, or the connection's
    assert len(kaleyra.sent) == len(combinations)


def options_call(body: dict[str, Any], secret: str = HUBSPOT_SECRET) -> Call:
    return Call(
        "/hooks/hubspot/options",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "X-HubSpot-Signature-v3": secret},
    )


def with_templates(doc: dict[str, Any]) -> None:
    doc["connections"]["acme"]["templates"] = {
        "lto_summer": {"label": "Summer sale", "header": "image", "body_params": 2,
                       "coupon": True, "expiry": True},
        "lto_winter": {"label": "Winter clearance", "header": "none", "body_params": 1},
    }  # fmt: skip


def test_hubspot_options_url_lists_the_portals_templates(start_tenants: Any) -> None:
    live = start_tenants(with_templates)
    request = {
        "origin": {"portalId": HUBSPOT_PORTAL},
        "objectTypeId": "0-1",
        "inputFieldName": "template_name",
        "inputFields": {"language": {"type": "STATIC_VALUE", "value": "en"}},
        "fetchOptions": {"q": "", "after": None},
    }
    response = options_call(request).send(live.base_url)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [o["value"] for o in body["options"]] == ["lto_default", "lto_summer", "lto_winter"]
    assert body["options"][1] == {
        "label": "Summer sale",
        "value": "lto_summer",
        "description": "image header, 2 body variable(s), coupon, expiry",
    }
    assert body["searchable"] is True and body["after"] is None
    searched = options_call({**request, "fetchOptions": {"q": "winter"}}).send(live.base_url)
    assert [o["label"] for o in searched.json()["options"]] == ["Winter clearance"]
    forged = options_call(request, secret="not-the-client-secret").send(live.base_url)
    assert forged.status_code == 401


# --- Shopify Flow -------------------------------------------------------------------------------


def flow_call(properties: dict[str, Any]) -> Call:
    body = json.dumps(
        {
            "shop_id": "60891127860",
            "shopify_domain": SHOP,
            "action_run_id": str(uuid.uuid4()),
            "action_definition_id": "send-whatsapp-lto",
            "handle": "send-whatsapp-lto",
            "properties": properties,
        }
    ).encode()
    return Call(
        "/hooks/shopify/flow",
        body,
        {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": shopify_sign(body)},
    )


def test_flow_extension_parses_and_every_field_it_declares_is_accepted(
    tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    extension = tomllib.loads((MANIFESTS / "shopify-flow" / "shopify.extension.toml").read_text())
    [action] = extension["extensions"]
    assert action["type"] == "flow_action" and action["runtime_url"].endswith("/hooks/shopify/flow")
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,30}", action["handle"])
    fields = extension["settings"]["fields"]
    required = {f["key"]: SAMPLES[f["key"]] for f in fields if f["required"]}
    assert set(required) == {"to", "template_name"}
    for field in fields:
        assert field["type"] in ("single_line_text_field", "url") and field["name"]
        given = {**required, field["key"]: SAMPLES[field["key"]]}
        number = re.fullmatch(r"body_(\d+)", field["key"])
        if number:  # body variables are numbered without gaps
            given.update({f"body_{n}": SAMPLES[f"body_{n}"] for n in range(1, int(number[1]))})
        response = flow_call(given).send(tenants.base_url)
        assert response.status_code == 200, (field["key"], response.text)
    deliver_queued(tenants)
    assert len(kaleyra.sent) == len(fields)
    assert {r.json["extra_info"]["wa_source"] for r in kaleyra.sent} == {"shopify"}


# --- webhook templates --------------------------------------------------------------------------

# what each platform puts in place of its placeholders, for one customer
BRAZE = {
    "${phone_number}": "+919876543210",
    "${language} | default: 'en'": "en",
    "${first_name} | default: 'there' | json_escape": "Priya",
    "custom_attribute.${coupon_code} | default: '' | json_escape": "GOLD50",
    "custom_attribute.${coupon_code} | json_escape": "GOLD50",
    "${braze_id} | url_param_escape": "5f8e9a7b6c5d",
    "${braze_id}": "5f8e9a7b6c5d",
    "campaign.${dispatch_id}": "66f1a2b3c4d5",
    "campaign.${api_id}": "7d1e2f0a",
}
MOENGAGE = {
    "UserAttribute['Mobile Number (Standard)']|default('MOE_NOT_SEND')": "919876543210",
    "UserAttribute['First Name']|default('there')": "Priya",
    "UserAttribute['coupon_code']|default('')": "GOLD50",
    "UserAttribute['coupon_code']": "GOLD50",
    "UserAttribute['uid']|urlencode": "u-100482",
    "UserAttribute['uid']": "u-100482",
    "'%Y%m%d'|today('UTC')": "20261124",
}
ZOHO = {
    "Contacts.Mobile": "+91 98765 43210",
    "Contacts.First Name": "Priya",
    "Contacts.Coupon Code": "GOLD50",
    "Contacts.Contact Id": "5725767000007186123",
    "Contacts.Modified Time": "2026-11-24T10:15:00+05:30",
}


def render(text: str, pattern: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        return values[match.group(1).strip()]  # a placeholder the platform would not fill fails

    return re.sub(pattern, one, text)


def template(name: str) -> dict[str, Any]:
    return definition(f"templates/{name}.json")


def templated_call(name: str) -> Call:
    spec = template(name)
    path = spec["url"].split("://", 1)[1].split("/", 1)[1]
    headers = {**spec["headers"], "X-Api-Key": ACME_KEY}
    if name in ("braze", "moengage", "zoho"):
        body = json.dumps(spec["body"])
        pattern = r"\$\{([^}]*)\}" if name == "zoho" else r"\{\{(.*?)\}\}(?!\})"
        values = {"braze": BRAZE, "moengage": MOENGAGE, "zoho": ZOHO}[name]
        return Call("/" + path, render(body, pattern, values).encode(), headers)
    if name == "clevertap":
        shared = {k: v for k, v in spec["key_values"].items() if not v.startswith("@")}
        picked = {"@Name": "Priya", "@Coupon Code": "GOLD50"}
        own = {k: picked[v] for k, v in spec["key_values"].items() if v.startswith("@")}
        profile = {"objectId": "__g4f2", "identity": "C-1", "phone": "+919876543210",
                   "name": "Priya", "key_values": own}  # fmt: skip
        envelope = {"targetId": 1659684581, "key_values": shared, "profiles": [profile]}
        headers = {"Content-Type": "application/json",
                   "Authorization": basic(CLEVERTAP_USER, CLEVERTAP_PASSWORD)}  # fmt: skip
        return Call("/" + path, json.dumps(envelope).encode(), headers)
    lead = {"ProspectID": "a311900c-0e56", "FirstName": "Priya", "Mobile": "+91-9876543210",
            "mx_Coupon_Code": "GOLD50"}  # fmt: skip
    return Call(
        "/" + path, json.dumps(lead).encode(), {**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize("name", ["braze", "moengage", "zoho", "clevertap", "leadsquared"])
def test_webhook_template_as_the_platform_fills_it_sends_the_offer(
    name: str, start_tenants: Any, kaleyra: FakeKaleyra
) -> None:
    live = start_tenants(lambda doc: doc["connections"]["acme"].pop("mappings"))
    response = templated_call(name).send(live.base_url)
    assert response.status_code == 200, response.text
    if name == "leadsquared":
        assert response.json()["Status"] == "Success", response.text
    deliver_queued(live)
    [sent] = kaleyra.sent
    expected_source = {"leadsquared": "leadsquared", "clevertap": "clevertap"}.get(name, name)
    assert sent.json["extra_info"]["wa_source"] == expected_source
    assert sent.json["messaging_object"]["to"] == "+919876543210"
    assert sent.json["messaging_object"]["template"]["name"] == "your_lto_template"
    parts = components(sent)
    assert parts["body"]["parameters"][0]["text"] == "Priya"
    assert parts["copy_code"]["parameters"][0]["coupon_code"] == "GOLD50"
    again = templated_call(name).send(live.base_url)  # the platform retries: nothing twice
    assert again.status_code == 200
    deliver_queued(live)
    assert len(kaleyra.sent) == 1


def test_every_offer_field_has_a_label_and_help_for_the_manifests() -> None:
    for field in offer_fields():
        assert field.label and field.help.endswith("."), field
    assert build() == build()  # the same schemas give the same bytes
