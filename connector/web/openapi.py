"""``GET /openapi.json``: the OpenAPI document, built from the same marshmallow schemas."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response
from marshmallow import Schema, fields

from .. import __version__
from .. import fields as f
from ..offer import OfferSchema
from ..platforms import Platform
from ..platforms.base import json_response
from ..platforms.hubspot import HubSpotActionRequest


class AcceptedSchema(Schema):
    id = fields.String(metadata={"description": "The connector's event id."})
    status = fields.String(metadata={"example": "accepted"})
    message_id = fields.String(metadata={"description": "Kaleyra's message id."})
    wa_source = fields.String()
    sandbox = fields.Boolean()
    replayed = fields.Boolean(metadata={"description": "True when a repeat was answered."})


class FieldErrorSchema(Schema):
    code = fields.String()
    message = fields.String()


class ErrorSchema(Schema):
    code = fields.String(metadata={"example": "invalid_phone"})
    status = fields.Integer()
    message = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FieldErrorSchema)))


class HubSpotOutputFieldsSchema(Schema):
    hs_execution_state = fields.String(metadata={"enum": ["SUCCESS", "FAIL_CONTINUE"]})
    message_id = fields.String()
    event_id = fields.String()
    status = fields.String()
    errorCode = fields.String(
        metadata={"enum": ["INVALID_PHONE", "INVALID_OFFER", "KALEYRA_REJECTED",
                           "KALEYRA_ACCOUNT_ERROR", "KALEYRA_LOW_BALANCE",
                           "DELIVERY_UNCERTAIN", "IDEMPOTENCY_CONFLICT"]}
    )  # fmt: skip
    errorMessage = fields.String()


class HubSpotActionResponseSchema(Schema):
    outputFields = fields.Nested(HubSpotOutputFieldsSchema)


ERROR_STATUSES = {
    "400": "Body is not JSON (or not a form)",
    "401": "Unauthenticated, or Kaleyra refused the account's credentials (RBC001)",
    "402": "Kaleyra: low balance (E110)",
    "403": "Kaleyra: sender not on the account, or API not enabled (WA401, WA-401)",
    "409": "idempotency_key reused for another offer, or an identical call still in flight",
    "422": "Invalid offer (every field named), or Kaleyra refused the payload (WA400)",
    "429": "Kaleyra rate-limited the account; retry after Retry-After",
    "503": "Kaleyra unavailable or unreachable; retry after Retry-After",
    "504": "Sent, but Kaleyra did not answer: delivery uncertain, not resent",
}
PREFER = {
    "in": "header",
    "name": "Prefer",
    "required": False,
    "schema": {"type": "string", "example": "respond-async"},
    "description": "respond-async: store and queue, answer 202 at once; workers deliver.",
}


def _special_fields(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    if isinstance(field, f.ExpiresAt):
        return {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}
    if isinstance(field, f.ExpiresIn):
        return {"type": "string", "pattern": r"^(\d+[dhms]|P.+)$"}
    if isinstance(field, f.Phone):
        return {"type": "string", "format": "phone"}
    return {}


def build_spec(platforms: list[Platform]) -> dict[str, Any]:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Kaleyra LTO connector",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": "WhatsApp Limited-Time-Offer messages via Kaleyra."},
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            }
        },
    )
    plugin.converter.add_attribute_function(_special_fields)  # type: ignore[union-attr]
    spec.components.schema("Offer", schema=OfferSchema)
    spec.components.schema("Accepted", schema=AcceptedSchema)
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("HubSpotActionRequest", schema=HubSpotActionRequest)
    spec.components.schema("HubSpotActionResponse", schema=HubSpotActionResponseSchema)
    error = {"content": {"application/json": {"schema": "Error"}}}
    bodies = {"hubspot_action": "HubSpotActionRequest", "hubspot_webhook": None}
    for platform in platforms:
        body_schema = bodies.get(platform.name, "Offer")
        if platform.name == "hubspot_action":
            responses: dict[str, Any] = {
                "200": {
                    "description": "SUCCESS, or FAIL_CONTINUE with an errorCode",
                    "content": {"application/json": {"schema": "HubSpotActionResponse"}},
                },
                "401": {"description": "Signature missing, wrong or stale", **error},
                "429": {"description": "Identical call in flight or Kaleyra rate limit", **error},
                "503": {"description": "Kaleyra unavailable: HubSpot retries", **error},
            }
        else:
            responses = {
                "202": {
                    "description": "Accepted by Kaleyra (or stored and queued, with Prefer)",
                    "content": {"application/json": {"schema": "Accepted"}},
                },
                **{code: {"description": text, **error} for code, text in ERROR_STATUSES.items()},
            }
        operation: dict[str, Any] = {
            "summary": platform.summary,
            "operationId": platform.name,
            "tags": [platform.wa_source],
            "parameters": [PREFER],
            "responses": responses,
        }
        if platform.name in ("api", "zapier"):
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
        if body_schema:
            content: dict[str, Any] = {"application/json": {"schema": body_schema}}
            if platform.name == "zapier":
                content["application/x-www-form-urlencoded"] = {"schema": body_schema}
            operation["requestBody"] = {"required": True, "content": content}
        if platform.name == "hubspot_webhook":
            operation["description"] = (
                "The record in the body; offer fields (the Offer schema's names) as query "
                "parameters, where {{property}} is filled from the record."
            )
            operation["requestBody"] = {
                "content": {"application/json": {"schema": {"type": "object"}}}
            }
        spec.path(path=platform.path, operations={"post": operation})
    event_id = {"in": "path", "name": "event_id", "required": True, "schema": {"type": "string"}}
    spec.path(path="/v1/events/{event_id}", operations={"get": {
        "summary": "One message: status, attempts (phone masked)", "parameters": [event_id],
        "security": [{"bearer": []}, {"apiKey": []}],
        "responses": {"200": {"description": "The event"},
                      "404": {"description": "Unknown", **error}},
    }})  # fmt: skip
    spec.path(path="/v1/events/{event_id}/replay", operations={"post": {
        "summary": "Queue a dead, uncertain or failed message again (admin key)",
        "parameters": [event_id], "security": [{"bearer": []}, {"apiKey": []}],
        "responses": {"202": {"description": "Queued"}, "404": {"description": "Unknown", **error},
                      "409": {"description": "Not replayable in its status", **error}},
    }})  # fmt: skip
    keyed: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
    spec.path(path="/v1/me", operations={"get": {
        "summary": "The API key's connection: name, account, defaults (no secrets)",
        "security": keyed, "responses": {"200": {"description": "The connection"},
                                         "401": {"description": "Unknown key", **error}},
    }})  # fmt: skip
    spec.path(path="/v1/templates", operations={"get": {
        "summary": "The connection's templates as a JSON array of {id, label, shape...}",
        "security": keyed, "responses": {"200": {"description": "The templates"},
                                         "401": {"description": "Unknown key", **error}},
    }})  # fmt: skip
    spec.path(path="/hooks/hubspot/options", operations={"post": {
        "summary": "HubSpot optionsUrl: the portal's templates as HubSpot options (signed)",
        "responses": {"200": {"description": "{options, after, searchable}"},
                      "401": {"description": "Signature missing, wrong or stale", **error}},
    }})  # fmt: skip
    for path, summary in (("/healthz", "Liveness"), ("/readyz", "Readiness: store and upstream")):
        spec.path(
            path=path,
            operations={"get": {"summary": summary, "responses": {"200": {"description": "OK"}}}},
        )
    return spec.to_dict()


def openapi_blueprint(platforms: list[Platform]) -> Blueprint:
    bp = Blueprint("openapi", __name__)
    document = build_spec(platforms)

    @bp.get("/openapi.json")
    def openapi() -> Response:
        return json_response(document)

    return bp
