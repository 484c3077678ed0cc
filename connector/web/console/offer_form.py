"""The "try an offer" form, built from the same field catalog as the manifests.

Each field's label, help, required flag and kind come from ``manifests.catalog.offer_fields()``
(read from ``OfferSchema``), so the console cannot drift from the API or the manifests. The
connection's defaults show as placeholders, and its template shapes as the template picker's
choices. Errors come from the connector's one error body (``errors`` keyed by field, each
``{code, message}``) and are put at the field they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...connections import Connection
from ...fields import mask_phone
from ...manifests.catalog import ManifestField, offer_fields
from ...offer import Offer
from ...templates import catalog, describe

# shown at once; the others sit under "More fields"
MAIN = (
    "to",
    "template_name",
    "language",
    "header_image_url",
    "body_params",
    "expires_in",
    "expires_at",
    "coupon_code",
    "url_param",
)
INPUT_TYPES = {"phone": "tel", "url": "url"}
FORM_ERRORS = "_form"


@dataclass
class FormField:
    spec: ManifestField
    value: str = ""
    placeholder: str = ""
    note: str = ""  # the connection's default, or the kept number
    errors: list[dict[str, str]] = field(default_factory=list)
    required: bool = False  # required and nothing fills it when left empty

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def input_type(self) -> str:
        return INPUT_TYPES.get(self.spec.kind, "text")

    @property
    def multiline(self) -> bool:
        return self.spec.kind == "list"

    @property
    def main(self) -> bool:
        return self.key in MAIN


def offer_input(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form's non-empty fields as an offer; body variables are one per line."""
    data: dict[str, Any] = {}
    for spec in offer_fields():
        raw = str(form.get(spec.key) or "")
        if spec.kind == "list":
            lines = [line.strip() for line in raw.replace("\r\n", "\n").split("\n")]
            while lines and not lines[-1]:
                lines.pop()
            if lines:
                data[spec.key] = lines
        elif raw.strip():
            data[spec.key] = raw.strip()
    return data


def field_of(error_key: str) -> str:
    """``body_params.2`` belongs to ``body_params``; an unknown key to the form itself."""
    name = error_key.split(".", 1)[0]
    known = {spec.key for spec in offer_fields()}
    return name if name in known else FORM_ERRORS


def errors_by_field(errors: Mapping[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for key, items in errors.items():
        name = field_of(key)
        for item in items:
            message = item["message"]
            if key.startswith("body_params.") and key != name:
                message = f"{{{{{key.split('.', 1)[1]}}}}}: {message}"  # {{2}}: ...
            out.setdefault(name, []).append({"code": item["code"], "message": message})
    return out


def build_fields(
    values: Mapping[str, Any],
    errors: Mapping[str, list[dict[str, str]]],
    connection: Connection,
    kept_to: str | None = None,
) -> list[FormField]:
    d = connection.defaults
    defaults = {
        "template_name": d.template_name,
        "language": d.language,
        "expires_in": d.offer_lifetime,
    }
    if d.header:
        defaults[d.header[0]] = d.header[1]
    out = []
    for spec in offer_fields():
        value = values.get(spec.key)
        shown = "\n".join(value) if isinstance(value, list) else str(value or "")
        item = FormField(spec, value=shown, errors=list(errors.get(spec.key, [])))
        item.required = spec.required and not defaults.get(spec.key)
        if spec.key == "to":
            item.value = ""  # a number is never written back into a page
            if kept_to:
                item.note = f"Kept from your last preview: {mask_phone(kept_to)}. Type a number "
                item.note += "to replace it."
                item.placeholder = mask_phone(kept_to)
                item.required = False
        elif defaults.get(spec.key):
            item.placeholder = str(defaults[spec.key])
            item.note = f"Left empty, the connection's default is used: {defaults[spec.key]}."
        if not item.placeholder and spec.example is not None:
            example = spec.example
            item.placeholder = "\n".join(example) if isinstance(example, list) else str(example)
        out.append(item)
    return out


def template_choices(connection: Connection) -> list[dict[str, Any]]:
    entries = catalog(connection.templates, connection.defaults.template_name)
    return [{**entry, "describe": describe(entry)} for entry in entries]


@dataclass(frozen=True)
class Preview:
    """What the customer would see, WhatsApp-style."""

    to: str  # masked
    template: str
    language: str
    header_kind: str | None
    header_link: str | None  # shown as an image when it is one
    header_id: str | None
    body_params: tuple[str, ...]
    expires_ms: int | None
    coupon: str | None
    url_param: str | None

    @classmethod
    def of(cls, offer: Offer) -> Preview:
        header = offer.header
        return cls(
            to=mask_phone(offer.to),
            template=offer.template_name,
            language=offer.language,
            header_kind=header.kind if header else None,
            header_link=header.link if header else None,
            header_id=header.id if header else None,
            body_params=offer.body_params,
            expires_ms=offer.expiration_ms,
            coupon=offer.coupon_code,
            url_param=offer.url_param,
        )
