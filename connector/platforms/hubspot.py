"""HubSpot: custom workflow actions (``/hooks/hubspot/action``) and the workflow "Send a webhook"
action (``/hooks/hubspot/webhook``). Both record ``wa_source`` ``hubspot``.

The action answers 200 with ``outputFields``: ``hs_execution_state`` SUCCESS, or FAIL_CONTINUE with
an ``errorCode`` the definition's ``executionRules`` can label; only transient failures are 429/5xx,
which HubSpot retries with the same ``callbackId`` (our dedupe key). With ``wait_for_delivery`` on,
an offer Kaleyra accepted is answered BLOCK: the workflow waits until the notifier completes the
callback with the delivery status (``notify/hubspot.py``); a repeat of the call answers BLOCK
again, or the final state once it is known.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from flask import Request, Response
from marshmallow import ValidationError, fields

from .. import fields as f
from ..errors import Coded, ConnectorError, InvalidInput, NotConfigured, Unauthorized
from ..hubspot_callbacks import (
    ACTION_PLATFORM,
    FINAL,
    NOT_DELIVERED,
    block,
    callback_ref,
    final_outputs,
)
from ..mapping import check_placeholders
from ..offer import OfferSchema
from ..outcomes import failure_error
from ..relay import Settled, Submission
from ..signatures import verify_hubspot
from ..store import Event
from ..store.reports import statuses_of
from .api import ApiPlatform
from .base import (
    ACCEPTED_OR_ON_ITS_WAY,
    Platform,
    PlatformSchema,
    Runtime,
    Tenant,
    json_response,
    read_json,
    request_api_key,
)
from .loose import blank, normalise_key
from .routedoc import (
    ACCEPTED_202,
    ERROR_ANSWERS,
    HUBSPOT_SIGNED,
    KEYED,
    Answer,
    RouteDoc,
    errors,
)

# The action's select fields that choose which other fields apply (the definition shows only
# the chosen one's fields): control → {option: the fields it shows}. Fields of another option,
# left over from an earlier choice, are dropped.
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "header_type": {
        "none": (),
        "image": ("header_image_url",),
        "video": ("header_video_url",),
    },
    "expiry_type": {
        "default": (),
        "at": ("expires_at",),
        "in": ("expires_in",),
    },
}
# where the recipient's number is looked for when no "to" input is mapped
PHONE_PROPERTIES = ("hs_whatsapp_phone_number", "mobilephone", "phone")
RETRIED_STATUSES = (429, 502, 503)
ACCOUNT_CODES = {
    "kaleyra_auth_failed",
    "kaleyra_sender_not_on_account",
    "kaleyra_api_not_enabled",
    "kaleyra_wrong_api_version",
}
ERROR_CODES = {
    "kaleyra_rejected": "KALEYRA_REJECTED",
    "kaleyra_low_balance": "KALEYRA_LOW_BALANCE",
    "delivery_uncertain": "DELIVERY_UNCERTAIN",
    "idempotency_conflict": "IDEMPOTENCY_CONFLICT",
}

# every errorCode a FAIL_CONTINUE answer can carry (the definition labels each one)
FAIL_CODES = (
    "INVALID_PHONE",
    "INVALID_OFFER",
    "KALEYRA_ACCOUNT_ERROR",
    *ERROR_CODES.values(),
    NOT_DELIVERED,
)
# the input that makes the workflow wait for the delivery status (HubSpot's BLOCK)
WAIT_FIELD = "wait_for_delivery"
WAIT_OPTIONS = ("no", "yes")


class _Origin(PlatformSchema):
    portalId = f.Integer()
    actionDefinitionId = f.Integer()
    actionDefinitionVersion = f.Integer()


class _CrmObject(PlatformSchema):
    objectId = fields.Raw()
    objectType = f.String()
    properties = f.Object(load_default=dict)


class HubSpotActionRequest(PlatformSchema):
    """The body HubSpot posts to a custom workflow action's ``actionUrl``."""

    callbackId = f.Identifier(required=True)
    origin = fields.Nested(_Origin, load_default=dict)
    context = f.Object(load_default=dict)
    object = fields.Nested(_CrmObject, load_default=dict)
    inputFields = f.Object(
        load_default=dict,
        metadata={
            "description": "The action's input fields: the offer's fields, plus the "
            "header_type and expiry_type choices.",
            "openapi": {"allOf": [{"$ref": "#/components/schemas/HubSpotInputFields"}]},
        },
    )


class _Waiting(PlatformSchema):
    wait_for_delivery = f.Boolean(
        load_default=False,
        allow_none=True,
        truthy={"yes", "Yes", "YES", "true", "True", "TRUE", True},
        falsy={"no", "No", "NO", "false", "False", "FALSE", "", False},
        error_messages={"invalid": Coded("invalid_choice", "Must be yes or no.")},
    )


# built once and shared: building a schema deep-copies its fields, dearer than a load
ACTION_REQUEST = HubSpotActionRequest()
WAITING = _Waiting()


def signed_uri(request: Request, public_url: str | None) -> str:
    """The URI HubSpot signed: the public base URL plus the path and query exactly as sent."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw and raw.startswith(("http://", "https://")):
        raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
    if not raw:
        raw = quote(request.environ.get("SCRIPT_NAME", "") + request.path)
        if request.query_string:
            raw += "?" + request.query_string.decode("latin-1")
    base = public_url or f"{request.scheme}://{request.host}"
    return base + raw


def record_properties(record: Any) -> dict[str, Any]:
    """A CRM record's properties, from the legacy ``{name: {"value": v}}`` or a flat shape."""
    if not isinstance(record, dict):
        return {}
    props: dict[str, Any] = {k: v for k, v in record.items() if not isinstance(v, dict | list)}
    nested = record.get("properties")
    if isinstance(nested, dict):
        for name, value in nested.items():
            props[name] = value.get("value") if isinstance(value, dict) else value
    return props


def phone_from(props: dict[str, Any]) -> Any:
    return next((props[name] for name in PHONE_PROPERTIES if not blank(props.get(name))), None)


def gives_recipient(inputs: dict[str, Any]) -> bool:
    """Whether the inputs name the recipient under any key the loose schema reads as ``to``."""
    return any(normalise_key(str(key)) == "to" and not blank(v) for key, v in inputs.items())


def verify_signature(runtime: Runtime, request: Request) -> None:
    """HubSpot's v3 (or v2) signature with the app's client secret; only an open sandbox may
    go without one."""
    secret = runtime.settings.hubspot_client_secret
    if not secret:
        if runtime.connections.open is not None:
            return
        raise NotConfigured("HubSpot calls cannot be verified: set HUBSPOT_CLIENT_SECRET")
    verify_hubspot(
        secret,
        request.headers,
        request.method,
        signed_uri(request, runtime.settings.public_url),
        request.get_data(cache=True),
        runtime.clock,
    )


class HubSpotSigned(Platform):
    wa_source = "hubspot"

    def verify_signature(self, request: Request) -> None:
        verify_signature(self.runtime, request)


class HubSpotAction(HubSpotSigned):
    name = ACTION_PLATFORM
    path = "/hooks/hubspot/action"
    summary = "HubSpot custom workflow action (signed v3, or v2)."
    doc = RouteDoc(
        body={"application/json": HubSpotActionRequest},
        answers={
            200: Answer(
                "SUCCESS, or FAIL_CONTINUE with an errorCode the definition labels",
                "HubSpotActionResponse",
            ),
            **errors(400, 401, 413),
            429: Answer("An identical call in flight, or Kaleyra's rate limit: HubSpot "
                        "retries", retry_after=True),
            502: Answer("Kaleyra answered an undocumented error: HubSpot retries",
                        retry_after=True),
            503: Answer("Kaleyra unavailable, or HUBSPOT_CLIENT_SECRET not set: HubSpot "
                        "retries", retry_after=True),
        },
        security=HUBSPOT_SIGNED,
    )  # fmt: skip

    def authenticate(self, request: Request) -> Tenant:
        """The signature proves HubSpot sent it; the portal picks the connection."""
        self.verify_signature(request)
        body = read_json(request)
        origin = body.get("origin") if isinstance(body, dict) else None
        portal = origin.get("portalId") if isinstance(origin, dict) else None
        return self.tenant(
            self.runtime.connections.by_portal(portal),
            f"HubSpot portal {portal} is not connected to this connector",
        )

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        try:
            envelope = ACTION_REQUEST.load(read_json(request))
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        inputs = dict(envelope["inputFields"])
        waits = wants_to_wait(inputs.pop(WAIT_FIELD, None))
        inputs = apply_choices(inputs)
        if not gives_recipient(inputs):
            phone = phone_from(envelope["object"].get("properties") or {})
            if phone is not None:
                inputs["to"] = phone
        offer = self.offer(inputs, tenant, loose=True)
        submission = self.submission(
            offer, tenant, delivery_id=envelope["callbackId"], delivery_field="callbackId"
        )
        if not waits:
            return submission
        portal = envelope["origin"].get("portalId")
        if portal is None or portal < 1:
            message = "The portal is needed to complete a workflow that waits for delivery."
            raise InvalidInput(
                f"origin.portalId: {message}",
                code="required",
                errors={"origin.portalId": [{"code": "required", "message": message}]},
            )
        ref = callback_ref(portal, envelope["callbackId"])
        return replace(submission, waits=True, platform_ref=ref)

    def respond(self, settled: Settled) -> Response:
        event = settled.event
        if event.status not in ACCEPTED_OR_ON_ITS_WAY:
            return self.respond_error(failure_error(event))
        if event.waits:
            return json_response({"outputFields": self.waiting(event)})
        output = {
            "hs_execution_state": "SUCCESS",
            "message_id": event.message_id,
            "event_id": event.id,
            "status": event.status,
            "sandbox": event.sandbox,
        }
        return json_response({"outputFields": output})

    def waiting(self, event: Event) -> dict[str, Any]:
        """BLOCK until Kaleyra reports a final status; then that status (a repeated call)."""
        status = event.delivery_status
        if status not in FINAL:
            return block(self.runtime.settings.hubspot.wait_expiration)
        report = next(
            (
                s
                for s in statuses_of(self.runtime.store.db.reader, event.id)
                if s["status"] == status
            ),
            {},
        )
        return final_outputs(event, status, report.get("error_code"), report.get("error_reason"))

    def respond_error(self, error: ConnectorError) -> Response:
        if isinstance(error, Unauthorized) or error.status in (400, 413):
            return super().respond_error(error)  # not HubSpot's business errors: plain JSON 4xx
        if error.status in RETRIED_STATUSES or error.code in ("in_progress", "not_configured"):
            status = 429 if error.code == "in_progress" else error.status
            return json_response(error.to_body(), status, error.headers())
        output = {
            "hs_execution_state": "FAIL_CONTINUE",
            "errorCode": hubspot_error_code(error),
            "errorMessage": error.message[:1000],
        }
        event_id = error.extra.get("id")
        if event_id:
            output["event_id"] = event_id
        return json_response({"outputFields": output})


def apply_choices(inputs: dict[str, Any]) -> dict[str, Any]:
    """Keep only the fields the action's ``header_type``/``expiry_type`` choices show."""
    for control, options in CHOICES.items():
        if control not in inputs:
            continue
        chosen = inputs.pop(control)
        if blank(chosen):
            continue
        if not isinstance(chosen, str) or chosen not in options:
            message = f"Must be one of {', '.join(options)}."
            raise InvalidInput(
                f"{control}: {message}",
                code="invalid_choice",
                errors={control: [{"code": "invalid_choice", "message": message}]},
            )
        for option, dependents in options.items():
            if option != chosen:
                for name in dependents:
                    inputs.pop(name, None)
    return inputs


def wants_to_wait(value: Any) -> bool:
    """The ``wait_for_delivery`` input: yes or no (true/false too); absent or empty is no."""
    try:
        return bool(WAITING.load({WAIT_FIELD: value})[WAIT_FIELD])
    except ValidationError as exc:
        raise InvalidInput.from_messages(exc.messages) from None


def hubspot_error_code(error: ConnectorError) -> str:
    if isinstance(error, InvalidInput):
        return "INVALID_PHONE" if "to" in error.errors else "INVALID_OFFER"
    if error.code in ACCOUNT_CODES:
        return "KALEYRA_ACCOUNT_ERROR"
    return ERROR_CODES.get(error.code, "KALEYRA_REJECTED")


_PLACEHOLDER = re.compile(r"\{\{\s*(?:properties\.)?([A-Za-z0-9_]+)\s*\}\}")


class HubSpotWebhook(HubSpotSigned, ApiPlatform):
    """The workflow "Send a webhook" action: the record in the body, offer fields in the query.

    Query values may use ``{{property}}`` placeholders filled from the record; ``to`` defaults to
    the record's WhatsApp, mobile or phone number.
    """

    name = "hubspot_webhook"
    wa_source = "hubspot"
    path = "/hooks/hubspot/webhook"
    summary = "HubSpot workflow 'Send a webhook' (signed, or API key)."
    doc = RouteDoc(
        body={"application/json": {"type": "object", "description": "The CRM record."}},
        body_required=False,
        answers={202: ACCEPTED_202, **ERROR_ANSWERS},
        security=(*HUBSPOT_SIGNED, *KEYED, ("apiKeyQuery",)),
        query_offer=True,
        query={"portalId": "When signed: the HubSpot portal (picks the connection)."},
        description="The record in the body; offer fields (the Offer's names) as query "
        "parameters, where {{property}} is filled from the record; to defaults to the "
        "record's WhatsApp, mobile or phone number.",
    )

    def authenticate(self, request: Request) -> Tenant:
        """Signed (the ``portalId`` query parameter picks the connection when there are many),
        or an API key header, which picks it itself."""
        connections = self.runtime.connections
        signed = (
            "X-HubSpot-Signature-v3" in request.headers or "X-HubSpot-Signature" in request.headers
        )
        if signed and self.runtime.settings.hubspot_client_secret:
            self.verify_signature(request)
            portal = request.args.get("portalId")
            return self.tenant(
                connections.by_portal(portal),
                f"HubSpot portal {portal} is not connected to this connector: add "
                "?portalId=<your portal id> to the webhook URL",
            )
        key = request_api_key(request) or request.args.get("api_key")
        return self.tenant(
            connections.by_api_key(key),
            "Sign the webhook (HubSpot request signature) or send the API key in the "
            "X-Api-Key header",
        )

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        record = read_json(request) if request.get_data(cache=True).strip() else {}
        props = record_properties(record)
        inputs: dict[str, Any] = {}
        if isinstance(record, dict):
            inputs.update({k: v for k, v in record.items() if k in OFFER_FIELDS})
        for key in request.args:
            if key in ("api_key", "portalId"):
                continue
            values = [_fill(key, value, props) for value in request.args.getlist(key)]
            inputs[key] = values[0] if len(values) == 1 else values
        if not gives_recipient(inputs):
            phone = phone_from(props)
            if phone is not None:
                inputs["to"] = phone
        return self.submission(self.offer(inputs, tenant, loose=True), tenant)


_PROPERTY = re.compile(r"^(?:properties\.)?[A-Za-z0-9_]+$")


def _fill(key: str, template: str, props: dict[str, Any]) -> str:
    """Fill ``{{property}}`` from the record; an empty one is an error, never a dropped value."""
    check_placeholders(key, template, _PROPERTY)
    empty = [m.group(1) for m in _PLACEHOLDER.finditer(template) if blank(props.get(m.group(1)))]
    if empty:
        message = f"{{{{{empty[0]}}}}} is empty for this record, so {key} would be blank."
        raise InvalidInput(
            f"{key}: {message}",
            code="empty",
            errors={key: [{"code": "empty", "message": message}]},
        )
    return _PLACEHOLDER.sub(lambda m: str(props[m.group(1)]), template)


OFFER_FIELDS = frozenset(OfferSchema().fields)
