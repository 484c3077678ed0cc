"""The offer's fields as every manifest shows them, read from ``OfferSchema`` itself.

Labels, help text, examples and required come from the schema's field metadata; the kind (phone,
list, date-time, ...) from the field's class. Zapier, HubSpot and Shopify Flow each turn a
``ManifestField`` into their own field format, so none of them can drift from the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import fields as f
from ..offer import OfferSchema

# field class → kind; the first match wins (MediaId is a Text, so it comes before Text)
KINDS: tuple[tuple[type, str], ...] = (
    (f.Phone, "phone"),
    (f.Language, "language"),
    (f.BodyParams, "list"),
    (f.ExpiresAt, "datetime"),
    (f.ExpiresIn, "duration"),
    (f.MediaUrl, "url"),
    (f.MediaId, "media_id"),
    (f.Text, "text"),
)


@dataclass(frozen=True)
class ManifestField:
    key: str
    label: str
    help: str
    required: bool
    kind: str  # phone | template | language | list | datetime | duration | url | media_id | text
    example: Any = None
    max_length: int | None = None

    @property
    def help_with_example(self) -> str:
        if self.example is None:
            return self.help
        shown = ", ".join(self.example) if isinstance(self.example, list) else self.example
        return f"{self.help} Example: `{shown}`."


def offer_fields() -> list[ManifestField]:
    """Every field of the canonical offer, in the schema's order."""
    out = []
    for key, field in OfferSchema().fields.items():
        meta = field.metadata
        kind = "template" if key == "template_name" else _kind(field)
        out.append(
            ManifestField(
                key=key,
                label=meta["label"],
                help=meta["description"],
                required=field.required,
                kind=kind,
                example=meta.get("example"),
                max_length=getattr(field, "max_length", None),
            )
        )
    return out


def _kind(field: Any) -> str:
    for cls, kind in KINDS:
        if isinstance(field, cls):
            return kind
    raise TypeError(f"no manifest kind for {type(field).__name__}")


def by_key() -> dict[str, ManifestField]:
    return {field.key: field for field in offer_fields()}


# what a send answers (``platforms.base.accepted_body``), with the labels manifests show
ACCEPTED_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "Event id", "string"),
    ("status", "Status", "string"),
    ("message_id", "Kaleyra message id", "string"),
    ("wa_source", "WhatsApp source", "string"),
    ("sandbox", "Sandbox", "boolean"),
    ("replayed", "Repeated call", "boolean"),
)
ACCEPTED_SAMPLE: dict[str, Any] = {
    "id": "evt_5f0c8a2e9b1d4c7f8a3e6b2d1c0f9e8a",
    "status": "accepted",
    "message_id": "4a7f1e2c-6b3d-4e8f-9a1b-2c3d4e5f6a7b",
    "wa_source": "zapier",
    "sandbox": False,
    "replayed": False,
}
