"""The Shopify Flow action extension (``manifests/shopify-flow/shopify.extension.toml``).

Flow has no list or date field, so body variables are numbered text fields (``body_1`` ...) and the
expiry is ISO-8601 text; merchants fill each field with Flow variables such as
``{{customer.phone}}``. Flow posts them as ``properties`` to ``/hooks/shopify/flow``.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from .catalog import by_key
from .render import GENERATED

HANDLE = "send-whatsapp-lto"
BODY_VARIABLES = 5
# the offer fields a merchant fills in Flow, in the order Flow shows them
FIELDS = (
    "to",
    "template_name",
    "language",
    "header_image_url",
    "header_video_url",
    "expires_at",
    "expires_in",
    "coupon_code",
    "url_param",
    "ref",
)
FLOW_TYPES = {"url": "url"}  # everything else is one line of text
HELP = {"to": "Map it from the trigger, e.g. {{customer.phone}}."}


def flow_field(key: str, label: str, description: str, kind: str, required: bool) -> dict[str, Any]:
    return {
        "type": FLOW_TYPES.get(kind, "single_line_text_field"),
        "key": key,
        "name": label,
        "description": description,
        "required": required,
    }


def numbered_body_fields(count: int) -> list[dict[str, Any]]:
    return [
        flow_field(
            f"body_{n}",
            f"Body variable {n}",
            f"The template's {{{{{n}}}}}. Leave the later ones empty if it has fewer.",
            "text",
            False,
        )
        for n in range(1, count + 1)
    ]


def extension(public_url: str) -> dict[str, Any]:
    fields = by_key()
    settings = []
    for key in FIELDS:
        field = fields[key]
        help_text = f"{field.help} {HELP[key]}" if key in HELP else field.help
        settings.append(flow_field(key, field.label, help_text, field.kind, field.required))
        if key == "language":  # body variables sit after the template and its language
            settings += numbered_body_fields(BODY_VARIABLES)
    # Flow reads [[extensions]] and a top-level [settings] with its [[settings.fields]]
    return {
        "extensions": [
            {
                "name": "Send WhatsApp offer",
                "type": "flow_action",
                "handle": HANDLE,
                "description": "Send a WhatsApp limited-time offer through Kaleyra",
                "runtime_url": f"{public_url}/hooks/shopify/flow",
            }
        ],
        "settings": {"fields": settings},
    }


def files(public_url: str) -> dict[str, str]:
    text = f"# {GENERATED}\n\n" + tomli_w.dumps(extension(public_url))
    return {"shopify-flow/shopify.extension.toml": text}
