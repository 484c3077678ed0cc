"""CleverTap: the "Generic (Other)" WhatsApp provider contract (``/hooks/clevertap``).

CleverTap posts one message per request with Basic auth, up to 1,500 in parallel, and waits one
second: the connector stores the event, queues it and answers at once. It reads the answer only on
HTTP 200: ``{"status":"success"}``, or ``{"status":"failure","error":{"code":2000..2004}}``
(2000 credentials, 2001 template parameters, 2002 phone, 2003 not subscribed, 2004 other).
When a provider is saved CleverTap sends a validation call (namespace
``whatsapp:hsm:technology:generic:verify``, ``msgId`` ``0|0|0|0``): it is answered, never relayed.
``msgId`` is the dedupe key. Following CleverTap's contract, refusals are 200 with a failure body.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Request, Response
from marshmallow import ValidationError, fields, post_load, pre_load

from .. import fields as f
from ..errors import ConnectorError, InvalidInput, MalformedBody, Unauthorized
from ..relay import Settled, Submission
from .base import ACCEPTED_OR_ON_ITS_WAY, Platform, PlatformSchema, Tenant, json_response, read_json

VERIFY_NAMESPACE = "whatsapp:hsm:technology:generic:verify"
CREDENTIALS, TEMPLATE, PHONE, OTHER = 2000, 2001, 2002, 2004
# where each offer field came from in CleverTap's body, for errors CleverTap users recognise
SOURCE_NAMES = {
    "to": "to",
    "template_name": "template.namespace",
    "language": "template.languageCode",
    "header_image_url": "components.header",
    "header_video_url": "components.header",
    "body_params": "components.body.parameters",
    "expires_at": "components.limited_time_offer.expiration_time_ms",
    "coupon_code": "components.button(copy_code).coupon_code",
    "url_param": "components.button(dynamicUrl).text",
}


def _content(component: dict[str, Any]) -> dict[str, Any]:
    """CleverTap nests some components' content under their type (``{"type":"body","body":{}}``)."""
    inner = component.get(str(component.get("type")))
    return inner if isinstance(inner, dict) else component


def _parameters(component: dict[str, Any]) -> list[Any]:
    found = _content(component).get("parameters") or component.get("parameters") or []
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def source_name(field: str) -> str:
    """``body_params.1`` → ``components.body.parameters.1``: the name the platform's user knows."""
    base, dot, rest = field.partition(".")
    return SOURCE_NAMES.get(base, base) + dot + rest


class _Template(PlatformSchema):
    namespace = f.String(required=True)
    languageCode = f.String(load_default=None)


class CleverTapMessage(PlatformSchema):
    """One CleverTap send → the canonical offer's fields (plus ``msgId``)."""

    msgId = f.Identifier(load_default=None)
    to = fields.Raw(required=True)
    template = fields.Nested(_Template, required=True)
    components = fields.List(fields.Dict(), load_default=list)
    isTemplate = fields.Boolean(load_default=True)

    @pre_load
    def unwrap(self, data: Any, **kwargs: Any) -> Any:
        """The validation call comes wrapped in ``{"body": {...}}`` (older senders: unwrapped)."""
        if isinstance(data, dict) and isinstance(data.get("body"), dict) and "to" not in data:
            return data["body"]
        return data

    @post_load
    def to_offer_fields(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not data["isTemplate"]:
            raise ValidationError(
                "Only template messages can carry a limited-time offer.", "isTemplate"
            )
        out: dict[str, Any] = {
            "to": data["to"],
            "template_name": data["template"]["namespace"],
            "language": data["template"]["languageCode"],
            "msgId": data["msgId"],
        }
        for component in data["components"]:
            kind = str(component.get("type", "")).lower()
            content = _content(component)
            params = _parameters(component)
            if kind == "header":
                media_type = str(content.get("type", "image")).lower()
                found = content.get(media_type)
                media: dict[str, Any] = found if isinstance(found, dict) else {}
                link = media.get("mediaURL") or media.get("mediaUrl") or media.get("link")
                if media.get("id"):
                    out[f"header_{media_type}_id"] = media["id"]
                elif link:
                    out[f"header_{media_type}_url"] = link
            elif kind == "body":
                out["body_params"] = [str(p.get("text", "")) for p in params]
            elif kind == "limited_time_offer":
                for p in params:
                    lto = p.get("limited_time_offer") or {}
                    if "expiration_time_ms" in lto:
                        out["expires_at"] = lto["expiration_time_ms"]
            elif kind == "button":
                sub = str(component.get("subType") or component.get("sub_type") or "").lower()
                if sub == "copy_code":
                    out["coupon_code"] = next(
                        (p.get("coupon_code") for p in params if "coupon_code" in p), None
                    )
                elif sub in ("dynamicurl", "url"):
                    out["url_param"] = next((p.get("text") for p in params if "text" in p), None)
        return {k: v for k, v in out.items() if v is not None}


def is_verification(request: Request) -> bool:
    if VERIFY_NAMESPACE.encode() not in request.get_data(cache=True):
        return False
    try:
        data = CleverTapMessage().unwrap(read_json(request))
    except ConnectorError:
        return False
    template = data.get("template") if isinstance(data, dict) else None
    return isinstance(template, dict) and template.get("namespace") == VERIFY_NAMESPACE


class CleverTapPlatform(Platform):
    name = "clevertap"
    wa_source = "clevertap"
    path = "/hooks/clevertap"
    summary = "CleverTap 'Generic (Other)' WhatsApp provider (Basic auth; answers in 1 s)."
    always_async = True

    def authenticate(self, request: Request) -> Tenant:
        connections = self.runtime.connections
        found = None
        header = request.headers.get("Authorization", "")
        if header[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = ""
            found = connections.by_basic(user, password)
        refusal = (
            "Invalid credentials: set Basic authentication to the connection's "
            "username and password"
        )
        return self.tenant(
            found or connections.by_api_key(request.headers.get("X-Api-Key")), refusal
        )

    def handle(self, request: Request) -> Response:
        if is_verification(request):  # the save-time check: credentials only, nothing sent
            try:
                self.authenticate(request)
            except ConnectorError as error:
                return self.respond_error(error)
            return json_response({"status": "success"})
        return super().handle(request)

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        try:
            message = CleverTapMessage().load(read_json(request))
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        msg_id = message.pop("msgId", None)
        offer = self.offer(message, tenant, loose=True)
        return self.submission(offer, tenant, delivery_id=msg_id, delivery_field="msgId")

    def respond(self, settled: Settled) -> Response:
        event = settled.event
        if event.status in ACCEPTED_OR_ON_ITS_WAY:
            return json_response({"status": "success", "id": event.id})
        message = event.error_message or f"The message is {event.status}"
        return self._failure(OTHER, message)

    def respond_error(self, error: ConnectorError) -> Response:
        if isinstance(error, Unauthorized):
            return self._failure(CREDENTIALS, error.message)
        if isinstance(error, MalformedBody):
            return self._failure(OTHER, error.message)
        if isinstance(error, InvalidInput):
            code = PHONE if "to" in error.errors else TEMPLATE
            named = [
                f"{source_name(f)}: {i['message']}" for f, its in error.errors.items() for i in its
            ]
            return self._failure(code, "; ".join(named))
        if error.status in (409, 429, 503):  # a repeat still in flight, or not ready: retry later
            body = {"status": "failure", "error": {"code": OTHER, "message": error.message}}
            return json_response(body, 429, error.headers())
        return self._failure(OTHER, error.message)

    @staticmethod
    def _failure(code: int, message: str) -> Response:
        return json_response(
            {"status": "failure", "error": {"code": code, "message": message[:500]}}
        )
