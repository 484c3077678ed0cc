"""The Zapier integration's "Message status changed" trigger: a REST hook on the connector.

Turning a Zap on POSTs its hook URL to ``/v1/zapier/hooks`` (``performSubscribe``; the answer's
``id`` is kept as ``bundle.subscribeData``), turning it off DELETEs it (``performUnsubscribe``).
Each status change arrives as one ``status_record`` posted to the hook; ``perform`` (a function,
in ``zapier_index.js``) hands it on as a one-item list. ``performList`` reads the connection's
latest changes for the Zap editor's test. The sample is ``status_record`` itself, so the two
cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from ..notify.record import status_record
from ..store import Event

STATUS_KEY = "message_status"

# the record's keys, labelled, in status_record's order (a test holds the two together)
STATUS_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "Change id (message and status)", "string"),
    ("type", "Type", "string"),
    ("event_id", "Event id", "string"),
    ("status", "Status (sent, delivered, read, failed, not-sent)", "string"),
    ("at", "When it happened", "datetime"),
    ("connection", "Connection", "string"),
    ("platform", "Platform", "string"),
    ("platform_ref", "Platform reference", "string"),
    ("message_id", "Kaleyra message id", "string"),
    ("template_name", "Template", "string"),
    ("recipient_last4", "Recipient's last four digits", "string"),
    ("ref", "Your reference", "string"),
    ("error_code", "Error code", "string"),
    ("error_reason", "Error reason", "string"),
)

SAMPLE_EVENT = Event(
    id="evt_5f0c8a2e9b1d4c7f8a3e6b2d1c0f9e8a",
    platform="zapier",
    wa_source="zapier",
    account="default",
    mode="sync",
    dedupe_key="sample",
    fingerprint="sample",
    offer={"template_name": "lto_summer", "ref": "order-42"},
    payload={},
    status="accepted",
    message_id="4a7f1e2c-6b3d-4e8f-9a1b-2c3d4e5f6a7b",
    error_kind=None,
    error_code=None,
    error_message=None,
    upstream_status=202,
    retry_after=None,
    attempts=1,
    sandbox=False,
    next_attempt_ms=None,
    lease_until_ms=None,
    lease_owner=None,
    expires_ms=None,
    platform_ref=None,
    recipient_last4="3210",
    created_ms=1_751_371_200_000,
    updated_ms=1_751_371_200_000,
    delivery_status="delivered",
)
SAMPLE = status_record(SAMPLE_EVENT, "delivered", 1_751_371_203_000, None, None)


def status_trigger(base: str) -> dict[str, Any]:
    """The trigger's definition; ``base`` is the connection's URL placeholder."""
    return {
        "key": STATUS_KEY,
        "noun": "Message Status",
        "display": {
            "label": "Message Status Changed",
            "description": "Triggers when Kaleyra reports a WhatsApp offer message sent, "
            "delivered, read or failed.",
        },
        "operation": {
            "type": "hook",
            "performSubscribe": {
                "method": "POST",
                "url": f"{base}/v1/zapier/hooks",
                "body": {"target_url": "{{bundle.targetUrl}}"},
            },
            "performUnsubscribe": {
                "method": "DELETE",
                "url": f"{base}/v1/zapier/hooks/{{{{bundle.subscribeData.id}}}}",
            },
            "performList": {
                "method": "GET",
                "url": f"{base}/v1/zapier/status-changes",
                "params": {"limit": "10"},
            },
            "sample": SAMPLE,
            "outputFields": [
                {"key": key, "label": label, "type": kind} for key, label, kind in STATUS_FIELDS
            ],
        },
    }
