"""``GET /openapi.json``: the OpenAPI document, built from the same schemas the routes use.

Every hook is described as it is: its platform's own request body (``Platform.doc``, next to
the platform), its answers in the platform's format and status conventions, and the security
that lets a call in. The offer's rules (lengths, patterns, Meta's language codes, one expiry and
one header at most) are written into the ``Offer`` schema from the fields that enforce them, so
a generated client or a fuzzer meets the server's truth.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response
from marshmallow import Schema, fields

from .. import __version__
from .. import fields as f
from ..jsonio import dump_json
from ..languages import LANGUAGE_CODES
from ..offer import HEADER_FIELDS, OfferSchema
from ..platforms import Platform
from ..platforms.hubspot import CHOICES, WAIT_FIELD, WAIT_OPTIONS
from ..platforms.routedoc import KEYED, Answer, RouteDoc, SchemaRef, errors
from .hubspot_options import HubSpotOptionsRequest
from .openapi_schemas import ANSWERS, ref
from .zapier_hooks import LIST_MAX, ZapierSubscription

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "A connection's API key."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
    "basic": {"type": "http", "scheme": "basic", "description": "A connection's credentials "
              "(or any user with the API key as password)."},
    "hubspotSignatureV3": {"type": "apiKey", "in": "header", "name": "X-HubSpot-Signature-v3",
                           "description": "base64 HMAC-SHA256 of method, URI, body, timestamp."},
    "hubspotTimestamp": {"type": "apiKey", "in": "header",
                         "name": "X-HubSpot-Request-Timestamp"},
    "hubspotSignatureV2": {"type": "apiKey", "in": "header", "name": "X-HubSpot-Signature"},
    "hubspotSignatureVersion": {"type": "apiKey", "in": "header",
                                "name": "X-HubSpot-Signature-Version"},
    "callbackToken": {"type": "apiKey", "in": "header", "name": "X-Callback-Token",
                      "description": "The connection's reports.callback_token (also accepted "
                      "as the URL's last segment or the Basic auth password)."},
    "shopifyHmac": {"type": "apiKey", "in": "header", "name": "X-Shopify-Hmac-Sha256",
                    "description": "base64 HMAC-SHA256 of the raw body with the app secret."},
}  # fmt: skip
HEADERS = {
    "Prefer": "respond-async: store and queue, answer at once; workers deliver.",
    "Idempotency-Key": "Same as the idempotency_key field: repeats send one message.",
    "X-Shopify-Shop-Domain": "The shop: picks the connection.",
    "X-Shopify-Topic": "orders/create, checkouts/create, customers/create ...",
    "X-Shopify-Webhook-Id": "The delivery's id: the dedupe key.",
}
OFFER_QUERY = {
    "name": "offer",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "schema": {"type": "object", "additionalProperties": {"type": "string"}},
    "description": "Offer fields as query parameters (template_name, body_1 ...); {{path}} is "
    "filled from the body.",
}
DURATION = (
    r"^\s*(\d{1,9}\s*[dhmsDHMS]|[Pp](\d+[Ww])?(\d+[Dd])?"
    r"([Tt](\d+[Hh])?(\d+[Mm])?(\d+[Ss])?)?)\s*$"
)
BODY_PARAM = r"^(?!.* {5})[^\n\r\t]*$"  # no newline or tab, no run of 5 spaces (#132018)
NAMES = {
    "clevertap": "CleverTap",
    "hubspot": "HubSpot",
    "webengage": "WebEngage",
    "hubspot_options": "HubSpotOptions",
    "salesforce": "Salesforce",
    "shopify": "Shopify",
}


def schema_name(schema: Any) -> str:
    """Component names: a platform's private nested schemas take the platform's name."""
    cls = schema if isinstance(schema, type) else type(schema)
    name: str = cls.__name__
    if name.startswith("_"):
        module = cls.__module__.rsplit(".", 1)[-1]
        name = NAMES.get(module, module.title()) + name.lstrip("_")
    return name


def _openapi_metadata(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """A field may give its exact JSON schema in ``metadata["openapi"]``."""
    extra: dict[str, Any] = field.metadata.get("openapi", {})
    return extra


def field_rules(field: fields.Field) -> dict[str, Any]:
    """The JSON schema of one offer field: the rules its class enforces."""
    if isinstance(field, f.ExpiresAt):
        return {"oneOf": [
            {"type": "string", "format": "date-time", "minLength": 1},
            {"type": "integer", "minimum": f.MS_THRESHOLD, "maximum": f.LATEST_EXPIRY_MS - 1},
        ]}  # fmt: skip
    if isinstance(field, f.ExpiresIn):
        return {"type": "string", "pattern": DURATION}
    if isinstance(field, f.Phone):
        return {"type": "string", "format": "phone", "minLength": 1, "pattern": r"\d"}
    if isinstance(field, f.Language):
        return {"type": "string", "enum": sorted(LANGUAGE_CODES)}
    if isinstance(field, f.MediaUrl):
        return {"type": "string", "format": "uri", "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"}
    if isinstance(field, f.BodyParams):
        item = {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": BODY_PARAM}
        return {"anyOf": [
            {"type": "array", "items": item, "maxItems": 100},
            {"type": "string", "description": "A JSON array, or values separated by commas."},
        ]}  # fmt: skip
    if isinstance(field, f.Text):
        rules: dict[str, Any] = {"type": "string"}
        if field.min_length:
            rules["minLength"] = field.min_length
        if field.max_length is not None:
            rules["maxLength"] = field.max_length
        if field.pattern is not None:
            rules["pattern"] = f"^(?:{field.pattern.pattern})$"
        return rules
    return {}


def offer_schemas(generated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``Offer`` with every field's rules, at most one expiry and one header; ``LooseOffer`` (the
    tolerant input of automation tools) and HubSpot's input fields built on it."""
    offer = copy.deepcopy(generated)
    for name, field in OfferSchema().fields.items():
        keep = {k: v for k, v in offer["properties"][name].items() if k in ("description",
                                                                          "example")}  # fmt: skip
        offer["properties"][name] = {**field_rules(field), **keep}
    conflicts = [["expires_at", "expires_in"], *map(list, itertools.combinations(HEADER_FIELDS, 2))]
    offer["not"] = {"anyOf": [{"required": pair} for pair in conflicts]}
    offer["description"] = (
        "One LTO message. Unknown fields are refused; give expires_at or expires_in, not "
        "both, and one header at most. Regional language variants of a listed language "
        "(xx_YY) are accepted too."
    )
    loose = copy.deepcopy(offer)
    loose.pop("required", None)
    loose["additionalProperties"] = True
    loose["description"] = (
        "The offer as automation tools send it: the Offer's fields, also under other names "
        "(phone, template, coupon ...), as body_1..body_n, flattened a__b keys; blank values "
        "are left out, and the connection's defaults fill template_name and the expiry. A "
        "key that cannot be placed is refused."
    )
    choices = {
        "type": "object",
        "properties": {
            **{k: {"type": "string", "enum": list(v)} for k, v in CHOICES.items()},
            WAIT_FIELD: {
                "enum": [*WAIT_OPTIONS, "true", "false", True, False],
                "description": "yes: answer BLOCK and complete the callback with the delivery "
                "status once WhatsApp reports it.",
            },
        },
    }
    return {
        "Offer": offer,
        "LooseOffer": loose,
        "HubSpotInputFields": {"allOf": [ref("LooseOffer"), choices]},
    }


class _Document:
    def __init__(self) -> None:
        self.plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
        self.spec = APISpec(
            title="Kaleyra LTO connector",
            version=__version__,
            openapi_version="3.0.3",
            plugins=[self.plugin],
            info={"description": "WhatsApp Limited-Time-Offer messages via Kaleyra, from "
                  "marketing platforms: each hook speaks its platform's own format."},
            components={"securitySchemes": SECURITY_SCHEMES},
        )  # fmt: skip
        self.plugin.converter.add_attribute_function(_openapi_metadata)  # type: ignore[union-attr]
        self.spec.components.schema("Offer", schema=OfferSchema)
        for name, schema in ANSWERS.items():
            self.spec.components.schema(name, schema)

    def schema(self, given: SchemaRef | None) -> dict[str, Any]:
        if isinstance(given, str):
            return ref(given)
        if isinstance(given, type) and issubclass(given, Schema):
            name = schema_name(given)
            if name not in self.spec.components.schemas:
                self.spec.components.schema(name, schema=given)
            return ref(name)
        return dict(given) if isinstance(given, dict) else {}

    def answers(self, answers: dict[int, Answer] | Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for status, answer in sorted(answers.items()):
            item: dict[str, Any] = {"description": answer.description}
            if answer.schema is not None:
                item["content"] = {answer.media: {"schema": self.schema(answer.schema)}}
            if answer.retry_after:
                item["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}
                }
            out[str(status)] = item
        return out

    def route(self, platform: Platform) -> None:
        doc: RouteDoc = platform.doc
        parameters: list[dict[str, Any]] = [
            {"in": "header", "name": name, "required": False, "schema": {"type": "string"},
             "description": HEADERS[name]}
            for name in doc.headers
        ]  # fmt: skip
        parameters += [
            {"in": "query", "name": name, "required": False, "schema": {"type": "string"},
             "description": text}
            for name, text in doc.query.items()
        ]  # fmt: skip
        if doc.query_offer:
            parameters.append(OFFER_QUERY)
        operation: dict[str, Any] = {
            "summary": platform.summary,
            "operationId": platform.name,
            "tags": [platform.wa_source],
            "requestBody": {
                "required": doc.body_required,
                "content": {media: {"schema": self.schema(s)} for media, s in doc.body.items()},
            },
            "responses": self.answers(doc.answers),
            "security": security(doc.security),
        }
        if doc.description:
            operation["description"] = doc.description
        if parameters:
            operation["parameters"] = parameters
        operations = {"post": operation}
        if "HEAD" in platform.methods:
            operations["head"] = {
                "summary": f"{platform.summary.split('(')[0].strip()}: handshake",
                "operationId": f"{platform.name}_handshake",
                "tags": [platform.wa_source],
                "responses": {"200": {"description": "Ready"}},
                "security": [],
            }
        self.spec.path(path=platform.path, operations=operations)

    def others(self) -> None:
        keyed = security(KEYED)
        event_id = {"in": "path", "name": "event_id", "required": True,
                    "schema": {"type": "string"}}  # fmt: skip
        self.get("/v1/events/{event_id}", "One message: status, attempts (phone masked)", keyed,
                 {200: Answer("The event", "Event"), **errors(401),
                  404: Answer("No such event for this key")}, [event_id])  # fmt: skip
        self.spec.path(path="/v1/events/{event_id}/replay", operations={"post": {
            "summary": "Queue a dead, uncertain or failed message again (admin key)",
            "operationId": "replay", "parameters": [event_id], "security": keyed,
            "responses": self.answers({202: Answer("Queued again, same id", "Event"),
                                       **errors(401), 404: Answer("No such event"),
                                       409: Answer("Not replayable in its status")}),
        }})  # fmt: skip
        self.get(
            "/v1/me",
            "The API key's connection: name, account, defaults (no secrets)",
            keyed,
            {200: Answer("The connection", "Connection"), **errors(401)},
        )
        self.get(
            "/v1/templates",
            "The connection's templates (a Zapier dropdown)",
            keyed,
            {200: Answer("The templates", "Templates"), **errors(401)},
        )
        self.spec.path(path="/hooks/hubspot/options", operations={"post": {
            "summary": "HubSpot optionsUrl: the portal's templates as HubSpot options (signed)",
            "operationId": "hubspot_options",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": self.schema(HubSpotOptionsRequest)}}},
            "security": security((("hubspotSignatureV3", "hubspotTimestamp"),
                                  ("hubspotSignatureV2", "hubspotSignatureVersion"))),
            "responses": self.answers({200: Answer("The options", "HubSpotOptions"),
                                       **errors(400, 401, 413),
                                       422: Answer("A field of the request has the wrong type"),
                                       503: Answer("HUBSPOT_CLIENT_SECRET is not set")}),
        }})  # fmt: skip
        self.callbacks()
        self.zapier_hooks(keyed)
        self.get(
            "/oauth/hubspot/install",
            "Install the HubSpot app in a portal: a redirect to HubSpot's consent page",
            [],
            {302: Answer("To HubSpot's authorize URL (client_id, redirect_uri, scope, state)",
                         None),
             503: Answer("HubSpot OAuth is not configured")},
        )  # fmt: skip
        query = [{"in": "query", "name": name, "required": name == "state",
                  "schema": {"type": "string"}}
                 for name in ("code", "state", "error", "error_description")]  # fmt: skip
        self.get(
            "/oauth/hubspot/callback",
            "HubSpot's redirect after consent: the code is exchanged, the portal's tokens kept",
            [],
            {200: Answer("Installed: a page saying so", {"type": "string"}, "text/html"),
             400: Answer("The state is not this browser's own, or the user did not consent"),
             422: Answer("A query parameter is missing or wrong"),
             502: Answer("HubSpot refused the code or could not be reached"),
             503: Answer("HubSpot OAuth is not configured")},
            query,
        )  # fmt: skip
        self.get("/healthz", "Liveness", [], {200: Answer("The process runs", "Health")})
        self.get("/readyz", "Readiness: the store answers; upstream kaleyra or sandbox", [],
                 {200: Answer("Ready", "Readiness"),
                  503: Answer("The store does not answer", "Readiness")})  # fmt: skip
        self.get(
            "/metrics",
            "Prometheus figures, read from the store",
            [],
            {200: Answer("Prometheus text format", {"type": "string"}, "text/plain")},
        )
        self.get(
            "/openapi.json", "This document", [], {200: Answer("OpenAPI 3", {"type": "object"})}
        )

    def callbacks(self) -> None:
        """Kaleyra's callback profile: GET with the variables in the query, POST or PUT with
        a JSON body (the profile's template, or the v2 status webhook) or a form."""
        connection = {"in": "path", "name": "connection", "required": True,
                      "schema": {"type": "string"}}  # fmt: skip
        token = {"in": "path", "name": "token", "required": True, "schema": {"type": "string"}}
        variables = {"type": "object", "additionalProperties": True,
                     "description": "The callback profile's variables (id, status, timestamp, "
                     "error, error_code, ref, ref1, ref2 …) or the v2 status webhook "
                     "(meta_object, extra_info)."}  # fmt: skip
        answers = self.answers({
            200: Answer("Stored (duplicates count once)", "CallbackReceipt"),
            **errors(400, 401, 413),
            422: Answer("A variable breaks its rule (named)", "Error"),
        })  # fmt: skip
        for path, parameters, secured in (
            ("/callbacks/kaleyra/{connection}", [connection],
             security((("callbackToken",), ("basic",)))),
            ("/callbacks/kaleyra/{connection}/{token}", [connection, token], []),
        ):  # fmt: skip
            name = "kaleyra_callback" + ("_token" if len(parameters) > 1 else "")
            query = {"in": "query", "name": "variables", "required": False, "style": "form",
                     "explode": True, "schema": variables}  # fmt: skip
            operations = {
                method: {
                    "summary": "Kaleyra's WhatsApp delivery report for this connection",
                    "operationId": f"{name}_{method}",
                    "tags": ["kaleyra"],
                    "parameters": parameters + ([query] if method == "get" else []),
                    "security": secured,
                    "responses": answers,
                    **({} if method == "get" else {"requestBody": {"required": True, "content": {
                        "application/json": {"schema": variables}}}}),
                }
                for method in ("get", "post", "put")
            }  # fmt: skip
            self.spec.path(path=path, operations=operations)

    def zapier_hooks(self, keyed: list[dict[str, list[str]]]) -> None:
        """The "Message status changed" REST hook of the Zapier integration."""
        store_down = Answer("The store does not answer: retry after Retry-After", retry_after=True)
        self.spec.path(path="/v1/zapier/hooks", operations={"post": {
            "summary": "Subscribe a Zap's hook URL to the API key's connection's status changes",
            "operationId": "zapier_subscribe",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": self.schema(ZapierSubscription)}}},
            "security": keyed,
            "responses": self.answers({
                201: Answer("Subscribed", "ZapierHook"),
                400: Answer("Not JSON, or target_url is not an http(s) URL (named)"),
                **errors(401, 413), 503: store_down}),
        }})  # fmt: skip
        hook_id = {"in": "path", "name": "hook_id", "required": True,
                   "schema": {"type": "string"}}  # fmt: skip
        self.spec.path(path="/v1/zapier/hooks/{hook_id}", operations={"delete": {
            "summary": "Unsubscribe a Zap's hook (only the connection's own)",
            "operationId": "zapier_unsubscribe", "parameters": [hook_id], "security": keyed,
            "responses": self.answers({200: Answer("Unsubscribed", "ZapierHook"), **errors(401),
                                       404: Answer("No such subscription for this key"),
                                       503: store_down}),
        }})  # fmt: skip
        limit = {"in": "query", "name": "limit", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": LIST_MAX, "default": 10},
                 "description": "How many changes, newest first."}  # fmt: skip
        self.get(
            "/v1/zapier/status-changes",
            "The connection's latest status changes, as a Zapier hook receives them",
            keyed,
            {200: Answer("Newest first", {"type": "array", "items": ref("StatusRecord")}),
             400: Answer("limit is not an integer from 1 to 100 (named)"), **errors(401),
             503: store_down},
            [limit],
        )  # fmt: skip

    def get(
        self,
        path: str,
        summary: str,
        security_: list[dict[str, list[str]]],
        answers: dict[int, Answer],
        parameters: list[dict[str, Any]] | None = None,
    ) -> None:
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
            .replace(".", "_"),
            "security": security_,
            "responses": self.answers(answers),
        }  # fmt: skip
        if parameters:
            operation["parameters"] = parameters
        self.spec.path(path=path, operations={"get": operation})


def security(alternatives: tuple[tuple[str, ...], ...]) -> list[dict[str, list[str]]]:
    """OpenAPI security requirements: any one alternative, all schemes of it together; none
    at all is ``[]`` (the route needs no credential)."""
    return [{scheme: [] for scheme in alternative} for alternative in alternatives]


def build_spec(platforms: list[Platform]) -> dict[str, Any]:
    document = _Document()
    for platform in platforms:
        document.route(platform)
    document.others()
    spec = document.spec.to_dict()
    spec["components"]["schemas"].update(offer_schemas(spec["components"]["schemas"]["Offer"]))
    return spec


def openapi_blueprint(platforms: list[Platform]) -> Blueprint:
    bp = Blueprint("openapi", __name__)
    document = dump_json(build_spec(platforms))

    @bp.get("/openapi.json")
    def openapi() -> Response:  # the document as it is: no sandbox flag added at its root
        return Response(document, mimetype="application/json")

    return bp
