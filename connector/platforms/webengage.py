"""WebEngage: the WhatsApp Service Provider (WSP) contract (``/hooks/webengage``).

One message per POST, ``Authorization: Bearer <key>`` or Basic. The template data carries the
body variables, header media, URL-button parameter and coupon; WebEngage has no expiry field, so
the offer's end comes from ``customData`` (``offer_expires_at`` / ``offer_expires_in``) or the
connection's default offer lifetime. ``metadata.messageId`` is the dedupe key. Answers:
200 ``whatsapp_accepted`` (statusCode 0) once stored; 200 ``whatsapp_rejected`` with a code;
400 code 2010 with ``supportedVersion`` for an unknown version; 429 code 2015 to be retried.
"""

from __future__ import annotations

from typing import Any

from flask import Request, Response
from marshmallow import ValidationError, fields, post_load

from .. import fields as f
from ..errors import ConnectorError, InvalidInput, Unauthorized
from ..relay import Settled, Submission
from ..signatures import basic_credentials
from .base import ACCEPTED_OR_ON_ITS_WAY, Platform, PlatformSchema, Tenant, json_response, read_json
from .routedoc import Answer, RouteDoc

SUPPORTED_VERSIONS = ("1.0",)
INVALID_NUMBER = 2003
TEMPLATE_MISMATCH = 2021  # the variables do not fit the template
INVALID_TEMPLATE_DATA = 2022  # another template field is invalid (media, coupon, expiry...)
UNSUPPORTED_VERSION = 2010
THROTTLED = 2015
OTHER = 9988
MEDIA_TYPES = {"IMAGE": "image", "VIDEO": "video"}
SOURCE_NAMES = {
    "to": "whatsAppData.toNumber",
    "template_name": "templateData.templateName",
    "language": "templateData.language",
    "body_params": "templateData.templateVariables",
    "header_image_url": "templateData.mediaUrl",
    "header_video_url": "templateData.mediaUrl",
    "url_param": "templateData.buttonUrlParam",
    "coupon_code": "templateData.copyCodeText",
    "expires_at": "customData.offer_expires_at",
    "expires_in": "customData.offer_expires_in",
}


def source_name(field: str) -> str:
    """``body_params.1`` → ``templateData.templateVariables.1``: the platform's own name."""
    base, dot, rest = field.partition(".")
    return SOURCE_NAMES.get(base, base) + dot + rest


class _TemplateData(PlatformSchema):
    templateName = f.String(required=True)
    templateVariables = f.List(fields.Raw(allow_none=True), load_default=list)  # offer rules
    language = f.String(load_default=None)
    type = f.String(load_default="TEXT")
    mediaUrl = f.String(load_default=None)
    buttonUrlParam = f.String(load_default=None)
    copyCodeText = f.String(load_default=None)


class _WhatsAppData(PlatformSchema):
    toNumber = f.String(required=True)
    fromNumber = f.String(load_default=None)
    templateData = fields.Nested(_TemplateData, required=True)
    customData = f.Object(load_default=dict)


class _Metadata(PlatformSchema):
    messageId = f.Identifier(load_default=None)
    campaignType = f.String(load_default=None)
    timestamp = fields.Raw(load_default=None)


class WebEngageMessage(PlatformSchema):
    """One WSP request → the canonical offer's fields (plus ``messageId``)."""

    version = f.String(required=True, metadata={"enum": list(SUPPORTED_VERSIONS)})
    whatsAppData = fields.Nested(_WhatsAppData, required=True)
    metadata = fields.Nested(_Metadata, load_default=dict)

    @post_load
    def to_offer_fields(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        wa = data["whatsAppData"]
        template = wa["templateData"]
        custom = wa["customData"] or {}
        out: dict[str, Any] = {
            "to": wa["toNumber"],
            "template_name": template["templateName"],
            "language": template["language"],
            "body_params": template["templateVariables"],  # the offer's rules check each
            "url_param": template["buttonUrlParam"],
            "coupon_code": template["copyCodeText"],
            "expires_at": custom.get("offer_expires_at"),
            "expires_in": custom.get("offer_expires_in"),
            "messageId": data["metadata"].get("messageId"),
        }
        media = MEDIA_TYPES.get(str(template["type"]).upper())
        if template["mediaUrl"]:
            if media is None:
                raise ValidationError(
                    {"templateData.type": ["An LTO header is an IMAGE or a VIDEO."]}
                )
            out[f"header_{media}_url"] = template["mediaUrl"]
        return {k: v for k, v in out.items() if v not in (None, "", [])}


# built once and shared: building a schema deep-copies its fields, dearer than a load
WSP_MESSAGE = WebEngageMessage()


class WebEngagePlatform(Platform):
    name = "webengage"
    wa_source = "webengage"
    path = "/hooks/webengage"
    summary = "WebEngage WhatsApp Service Provider (WSP) integration (Bearer or Basic auth)."
    always_async = True
    doc = RouteDoc(
        body={"application/json": WebEngageMessage},
        answers={
            200: Answer("whatsapp_accepted once stored and queued, or whatsapp_rejected with "
                        "its statusCode", "WebEngageAnswer"),
            400: Answer("Unknown version (statusCode 2010, supportedVersion)", "WebEngageAnswer"),
            401: Answer("Invalid credentials", "WebEngageAnswer"),
            429: Answer("Throttled (statusCode 2015): WebEngage retries", "WebEngageAnswer",
                        retry_after=True),
        },
        security=(("bearer",), ("basic",)),
    )  # fmt: skip

    def authenticate(self, request: Request) -> Tenant:
        connections = self.runtime.connections
        header = request.headers.get("Authorization", "")
        credentials = basic_credentials(header)
        found = None
        if header[:7].lower() == "bearer ":
            found = connections.by_api_key(header[7:].strip())
        elif credentials is not None:
            found = connections.by_basic(*credentials)
        return self.tenant(
            found, "Invalid credentials: send 'Authorization: Bearer <API key>' or Basic auth"
        )

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        data = read_json(request)
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(data, dict) and version not in SUPPORTED_VERSIONS:
            raise ConnectorError(
                f"Version {version!r} is not supported.",
                status=400,
                code="unsupported_version",
            )
        try:
            message = WSP_MESSAGE.load(data)
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        message_id = message.pop("messageId", None)
        offer = self.offer(message, tenant, loose=True)
        return self.submission(
            offer, tenant, delivery_id=message_id, delivery_field="metadata.messageId"
        )

    def respond(self, settled: Settled) -> Response:
        event = settled.event
        if event.status in ACCEPTED_OR_ON_ITS_WAY:
            return json_response({"status": "whatsapp_accepted", "statusCode": 0})
        return self._rejected(OTHER, event.error_message or f"The message is {event.status}")

    def respond_error(self, error: ConnectorError) -> Response:
        if error.code == "unsupported_version":
            body = {
                "status": "whatsapp_rejected",
                "statusCode": UNSUPPORTED_VERSION,
                "message": error.message,
                "supportedVersion": SUPPORTED_VERSIONS[-1],
            }
            return json_response(body, 400)
        if isinstance(error, Unauthorized):
            return self._rejected(OTHER, error.message, 401)
        if isinstance(error, InvalidInput):
            if "to" in error.errors:
                code = INVALID_NUMBER
            elif error.code == "template_mismatch" or any(
                name.split(".")[0] == "body_params" for name in error.errors
            ):
                code = TEMPLATE_MISMATCH
            else:
                code = INVALID_TEMPLATE_DATA
            named = [
                f"{source_name(f)}: {i['message']}"
                for f, items in error.errors.items()
                for i in items
            ]
            return self._rejected(code, "; ".join(named))
        if error.status in (409, 429, 503):
            return self._rejected(THROTTLED, error.message, 429, error.headers())
        return self._rejected(OTHER, error.message)

    @staticmethod
    def _rejected(
        code: int, message: str, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        body = {"status": "whatsapp_rejected", "statusCode": code, "message": message[:500]}
        return json_response(body, status, headers)
