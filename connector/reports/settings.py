"""A connection's delivery-report settings: the secret Kaleyra's callback profile carries, and
where each platform wants to hear what happened (CleverTap's report URL, WebEngage's tracking
URL and token, a Standard Webhooks URL and secret)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

WEBENGAGE_REGIONS = {
    "us": "https://wt.webengage.com/tracking/events",
    "in": "https://wt.in.webengage.com/tracking/events",
    "ksa": "https://wt.ksa.webengage.com/tracking/events",
}
DELIVERED_AS = ("whatsapp_delivered", "whatsapp_sent")
CALLBACK_TOKEN_MIN = 16


@dataclass(frozen=True)
class WebEngageReports:
    url: str
    token: str = field(repr=False)
    delivered_as: str = "whatsapp_delivered"


@dataclass(frozen=True)
class WebhookReports:
    url: str
    secret: str = field(repr=False)  # whsec_<base64>


@dataclass(frozen=True)
class Reports:
    callback_token: str | None = field(default=None, repr=False)
    clevertap_url: str | None = None
    webengage: WebEngageReports | None = None
    webhook: WebhookReports | None = None


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def check_webhook_secret(secret: str) -> str | None:
    """A problem with a Standard Webhooks secret, or None: ``whsec_`` then base64 of 24-64 bytes."""
    raw = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(raw + "==", validate=False)
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        return "Must be whsec_ followed by the base64 of 24 to 64 random bytes."
    return None


class WebEngageSchema(_Strict):
    url = fields.Url(load_default=None, require_tld=False)
    region = fields.String(load_default=None, validate=validate.OneOf(list(WEBENGAGE_REGIONS)))
    token = fields.String(required=True, validate=validate.Length(min=1))
    delivered_as = fields.String(
        load_default="whatsapp_delivered", validate=validate.OneOf(DELIVERED_AS)
    )

    @validates_schema
    def one_destination(self, data: dict[str, Any], **kwargs: Any) -> None:
        if bool(data.get("url")) == bool(data.get("region")):
            raise ValidationError("Give either url or region (us, in, ksa).", "url")


class WebhookSchema(_Strict):
    url = fields.Url(required=True, require_tld=False)
    secret = fields.String(required=True)

    @validates_schema
    def secret_shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        problem = check_webhook_secret(data.get("secret", ""))
        if problem:
            raise ValidationError(problem, "secret")


class ReportsSchema(_Strict):
    callback_token = fields.String(
        load_default=None, validate=validate.Length(min=CALLBACK_TOKEN_MIN)
    )
    clevertap_url = fields.Url(load_default=None, require_tld=False)
    webengage = fields.Nested(WebEngageSchema, load_default=None)
    webhook = fields.Nested(WebhookSchema, load_default=None)


def build_reports(data: Mapping[str, Any] | None) -> Reports:
    """``ReportsSchema``'s output as ``Reports``."""
    data = data or {}
    we = data.get("webengage")
    hook = data.get("webhook")
    return Reports(
        callback_token=data.get("callback_token"),
        clevertap_url=data.get("clevertap_url"),
        webengage=WebEngageReports(
            url=we.get("url") or WEBENGAGE_REGIONS[we["region"]],
            token=we["token"],
            delivered_as=we.get("delivered_as", "whatsapp_delivered"),
        )
        if we
        else None,
        webhook=WebhookReports(hook["url"], hook["secret"]) if hook else None,
    )


def reports_from_env(env: Mapping[str, str]) -> tuple[Reports, list[str]]:
    """The env-only connection's settings: CONNECTOR_CALLBACK_TOKEN, CLEVERTAP_REPORT_URL,
    WEBENGAGE_REPORT_URL or WEBENGAGE_REGION with WEBENGAGE_REPORT_TOKEN and
    WEBENGAGE_DELIVERED_AS, STATUS_WEBHOOK_URL with STATUS_WEBHOOK_SECRET."""

    def text(name: str) -> str | None:
        return env.get(name, "").strip() or None

    raw: dict[str, Any] = {
        "callback_token": text("CONNECTOR_CALLBACK_TOKEN"),
        "clevertap_url": text("CLEVERTAP_REPORT_URL"),
    }
    if text("WEBENGAGE_REPORT_TOKEN") or text("WEBENGAGE_REPORT_URL") or text("WEBENGAGE_REGION"):
        raw["webengage"] = {
            "url": text("WEBENGAGE_REPORT_URL"),
            "region": (text("WEBENGAGE_REGION") or "").lower() or None,
            "token": text("WEBENGAGE_REPORT_TOKEN") or "",
            "delivered_as": text("WEBENGAGE_DELIVERED_AS") or "whatsapp_delivered",
        }
    if text("STATUS_WEBHOOK_URL") or text("STATUS_WEBHOOK_SECRET"):
        raw["webhook"] = {
            "url": text("STATUS_WEBHOOK_URL") or "",
            "secret": text("STATUS_WEBHOOK_SECRET") or "",
        }
    names = {
        "callback_token": "CONNECTOR_CALLBACK_TOKEN",
        "clevertap_url": "CLEVERTAP_REPORT_URL",
        "webengage": "WEBENGAGE_REPORT_*",
        "webhook": "STATUS_WEBHOOK_*",
    }
    try:
        return build_reports(
            ReportsSchema().load({k: v for k, v in raw.items() if v is not None})
        ), []
    except ValidationError as exc:
        problems = []
        for key, messages in exc.normalized_messages().items():
            problems.append(f"{names.get(key, key)}: {messages}")
        return Reports(), problems
