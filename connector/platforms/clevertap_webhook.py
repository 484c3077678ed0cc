"""CleverTap's Webhooks channel (``/hooks/clevertap/webhook``): one POST for many profiles.

CleverTap posts ``{"targetId", "key_values": {...}, "profiles": [{...}, ...]}`` (``profiles`` is one
object when the campaign personalises with Liquid). The campaign's key-value pairs are the offer's
fields (``template_name``, ``expires_in``, ``body_1`` ...), ``{{path}}`` in a value is filled from
the profile (``{{name}}``, ``{{profileData.coupon}}``); a profile's own ``key_values`` win. The
recipient is the profile's ``phone``; ``targetId`` + ``objectId`` is the dedupe key. CleverTap waits
3 seconds, so each message is stored and queued, and the batch is answered 200 with each
profile's outcome: one bad profile never makes CleverTap resend the good ones. The test call
CleverTap makes when the webhook is saved (``"is_test": true``) is answered 200 and sends nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Request, Response
from marshmallow import ValidationError, fields
from werkzeug.datastructures import MultiDict

from .. import fields as f
from ..errors import ConnectorError, InvalidInput, MalformedBody
from ..mapping import fill_query
from ..relay import Submission
from .base import Platform, PlatformSchema, Tenant, accepted_body, json_response, read_json
from .clevertap import CleverTapPlatform
from .loose import blank
from .routedoc import Answer, RouteDoc, errors


class CleverTapWebhookRequest(PlatformSchema):
    """What CleverTap's Webhooks channel posts: the campaign's pairs and its profiles."""

    targetId = f.Identifier(load_default=None)
    key_values = f.Object(load_default=dict)
    profiles = fields.Raw(
        required=True,
        metadata={
            "description": "The profiles (one object when the campaign personalises).",
            "openapi": {"oneOf": [{"type": "array", "items": {"type": "object"}},
                                  {"type": "object"}]},
        },
    )  # fmt: skip
    is_test = f.Boolean(load_default=False)


# built once and shared: building a schema deep-copies its fields, dearer than a load
WEBHOOK_REQUEST = CleverTapWebhookRequest()


def lower_keys(record: dict[str, Any]) -> dict[str, Any]:
    """CleverTap's samples spell keys both ways (``phone``/``Phone``, ``objectId``/``ObjectId``)."""
    return {str(k)[:1].lower() + str(k)[1:]: v for k, v in record.items()}


class CleverTapWebhook(CleverTapPlatform):
    name = "clevertap_webhook"
    path = "/hooks/clevertap/webhook"
    summary = "CleverTap Webhooks channel: many profiles per call (Basic or API key)."
    doc = RouteDoc(
        body={"application/json": CleverTapWebhookRequest},
        answers={
            200: Answer("Each profile's outcome", "CleverTapWebhookAnswer"),
            **errors(400, 401, 409, 413, 422, 503),
        },
        security=(("basic",), ("apiKey",)),
    )

    def handle(self, request: Request) -> Response:
        try:
            tenant = self.authenticate(request)
            try:
                envelope = WEBHOOK_REQUEST.load(read_json(request))
            except ValidationError as exc:
                raise InvalidInput.from_messages(exc.messages) from None
            profiles = envelope["profiles"]
            profiles = [profiles] if isinstance(profiles, dict) else profiles
            if not isinstance(profiles, list):
                raise MalformedBody("profiles must be a list of profiles (or one profile).")
            if envelope["is_test"]:
                return json_response({"status": "success", "test": True, "profiles": len(profiles)})
            results = [self.one(envelope, p, tenant) for p in profiles]
        except ConnectorError as error:
            return self.respond_error(error)
        sent = sum(1 for r in results if r.get("status") != "not_sent")
        return json_response({"status": "success", "accepted": sent, "messages": results})

    def one(self, envelope: dict[str, Any], profile: Any, tenant: Tenant) -> dict[str, Any]:
        """One profile's message; an unsendable profile is reported, not raised."""
        try:
            if not isinstance(profile, dict):
                raise MalformedBody("Each profile must be a JSON object.")
            profile = lower_keys(profile)
            own = profile.get("key_values") if isinstance(profile.get("key_values"), dict) else {}
            pairs = {k: pair_text(k, v) for k, v in {**envelope["key_values"], **own}.items()}
            inputs = fill_query(MultiDict(pairs), profile)
            if blank(inputs.get("to")) and not blank(profile.get("phone")):
                inputs["to"] = profile["phone"]
            offer = self.offer(inputs, tenant, loose=True)
            target, who = envelope["targetId"], profile.get("objectId") or profile.get("identity")
            delivery = f"{target}:{who}" if target is not None and who else None
            submission: Submission = self.submission(
                offer,
                tenant,
                delivery_id=delivery,
                delivery_field="objectId" if profile.get("objectId") else "identity",
            )
            settled = self.runtime.relay.submit(replace(submission, respond_async=True))
            return accepted_body(settled)
        except InvalidInput as error:
            return {**error.to_body(), "status": "not_sent", "profile": _who(profile)}

    def parse(self, request: Request, tenant: Tenant) -> Submission:  # handle reads many
        raise NotImplementedError

    def respond_error(self, error: ConnectorError) -> Response:
        """A refused batch is the connector's error body with its status (not the Generic
        provider's 200 failure): CleverTap retries the batch on 429 and 5xx."""
        return Platform.respond_error(self, error)


def pair_text(key: str, value: Any) -> str:
    """A key-value pair's value as text; an object or list is refused (its repr is no offer)."""
    if isinstance(value, dict | list):
        message = "Must be text, a number or true/false (a key-value pair's value)."
        raise InvalidInput(
            f"key_values.{key}: {message}",
            code="invalid_type",
            errors={f"key_values.{key}": [{"code": "invalid_type", "message": message}]},
        )
    return "" if value is None else str(value)


def _who(profile: Any) -> Any:
    if not isinstance(profile, dict):
        return None
    profile = lower_keys(profile)
    return profile.get("objectId") or profile.get("identity")
