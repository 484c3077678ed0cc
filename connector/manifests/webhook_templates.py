"""Webhook settings to paste into platforms where the marketer composes the call
(``manifests/templates/<platform>.json``).

Each one uses the offer's own field names in the platform's personalisation syntax, so the
endpoint reads it with no mapping: Braze Liquid, MoEngage Jinja, Zoho merge fields, CleverTap's
key-value pairs, and LeadSquared's webhook URL (its body is always the lead, so the offer goes in
the query, with ``{{Field}}`` filled from the lead by the connector). Idempotency keys are built
only from ids that stay the same when the platform retries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .render import GENERATED, as_json

KEY_HEADER = {"X-Api-Key": "<the connection's API key>"}
JSON_HEADERS = {"Content-Type": "application/json", **KEY_HEADER}
IMAGE = "https://cdn.example.com/offer.jpg"


def braze(public_url: str) -> dict[str, Any]:
    return {
        "where": "Campaign or Canvas step > Webhook > Compose: Request body 'Raw text'; "
        "Settings: Request headers.",
        "url": f"{public_url}/hooks/braze",
        "method": "POST",
        "headers": JSON_HEADERS,
        "body": {
            "to": "{{${phone_number}}}",
            "template_name": "your_lto_template",
            "language": "{{${language} | default: 'en'}}",
            "header_image_url": IMAGE,
            "body_params": [
                "{{${first_name} | default: 'there' | json_escape}}",
                "{{custom_attribute.${coupon_code} | default: '' | json_escape}}",
            ],
            "coupon_code": "{{custom_attribute.${coupon_code} | json_escape}}",
            "url_param": "{{${braze_id} | url_param_escape}}",
            "expires_in": "48h",
            # dispatch_id alone is shared by every user of a scheduled send
            "idempotency_key": "braze-{{campaign.${dispatch_id}}}-{{${braze_id}}}",
            "ref": "braze:{{campaign.${api_id}}}",
        },
        "notes": [
            "json_escape keeps a quote in a name from breaking the JSON.",
            "Braze retries 408, 429 and 5xx for up to 30 minutes; the idempotency key makes a "
            "retry send nothing twice.",
        ],
    }


def moengage(public_url: str) -> dict[str, Any]:
    return {
        "where": "Create campaign > Connectors > Custom > Content: Webhook URL, Headers, "
        "Body type 'Raw Body'.",
        "url": f"{public_url}/hooks/moengage",
        "method": "POST",
        "headers": JSON_HEADERS,
        "body": {
            "to": "{{UserAttribute['Mobile Number (Standard)']|default('MOE_NOT_SEND')}}",
            "template_name": "your_lto_template",
            "language": "en",
            "header_image_url": IMAGE,
            "body_1": "{{UserAttribute['First Name']|default('there')}}",
            "body_2": "{{UserAttribute['coupon_code']|default('')}}",
            "coupon_code": "{{UserAttribute['coupon_code']}}",
            "url_param": "{{UserAttribute['uid']|urlencode}}",
            "expires_in": "48h",
            # Connector campaigns expose no send id: campaign + user + day
            "idempotency_key": "moe-your_lto_template-{{UserAttribute['uid']}}-"
            "{{'%Y%m%d'|today('UTC')}}",
            "ref": "moengage:your_lto_template",
        },
        "notes": [
            "Insert attributes with the @ picker: their display names differ per workspace.",
            "MoEngage counts only HTTP 200 as sent; the connector answers 200 once the "
            "message is stored.",
        ],
    }


def zoho(public_url: str) -> dict[str, Any]:
    return {
        "where": "Setup > Automation > Actions > Webhooks: Method POST, Body 'Raw', format "
        "JSON (type # to insert a field); Headers.",
        "url": f"{public_url}/hooks/zoho",
        "method": "POST",
        "headers": JSON_HEADERS,
        "body": {
            "to": "${Contacts.Mobile}",
            "template_name": "your_lto_template",
            "language": "en",
            "body_1": "${Contacts.First Name}",
            "coupon_code": "${Contacts.Coupon Code}",
            "expires_in": "48h",
            "idempotency_key": "zoho-${Contacts.Contact Id}-${Contacts.Modified Time}",
        },
        "notes": [
            "For leads use ${Leads.Mobile}, ${Leads.First Name}, ${Leads.Lead Id}.",
            "Zoho may limit a raw body to 500 characters: this one is kept short.",
        ],
    }


def clevertap(public_url: str) -> dict[str, Any]:
    return {
        "where": "Settings > Channels > Webhooks: URL, Basic authentication (the connection's "
        "CleverTap username and password) or the header below; in the campaign: JSON, "
        "'Profile variables & custom key value pairs', select Phone and Identity.",
        "url": f"{public_url}/hooks/clevertap/webhook",
        "method": "POST",
        "headers": KEY_HEADER,
        "key_values": {
            "template_name": "your_lto_template",
            "language": "en",
            "header_image_url": IMAGE,
            "expires_in": "48h",
            "body_1": "@Name",
            "coupon_code": "@Coupon Code",
        },
        "notes": [
            "Values starting with @ are inserted with CleverTap's @ picker (profile "
            "properties); CleverTap puts them in each profile's key_values.",
            "The profile's phone is the recipient; targetId + objectId is the idempotency key.",
        ],
    }


def leadsquared(public_url: str) -> dict[str, Any]:
    query = {
        "template_name": "your_lto_template",
        "language": "en",
        "body_1": "{{FirstName}}",
        "coupon_code": "{{mx_Coupon_Code}}",
        "expires_in": "48h",
    }
    return {
        "where": "Settings > API and Webhooks > Webhooks (or an automation's Webhook action): "
        "Content Type application/json, Custom Headers.",
        "url": f"{public_url}/hooks/leadsquared?{urlencode(query, safe='{}')}",
        "method": "POST",
        "headers": KEY_HEADER,
        "notes": [
            "LeadSquared always posts the lead: the offer goes in the URL, and {{Field}} is "
            "filled by the connector from the lead's fields (FirstName, mx_...).",
            "The recipient is the lead's Mobile, else its Phone.",
        ],
    }


TEMPLATES = {
    "braze": braze,
    "moengage": moengage,
    "zoho": zoho,
    "clevertap": clevertap,
    "leadsquared": leadsquared,
}


# these platforms' webhook steps have no status API to report back to: each status change goes to
# the connection's Standard Webhooks URL (README: Delivery reports)
DELIVERY_REPORTS = {
    "where": "In the connector's connections file: reports.webhook.url and reports.webhook.secret "
    "(or STATUS_WEBHOOK_URL and STATUS_WEBHOOK_SECRET); Kaleyra's callback profile points at "
    "/callbacks/kaleyra/<connection>/<callback_token>.",
    "signed": "Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature (v1, "
    "HMAC-SHA256 of id.timestamp.body with the secret)",
    "fields": ["id", "type", "event_id", "status", "at", "connection", "platform", "platform_ref",
               "message_id", "template_name", "recipient_last4", "ref", "error_code",
               "error_reason"],
    "statuses": ["sent", "delivered", "read", "failed", "not-sent"],
}  # fmt: skip


def files(public_url: str) -> dict[str, str]:
    return {
        f"templates/{name}.json": as_json(
            {
                "_generated": GENERATED,
                "platform": name,
                **make(public_url),
                "delivery_reports": DELIVERY_REPORTS,
            }
        )  # fmt: skip
        for name, make in TEMPLATES.items()
    }
