"""The Zapier integration (``manifests/zapier/``) on zapier-platform-core, built from the schema.

``definition.json`` is pure data: custom auth tested on ``GET /v1/me``, a hidden trigger listing
``GET /v1/templates`` for the template dropdown, the REST-hook trigger "Message status changed"
(``zapier_trigger.py``), and the create "Send WhatsApp limited-time offer" with one input field
per offer field. ``index.js`` (copied from this package) adds the API key header, the hook
triggers' ``perform`` and turns the connector's errors into Zapier's.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from .. import __version__
from .catalog import ACCEPTED_FIELDS, ACCEPTED_SAMPLE, ManifestField, offer_fields
from .render import as_json
from .zapier_trigger import STATUS_KEY, status_trigger

CORE_VERSION = "19.1.0"  # zapier-platform-core, pinned exactly as Zapier's own templates do
BASE = "{{bundle.authData.base_url}}"
CREATE_KEY = "send_offer"
TEMPLATES_KEY = "templates"


def input_field(field: ManifestField) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": field.key,
        "label": field.label,
        "helpText": field.help_with_example,
        "required": field.required,
        "type": "datetime" if field.kind == "datetime" else "string",
    }
    if field.kind == "list":
        out["list"] = True
    if field.kind == "template":
        # a dropdown of the connection's templates; a custom or mapped value is still allowed
        out["dynamic"] = f"{TEMPLATES_KEY}.id.label"
    if field.kind == "language":
        out["placeholder"] = "en"
    return out


def definition() -> dict[str, Any]:
    fields = offer_fields()
    create_body = {field.key: f"{{{{bundle.inputData.{field.key}}}}}" for field in fields}
    return {
        "version": __version__,
        "flags": {
            # let index.js see 429s, so the connector's message and Retry-After reach the Zap
            "throwForThrottlingEarly": False
        },
        "authentication": {
            "type": "custom",
            "fields": [
                {
                    "key": "base_url",
                    "label": "Connector URL",
                    "required": True,
                    "type": "string",
                    "helpText": "Where your Kaleyra LTO connector is served, e.g. "
                    "`https://lto.example.com`.",
                },
                {
                    "key": "api_key",
                    "label": "API key",
                    "required": True,
                    "type": "password",
                    "helpText": "The connection's API key, from whoever hosts your connector.",
                },
            ],
            "test": {"method": "GET", "url": f"{BASE}/v1/me"},
            "connectionLabel": "{{bundle.inputData.connection}}",
        },
        "triggers": {
            TEMPLATES_KEY: {
                "key": TEMPLATES_KEY,
                "noun": "Template",
                "display": {
                    "label": "List Templates",
                    "description": "Lists the connection's WhatsApp offer templates (for the "
                    "template dropdown).",
                    "hidden": True,
                },
                "operation": {
                    "perform": {"method": "GET", "url": f"{BASE}/v1/templates"},
                    "sample": {"id": "lto_summer", "label": "Summer sale"},
                    "outputFields": [
                        {"key": "id", "label": "Template name"},
                        {"key": "label", "label": "Label"},
                    ],
                },
            },
            STATUS_KEY: status_trigger(BASE),
        },
        "creates": {
            CREATE_KEY: {
                "key": CREATE_KEY,
                "noun": "Offer",
                "display": {
                    "label": "Send WhatsApp Limited-Time Offer",
                    "description": "Sends one WhatsApp limited-time-offer message through "
                    "Kaleyra: header, body variables, offer expiry, coupon and URL button.",
                },
                "operation": {
                    "inputFields": [input_field(field) for field in fields],
                    "perform": {
                        "method": "POST",
                        "url": f"{BASE}/hooks/zapier",
                        "body": create_body,
                    },
                    "sample": {**ACCEPTED_SAMPLE, "wa_source": "zapier"},
                    "outputFields": [
                        {"key": key, "label": label, "type": kind}
                        for key, label, kind in ACCEPTED_FIELDS
                    ],
                },
            }
        },
    }


def package_json() -> dict[str, Any]:
    return {
        "name": "kaleyra-lto-connector-zapier",
        "version": __version__,
        "description": "Zapier integration: send WhatsApp limited-time offers through the "
        "Kaleyra LTO connector.",
        "main": "index.js",
        "private": True,
        "license": "UNLICENSED",
        "dependencies": {"zapier-platform-core": CORE_VERSION},
    }


def files() -> dict[str, str]:
    index = resources.files(__package__).joinpath("zapier_index.js").read_text("utf-8")
    return {
        "zapier/package.json": as_json(package_json()),
        "zapier/definition.json": as_json(definition()),
        "zapier/index.js": index,
    }
