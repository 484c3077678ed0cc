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

from typing import Any

from flask import Request, Response
from marshmallow import ValidationError, fields, post_load, pre_load

from .. import fields as f
from ..errors import Coded, ConnectorError, InvalidInput, MalformedBody, Unauthorized
from ..relay import Settled, Submission
from ..signatures import basic_credentials
from .base import ACCEPTED_OR_ON_ITS_WAY, Platform, PlatformSchema, Tenant, json_response, read_json
from .routedoc import Answer, RouteDoc

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


def source_name(field: str) -> str:
    """``body_params.1`` → ``components.body.parameters.1``: the name the platform's user knows."""
    base, dot, rest = field.partition(".")
    return SOURCE_NAMES.get(base, base) + dot + rest


def wrong_type(where: str, what: str) -> ValidationError:
    return ValidationError({where: [Coded("invalid_type", f"Must be {what}.")]})


def _object(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is an object; absent (None) is an empty one; anything else is an error
    naming ``where``, never a silently skipped part of the offer."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong_type(where, "a JSON object")
    return value


def _content(component: dict[str, Any], where: str) -> tuple[dict[str, Any], str]:
    """CleverTap nests some components' content under their type (``{"type":"body","body":{}}``);
    returns the content and where it is."""
    kind = component.get("type")
    if isinstance(kind, str) and kind in component:
        return _object(component[kind], f"{where}.{kind}"), f"{where}.{kind}"
    return component, where


def _parameters(component: dict[str, Any], where: str) -> list[tuple[dict[str, Any], str]]:
    """The component's parameters with where each one is."""
    content, at = _content(component, where)
    if content.get("parameters") is None and component.get("parameters") is not None:
        content, at = component, where
    found = content.get("parameters")
    if found is None:
        return []
    if not isinstance(found, list):
        raise wrong_type(f"{at}.parameters", "a list")
    return [
        (_object(p, f"{at}.parameters.{i}"), f"{at}.parameters.{i}") for i, p in enumerate(found)
    ]


class _Template(PlatformSchema):
    namespace = f.String(required=True)
    languageCode = f.String(load_default=None)


class CleverTapMessage(PlatformSchema):
    """One CleverTap send → the canonical offer's fields (plus ``msgId``)."""

    msgId = f.Identifier(load_default=None)
    to = fields.Raw(required=True)
    template = fields.Nested(_Template, required=True)
    components = f.List(f.Object(), load_default=list)
    isTemplate = f.Boolean(load_default=True)

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
        for i, component in enumerate(data["components"]):
            out.update(component_fields(component, f"components.{i}"))
        return {k: v for k, v in out.items() if v is not None}


# built once and shared: building a schema deep-copies its fields, dearer than a load
MESSAGE = CleverTapMessage()


def component_fields(component: dict[str, Any], where: str) -> dict[str, Any]:
    """The offer fields one component gives; values keep their type, for the offer's rules."""
    kind = str(component.get("type", "")).lower()
    params = _parameters(component, where)
    if kind == "header":
        content, at = _content(component, where)
        media_type = str(content.get("type", "image")).lower()
        media = _object(content.get(media_type), f"{at}.{media_type}")
        link = media.get("mediaURL") or media.get("mediaUrl") or media.get("link")
        if media.get("id"):
            return {f"header_{media_type}_id": media["id"]}
        return {f"header_{media_type}_url": link} if link else {}
    if kind == "body":
        return {"body_params": [p.get("text") for p, _ in params]}
    if kind == "limited_time_offer":
        out = {}
        for p, at in params:
            if "limited_time_offer" not in p:
                continue
            lto = p["limited_time_offer"]
            if not isinstance(lto, dict):
                raise wrong_type(f"{at}.limited_time_offer", "an object {expiration_time_ms}")
            if "expiration_time_ms" not in lto:
                raise ValidationError(
                    {f"{at}.limited_time_offer.expiration_time_ms": [
                        Coded("required", "This field is required.")]}
                )  # fmt: skip
            out["expires_at"] = lto["expiration_time_ms"]
        return out
    if kind == "button":
        sub = str(component.get("subType") or component.get("sub_type") or "").lower()
        if sub == "copy_code":
            found = [p["coupon_code"] for p, _ in params if "coupon_code" in p]
            return {"coupon_code": found[0]} if found else {}
        if sub in ("dynamicurl", "url"):
            found = [p["text"] for p, _ in params if "text" in p]
            return {"url_param": found[0]} if found else {}
    return {}


def is_verification(request: Request) -> bool:
    if VERIFY_NAMESPACE.encode() not in request.get_data(cache=True):
        return False
    try:
        data = MESSAGE.unwrap(read_json(request))
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
    doc = RouteDoc(
        body={"application/json": CleverTapMessage},
        answers={
            200: Answer("success once stored and queued; failure with its code", "CleverTapAnswer"),
            429: Answer("An identical call in flight, or the connector not ready: retry",
                        "CleverTapAnswer", retry_after=True),
        },
        security=(("basic",), ("apiKey",)),
        description="Also answers CleverTap's save-time validation call (namespace "
        "whatsapp:hsm:technology:generic:verify, wrapped in {\"body\": ...}) without sending.",
    )  # fmt: skip

    def authenticate(self, request: Request) -> Tenant:
        connections = self.runtime.connections
        credentials = basic_credentials(request.headers.get("Authorization", ""))
        found = connections.by_basic(*credentials) if credentials else None
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
            message = MESSAGE.load(read_json(request))
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
