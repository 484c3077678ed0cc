"""Shopify: store webhooks (``/hooks/shopify``) and a Flow action (``/hooks/shopify/flow``).

Both are signed the same way: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(app secret, raw
body)), checked before anything is parsed. The secret is the connection's own (a custom app) or
``SHOPIFY_API_SECRET`` (the public app); the shop domain picks the connection.

Webhooks (``orders/create``, ``checkouts/create``, ``customers/create``) carry the resource: the
phone comes from the customer, the billing or the shipping address; the offer's other fields
from the connection's defaults, a mapping, or the webhook URL's query
(``?template_name=lto_cart&body_1={{customer.first_name}}``). ``X-Shopify-Webhook-Id`` is the
dedupe key. Shopify waits 5 seconds and retries anything but 2xx, then drops the subscription: a
record the connector cannot send (no phone) is answered 200 with the reason, and logged.

The Flow action's ``properties`` are the offer's fields as the merchant filled them;
``action_run_id`` is the dedupe key; 200 means done, a 4xx fails the step with our message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

from flask import Request, Response
from marshmallow import ValidationError, fields

from .. import fields as f
from ..errors import ConnectorError, InvalidInput, MalformedBody, Unauthorized
from ..jsonio import JsonRefused, parse_json
from ..logs import log
from ..relay import Settled, Submission
from .api import ApiPlatform
from .base import (
    ACCEPTED_OR_ON_ITS_WAY,
    PlatformSchema,
    Tenant,
    accepted_body,
    json_response,
    read_json,
)
from .loose import BODY_N, blank, normalise_key
from .routedoc import ACCEPTED_200, ERROR_ANSWERS, SHOPIFY_SIGNED, Answer, RouteDoc, errors

logger = logging.getLogger("connector.shopify")
HMAC_HEADER = "X-Shopify-Hmac-Sha256"
PHONE_PLACES = (
    ("customer", "phone"),
    ("billing_address", "phone"),
    ("shipping_address", "phone"),
    ("phone",),
    ("sms_marketing_phone",),
    ("customer", "default_address", "phone"),
)


def shopify_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def phone_of(record: Any) -> Any:
    for place in PHONE_PLACES:
        value: Any = record
        for key in place:
            value = value.get(key) if isinstance(value, dict) else None
        if not blank(value):
            return value
    return None


class ShopifySigned(ApiPlatform):
    wa_source = "shopify"
    always_async = True

    def shop_domain(self, request: Request) -> str | None:
        return request.headers.get("X-Shopify-Shop-Domain")

    def authenticate(self, request: Request) -> Tenant:
        shop = self.shop_domain(request)
        connection = self.runtime.connections.by_shop(shop) or self.runtime.connections.open
        if connection is None:
            raise Unauthorized(f"Shop {shop!r} is not connected to this connector")
        secret = connection.inbound.shopify_secret or self.runtime.settings.shopify_api_secret
        given = request.headers.get(HMAC_HEADER, "")
        if secret:
            expected = shopify_hmac(secret, request.get_data(cache=True))
            if not hmac.compare_digest(expected.encode(), given.strip().encode()):
                raise Unauthorized(f"{HMAC_HEADER} does not match the body: not from Shopify")
        elif not connection.open_access:
            raise Unauthorized("Shopify calls cannot be verified: set SHOPIFY_API_SECRET")
        return self.runtime.tenants[connection.name]


class ShopifyWebhook(ShopifySigned):
    name = "shopify"
    path = "/hooks/shopify"
    summary = "Shopify webhooks: orders/create, checkouts/create, customers/create (HMAC)."
    doc = RouteDoc(
        body={"application/json": {"type": "object", "description": "The REST resource."}},
        answers={
            200: Answer(
                "Stored and queued; or not_sent with the reason (a 4xx would make Shopify "
                "retry a record that will never fit, then drop the webhook)",
                {"oneOf": [{"$ref": "#/components/schemas/Accepted"},
                           {"$ref": "#/components/schemas/NotSent"}]},
            ),
            **errors(400, 401, 409, 413, 503),
        },
        security=SHOPIFY_SIGNED,
        query_offer=True,
        headers=("X-Shopify-Shop-Domain", "X-Shopify-Topic", "X-Shopify-Webhook-Id"),
        description="The phone comes from the customer, the billing or the shipping address; "
        "the offer's other fields from the connection's defaults, its mapping or the query "
        "(?template_name=lto_cart&body_1={{customer.first_name}}).",
    )  # fmt: skip

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        record = read_json(request)
        if not isinstance(record, dict):
            raise MalformedBody("A Shopify webhook body is a JSON object.")
        delivery = request.headers.get("X-Shopify-Webhook-Id") or request.headers.get(
            "X-Shopify-Event-Id"
        )
        offer = self.offer_from_record(record, request.args, tenant, phone_of)
        return self.submission(
            offer, tenant, delivery_id=delivery, delivery_field="X-Shopify-Webhook-Id"
        )

    def respond(self, settled: Settled) -> Response:
        return json_response(accepted_body(settled), 200)

    def respond_error(self, error: ConnectorError) -> Response:
        if isinstance(error, InvalidInput):
            # a 4xx would make Shopify retry a record that will never fit, then drop the webhook
            log(logger, "webhook not sendable", logging.WARNING, code=error.code,
                fields=sorted(error.errors))  # fmt: skip
            body = {**error.to_body(), "status": "not_sent"}
            return json_response(body, 200)
        return super().respond_error(error)


class FlowActionRequest(PlatformSchema):
    """What Shopify Flow posts to an action's ``runtime_url``."""

    shop_id = fields.Raw(load_default=None)
    shopify_domain = f.String(load_default=None)
    action_run_id = f.Identifier(required=True)
    action_definition_id = f.String(load_default=None)
    handle = f.String(load_default=None)
    properties = f.Object(
        required=True,
        metadata={
            "description": "The offer's fields as the merchant filled them (others ignored).",
            "openapi": {"allOf": [{"$ref": "#/components/schemas/LooseOffer"}]},
        },
    )


# built once and shared: building a schema deep-copies its fields, dearer than a load
FLOW_ACTION = FlowActionRequest()


class ShopifyFlow(ShopifySigned):
    name = "shopify_flow"
    path = "/hooks/shopify/flow"
    summary = "Shopify Flow action 'Send WhatsApp limited-time offer' (HMAC)."
    doc = RouteDoc(
        body={"application/json": FlowActionRequest},
        answers={200: ACCEPTED_200, **ERROR_ANSWERS},
        security=SHOPIFY_SIGNED,
    )

    def shop_domain(self, request: Request) -> str | None:
        """The body's ``shopify_domain``, read before the signature is checked: a body that is
        not JSON this connector reads, or a domain that is not text, names no shop."""
        try:
            data = parse_json(request.get_data(cache=True) or b"{}")
        except JsonRefused:
            return None
        domain = data.get("shopify_domain") if isinstance(data, dict) else None
        return domain if isinstance(domain, str) else None

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        try:
            action = FLOW_ACTION.load(read_json(request))
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        # Flow also sends its reference fields (customer_id, ...): only offer fields are read
        offer_fields = set(tenant.loose_schema.fields)
        inputs = {
            k: v
            for k, v in action["properties"].items()
            if normalise_key(k) in offer_fields or BODY_N.match(normalise_key(k))
        }
        offer = self.offer(inputs, tenant, loose=True)
        return self.submission(
            offer, tenant, delivery_id=action["action_run_id"], delivery_field="action_run_id"
        )

    def respond(self, settled: Settled) -> Response:
        if settled.event.status not in ACCEPTED_OR_ON_ITS_WAY:
            return super().respond(settled)
        return json_response(accepted_body(settled), 200)  # Flow counts only 200 as done
