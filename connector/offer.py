"""The canonical Limited-Time-Offer message: ``Offer`` and the one schema that builds it.

Every route, platform and CLI command ends here: a platform's own payload is mapped to the
canonical field names, then ``OfferSchema`` applies the rules once. The same schema feeds the
OpenAPI document and, later, the platform manifests.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, post_load, pre_load, validates_schema

from . import fields as f
from .errors import Coded, InvalidInput

HEADER_FIELDS = ("header_image_id", "header_image_url", "header_video_id", "header_video_url")


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Header:
    kind: str  # "image" | "video"
    id: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    to: str
    template_name: str
    language: str
    header: Header | None = None
    body_params: tuple[str, ...] = ()
    expiration_ms: int | None = None
    expires_in_s: int | None = None  # kept so a repeated relative expiry dedupes
    coupon_code: str | None = None
    url_param: str | None = None
    ref: str | None = None
    ref1: str | None = None
    ref2: str | None = None
    idempotency_key: str | None = field(default=None, compare=False)

    def fingerprint(self) -> str:
        """A stable hash of what the customer would receive (not of when it was asked for)."""
        return fingerprint_of(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The offer as JSON-ready data (what ``dataclasses.asdict`` gives, without its deep
        copies: this runs for every message)."""
        data = {name: getattr(self, name) for name in OFFER_FIELDS}
        if self.header is not None:
            header = self.header
            data["header"] = {"kind": header.kind, "id": header.id, "link": header.link}
        data["body_params"] = list(self.body_params)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Offer:
        data = dict(data)
        header = data.pop("header", None)
        data["body_params"] = tuple(data.get("body_params") or ())
        return cls(header=Header(**header) if header else None, **data)


OFFER_FIELDS = tuple(f.name for f in fields(Offer))


def fingerprint_of(offer: dict[str, Any]) -> str:
    """The hash of an offer's ``to_dict()``: equal offers (and the same offer asked for again
    with the same relative expiry) hash alike; the idempotency key is not part of it."""
    data = {k: v for k, v in offer.items() if k != "idempotency_key"}
    if offer.get("expires_in_s") is not None:
        data.pop("expiration_ms", None)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class OfferDefaults:
    """What an offer takes when the caller leaves a field out (per connection)."""

    region: str | None = None
    language: str | None = "en"
    template_name: str | None = None
    expires_in: str | None = None  # the offer lifetime, e.g. "14d"
    header: tuple[str, str] | None = None  # (header field, value)

    def fill(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if self.template_name and _absent(data.get("template_name")):
            data["template_name"] = self.template_name
        if self.expires_in and all(_absent(data.get(k)) for k in ("expires_at", "expires_in")):
            data["expires_in"] = self.expires_in
        if self.header and all(_absent(data.get(k)) for k in HEADER_FIELDS):
            data[self.header[0]] = self.header[1]
        return data


def _absent(value: Any) -> bool:
    return value is None or value == ""


class OfferSchema(Schema):
    """The rules of one LTO offer. ``load`` returns an ``Offer``."""

    to = f.Phone(
        required=True,
        metadata={
            "label": "WhatsApp number",
            "description": "The customer's phone number, any format; numbers without a country "
            "code take the connection's default region.",
            "example": "+919876543210",
        },
    )
    template_name = f.Text(
        required=True,
        min_length=1,
        max_length=512,
        pattern=r"[a-z0-9_]+",
        pattern_rule="Must use only lowercase letters, digits and underscores (WhatsApp template "
        "names).",
        metadata={
            "label": "Template",
            "description": "The approved WhatsApp limited-time-offer template's name.",
            "example": "lto_summer",
        },
    )
    language = f.Language(
        metadata={
            "label": "Language",
            "description": "The template's language code, e.g. en, en_US, pt_BR (default: the "
            "connection's, usually en).",
            "example": "en_US",
        }
    )
    header_image_id = f.MediaId(
        metadata={"label": "Header image id", "description": "Header image, as a media id."}
    )
    header_image_url = f.MediaUrl(
        metadata={
            "label": "Header image URL",
            "description": "Header image, as a public https URL (JPEG or PNG).",
            "example": "https://example.com/summer.jpg",
        }
    )
    header_video_id = f.MediaId(
        metadata={"label": "Header video id", "description": "Header video, as a media id."}
    )
    header_video_url = f.MediaUrl(
        metadata={
            "label": "Header video URL",
            "description": "Header video, as a public https URL (MP4).",
        }
    )
    body_params = f.BodyParams(
        metadata={
            "label": "Body variables",
            "description": "The template's body variables in order: {{1}}, {{2}}, ... No "
            "newlines or tabs.",
            "example": ["Asha", "20%"],
        }
    )
    expires_at = f.ExpiresAt(
        metadata={
            "label": "Offer ends at",
            "description": "When the offer ends: ISO-8601 with a UTC offset, or epoch "
            "milliseconds. Give this or 'Offer lasts', not both.",
            "example": "2026-12-31T23:59:00+05:30",
        }
    )
    expires_in = f.ExpiresIn(
        metadata={
            "label": "Offer lasts",
            "description": "How long the offer lasts from the moment it is sent: 14d, 48h, 90m "
            "or P14D. Give this or 'Offer ends at', not both.",
            "example": "48h",
        }
    )
    coupon_code = f.Text(
        min_length=1,
        max_length=15,
        metadata={
            "label": "Coupon code",
            "description": "The copy-code button's coupon, 1-15 characters.",
            "example": "SUMMER20",
        },
    )
    url_param = f.Text(
        min_length=1,
        max_length=2000,
        metadata={
            "label": "URL button suffix",
            "description": "The dynamic part appended to the URL button's link.",
            "example": "summer-sale",
        },
    )
    ref = f.Text(
        max_length=255,
        metadata={
            "label": "Reference",
            "description": "Your reference, echoed in Kaleyra's reports (e.g. an order id).",
        },
    )
    ref1 = f.Text(
        max_length=255,
        metadata={"label": "Reference 1", "description": "A second reference for reports."},
    )
    ref2 = f.Text(
        max_length=255,
        metadata={"label": "Reference 2", "description": "A third reference for reports."},
    )
    idempotency_key = f.Text(
        min_length=1,
        max_length=255,
        metadata={
            "label": "Idempotency key",
            "description": "Calls repeated with the same key send one message.",
        },
    )

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": Coded("unknown_field", "Unknown field."),
        "type": Coded("malformed_body", "Must be a JSON object."),
    }

    def __init__(
        self,
        *,
        defaults: OfferDefaults | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        expiry_margin_s: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.defaults = defaults or OfferDefaults()
        self.default_region = self.defaults.region
        self.now_ms = clock
        # an offer must have at least this long left to be sent (CONNECTOR_EXPIRY_MARGIN)
        self.expiry_margin_s = expiry_margin_s

    @pre_load
    def prepare(self, data: Any, **kwargs: Any) -> Any:
        """Fold the caller's shape into the canonical fields, then fill the defaults."""
        data = self.fold(data)
        return self.defaults.fill(data) if isinstance(data, dict) else data

    def fold(self, data: Any) -> Any:
        return data

    @validates_schema(skip_on_field_errors=False)
    def check_combinations(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        headers = [name for name in HEADER_FIELDS if data.get(name)]
        if len(headers) > 1:
            for name in headers:
                errors.setdefault(name, []).append(
                    Coded(
                        "conflicting_fields", f"Give one header only, not {' and '.join(headers)}."
                    )
                )
        if data.get("expires_at") is not None and data.get("expires_in") is not None:
            message = Coded("conflicting_fields", "Give expires_at or expires_in, not both.")
            errors["expires_in"] = [message]
        expires_at = data.get("expires_at")
        if isinstance(expires_at, int) and expires_at <= self.now_ms():
            errors.setdefault("expires_at", []).append(
                Coded("expiry_in_past", "The offer would already have expired; use a future time.")
            )
        elif isinstance(expires_at, int) and expires_at <= self.now_ms() + self.margin_ms:
            errors.setdefault("expires_at", []).append(self._too_soon())
        expires_in = data.get("expires_in")
        if isinstance(expires_in, int) and expires_in * 1000 <= self.margin_ms:
            errors.setdefault("expires_in", []).append(self._too_soon())

        if not data.get("language") and not self.defaults.language:
            errors["language"] = [Coded("required", "This field is required.")]
        if errors:
            raise ValidationError(errors)

    @property
    def margin_ms(self) -> int:
        return self.expiry_margin_s * 1000

    def _too_soon(self) -> Coded:
        return Coded(
            "expiry_too_soon",
            f"The offer ends within {self.expiry_margin_s} s, too soon to reach the customer: "
            "offers are sent only while at least that long remains.",
        )

    @post_load
    def make_offer(self, data: dict[str, Any], **kwargs: Any) -> Offer:
        header = None
        for name in HEADER_FIELDS:
            if data.get(name):
                _, kind, source = name.split("_")
                value = data[name]
                header = Header(kind, id=value) if source == "id" else Header(kind, link=value)
        expires_in = data.get("expires_in")
        expiration_ms = data.get("expires_at")
        if expires_in is not None:
            expiration_ms = self.now_ms() + expires_in * 1000
        return Offer(
            to=data["to"],
            template_name=data["template_name"],
            language=data.get("language") or str(self.defaults.language),
            header=header,
            body_params=tuple(data.get("body_params") or ()),
            expiration_ms=expiration_ms,
            expires_in_s=expires_in,
            coupon_code=data.get("coupon_code"),
            url_param=data.get("url_param"),
            ref=data.get("ref") or None,
            ref1=data.get("ref1") or None,
            ref2=data.get("ref2") or None,
            idempotency_key=data.get("idempotency_key"),
        )


def load_offer(schema: OfferSchema, data: Any) -> Offer:
    """Run the offer rules; bad input becomes ``InvalidInput`` naming every field."""
    try:
        offer: Offer = schema.load(data)
    except ValidationError as exc:
        raise InvalidInput.from_messages(exc.messages) from None
    return offer
