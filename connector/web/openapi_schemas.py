"""The answers' JSON schemas for the OpenAPI document: each platform's own answer as the code
builds it (``accepted_body``, ``ConnectorError.to_body``, each ``respond``/``respond_error``).

Objects stay open (extra keys allowed): in sandbox mode every answer also says
``"sandbox": true``, and some errors carry the event ``id``.
"""

from __future__ import annotations

from typing import Any

from ..hubspot_callbacks import FINAL
from ..kaleyra import WA_SOURCES
from ..platforms.clevertap import CREDENTIALS, OTHER, PHONE, TEMPLATE
from ..platforms.hubspot import FAIL_CODES
from ..platforms.webengage import (
    INVALID_NUMBER,
    INVALID_TEMPLATE_DATA,
    TEMPLATE_MISMATCH,
    THROTTLED,
    UNSUPPORTED_VERSION,
)
from ..platforms.webengage import OTHER as WEBENGAGE_OTHER


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": "string", "nullable": True}
EVENT_STATUSES = ["queued", "leased", "sending", "accepted", "failed", "dead", "uncertain"]

FIELD_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {**TEXT, "example": "invalid_text"},
        "message": TEXT,
    },
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Every field at fault, by its name in the caller's payload "
    "(body_params.2 is {{2}}).",
    "additionalProperties": {"type": "array", "items": ref("FieldError")},
}

ANSWERS: dict[str, dict[str, Any]] = {
    "FieldError": FIELD_ERROR,
    "Error": {
        "type": "object",
        "description": "The connector's one error body.",
        "required": ["code", "status", "message", "errors"],
        "properties": {
            "code": {**TEXT, "example": "invalid_phone"},
            "status": {"type": "integer", "example": 422},
            "message": TEXT,
            "errors": FIELD_ERRORS,
            "id": {**TEXT, "description": "The event, when the error concerns a stored one."},
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["id", "status", "message_id", "wa_source", "sandbox", "replayed"],
        "properties": {
            "id": {**TEXT, "description": "The connector's event id.", "example": "evt_5f1c"},
            "status": {
                "type": "string",
                "enum": ["accepted", "queued", "leased", "sending"],
                "description": "accepted: Kaleyra took it; queued/leased/sending: a worker "
                "delivers it.",
            },
            "message_id": {
                **NULLABLE_TEXT,
                "description": "Kaleyra's message id; null while the message is queued.",
            },
            "wa_source": {"type": "string", "enum": sorted(WA_SOURCES)},
            "sandbox": {"type": "boolean"},
            "replayed": {"type": "boolean", "description": "True when a repeat was answered."},
        },
    },
    "NotSent": {
        "type": "object",
        "description": "A record that cannot become an offer, answered 200 so the platform "
        "does not retry it: the error body with status 'not_sent'.",
        "required": ["code", "status", "message", "errors"],
        "properties": {
            "code": TEXT,
            "status": {"type": "string", "enum": ["not_sent"]},
            "message": TEXT,
            "errors": FIELD_ERRORS,
            "profile": {"nullable": True, "description": "CleverTap: the profile's id."},
        },
    },
    "Batch": {
        "type": "object",
        "required": ["messages"],
        "properties": {"messages": {"type": "array", "items": ref("Accepted")}},
    },
    "HubSpotActionResponse": {
        "type": "object",
        "required": ["outputFields"],
        "properties": {
            "outputFields": {
                "type": "object",
                "required": ["hs_execution_state"],
                "properties": {
                    "hs_execution_state": {
                        "type": "string",
                        "enum": ["SUCCESS", "FAIL_CONTINUE", "BLOCK"],
                        "description": "BLOCK: wait_for_delivery is on and no final status is "
                        "known yet; the connector completes the callback later.",
                    },
                    "hs_expiration_duration": {**TEXT, "description": "ISO 8601, with BLOCK."},
                    "message_id": NULLABLE_TEXT,
                    "event_id": TEXT,
                    "status": {"type": "string", "enum": EVENT_STATUSES},
                    "sandbox": {"type": "boolean"},
                    "errorCode": {"type": "string", "enum": list(FAIL_CODES)},
                    "errorMessage": TEXT,
                    "delivery_status": {"type": "string", "enum": list(FINAL)},
                    "delivery_error_code": TEXT,
                    "delivery_error_reason": TEXT,
                },
            }
        },
    },
    "CleverTapAnswer": {
        "type": "object",
        "description": "CleverTap reads only 200 bodies: success, or failure with its code "
        f"({CREDENTIALS} credentials, {TEMPLATE} template parameters, {PHONE} phone, "
        f"{OTHER} other).",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["success", "failure"]},
            "id": TEXT,
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "integer", "enum": [CREDENTIALS, TEMPLATE, PHONE, OTHER]},
                    "message": TEXT,
                },
            },
        },
    },
    "CleverTapWebhookAnswer": {
        "type": "object",
        "description": "Each profile's outcome (one bad profile never fails the others); the "
        "save-time test call is answered with test: true.",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "accepted": {"type": "integer", "minimum": 0},
            "messages": {
                "type": "array",
                "items": {"oneOf": [ref("Accepted"), ref("NotSent")]},
            },
            "test": {"type": "boolean"},
            "profiles": {"type": "integer", "minimum": 0},
        },
    },
    "WebEngageAnswer": {
        "type": "object",
        "required": ["status", "statusCode"],
        "properties": {
            "status": {"type": "string", "enum": ["whatsapp_accepted", "whatsapp_rejected"]},
            "statusCode": {
                "type": "integer",
                "enum": [
                    0,
                    INVALID_NUMBER,
                    UNSUPPORTED_VERSION,
                    THROTTLED,
                    TEMPLATE_MISMATCH,
                    INVALID_TEMPLATE_DATA,
                    WEBENGAGE_OTHER,
                ],
            },  # fmt: skip
            "message": TEXT,
            "supportedVersion": TEXT,
        },
    },
    "LeadSquaredAnswer": {
        "type": "object",
        "description": "Always HTTP 200 (LeadSquared may disable a webhook answering 4xx/5xx).",
        "required": ["Status", "StatusReason"],
        "properties": {
            "Status": {"type": "string", "enum": ["Success", "Error"]},
            "StatusReason": TEXT,
            "id": TEXT,
            "event_status": {"type": "string", "enum": EVENT_STATUSES},
            "code": TEXT,
            "errors": FIELD_ERRORS,
        },
    },
    "HubSpotOptions": {
        "type": "object",
        "required": ["options", "after", "searchable"],
        "properties": {
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label", "value", "description"],
                    "properties": {"label": TEXT, "value": TEXT, "description": TEXT},
                },
            },
            "after": NULLABLE_TEXT,
            "searchable": {"type": "boolean"},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "status", "wa_source", "to", "attempts"],
        "properties": {
            "id": TEXT,
            "status": {"type": "string", "enum": EVENT_STATUSES},
            "mode": TEXT,
            "platform": TEXT,
            "wa_source": TEXT,
            "to": {**TEXT, "description": "Masked to the last four digits."},
            "template_name": NULLABLE_TEXT,
            "message_id": NULLABLE_TEXT,
            "error": {"type": "object", "nullable": True},
            "attempts": {"type": "array", "items": {"type": "object"}},
            "next_attempt_ms": {"type": "integer", "nullable": True},
            "delivery_status": {
                "type": "string",
                "nullable": True,
                "enum": ["sent", "delivered", "read", "failed", "not-sent"],
                "description": "The furthest status Kaleyra reported (never backwards).",
            },
            "statuses": {
                "type": "array",
                "items": {"type": "object"},
                "description": "Every status reported, once each, with its time.",
            },
            "notifications": {
                "type": "array",
                "items": {"type": "object"},
                "description": "What each platform was told, and its state.",
            },
            "created_ms": {"type": "integer"},
            "sandbox": {"type": "boolean"},
        },
    },
    "CallbackReceipt": {
        "type": "object",
        "required": ["received", "matched", "duplicates", "forward", "early"],
        "properties": {
            "received": {"type": "integer", "description": "Statuses the callback carried."},
            "matched": {"type": "integer", "description": "Matched to a message."},
            "duplicates": {"type": "integer", "description": "Already known: counted once."},
            "forward": {"type": "integer", "description": "Moved a message on."},
            "early": {
                "type": "integer",
                "description": "Message not known yet: kept, matched when it is.",
            },
        },
    },
    "Connection": {
        "type": "object",
        "required": ["connection", "account", "sandbox", "defaults", "templates"],
        "properties": {
            "connection": TEXT,
            "account": TEXT,
            "sandbox": {"type": "boolean"},
            "defaults": {
                "type": "object",
                "properties": {
                    "template_name": NULLABLE_TEXT,
                    "language": NULLABLE_TEXT,
                    "offer_lifetime": NULLABLE_TEXT,
                },
            },
            "templates": {"type": "integer", "minimum": 0},
        },
    },
    "Templates": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["id", "label", "default"],
            "properties": {
                "id": TEXT,
                "label": TEXT,
                "default": {"type": "boolean"},
                "header": {**NULLABLE_TEXT, "enum": ["image", "video", "none", None]},
                "body_params": {"type": "integer", "nullable": True},
                "coupon": {"type": "boolean", "nullable": True},
                "url": {"type": "boolean", "nullable": True},
                "expiry": {"type": "boolean", "nullable": True},
            },
        },
    },
    "ZapierHook": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {**TEXT, "description": "The subscription: Zapier keeps it to unsubscribe."},
            "deleted": {"type": "boolean"},
        },
    },
    "StatusRecord": {
        "type": "object",
        "description": "One status change of a message (connector/notify/record.py): what a "
        "Zapier hook receives. Never the recipient's full number.",
        "required": ["id", "type", "event_id", "status", "at", "connection"],
        "properties": {
            "id": {**TEXT, "description": "Event id and status: unique per change."},
            "type": {"type": "string", "enum": ["message.status"]},
            "event_id": TEXT,
            "status": {
                "type": "string",
                "enum": ["sent", "delivered", "read", "failed", "not-sent"],
            },
            "at": {"type": "string", "format": "date-time"},
            "connection": TEXT,
            "platform": TEXT,
            "platform_ref": NULLABLE_TEXT,
            "message_id": NULLABLE_TEXT,
            "template_name": NULLABLE_TEXT,
            "recipient_last4": NULLABLE_TEXT,
            "ref": NULLABLE_TEXT,
            "error_code": NULLABLE_TEXT,
            "error_reason": NULLABLE_TEXT,
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    },
    "Readiness": {
        "type": "object",
        "required": ["status", "checks", "sandbox"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not_ready"]},
            "checks": {"type": "object", "additionalProperties": TEXT},
            "sandbox": {"type": "boolean"},
            "paused_accounts": {"type": "object", "additionalProperties": NULLABLE_TEXT},
        },
    },
}
