"""What a platform's route takes and answers, declared next to it for the OpenAPI document.

Each ``Platform`` carries a ``RouteDoc``: its request body per media type, the security that
lets a call in (alternatives, each a set of schemes sent together), its answers per HTTP status
and whether offer fields may ride in the query string. ``web/openapi.py`` turns them into the
document, so a generated client or a fuzzer meets the routes as they are.

Schemas are named: a component of the document (``"Offer"``, ``"Error"`` ...), a marshmallow
schema class (registered as a component under its class name), or an inline JSON schema dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SchemaRef = str | type | dict[str, Any]


@dataclass(frozen=True)
class Answer:
    description: str
    schema: SchemaRef | None = "Error"
    media: str = "application/json"
    retry_after: bool = False  # may carry a Retry-After header


@dataclass(frozen=True)
class RouteDoc:
    body: Mapping[str, SchemaRef]
    answers: Mapping[int, Answer]
    security: tuple[tuple[str, ...], ...]
    query_offer: bool = False  # offer fields (``template_name``, ``body_1`` ...) in the query
    headers: tuple[str, ...] = ()  # optional request headers the route reads: Prefer ...
    description: str = ""
    body_required: bool = True
    query: Mapping[str, str] = field(default_factory=dict)  # named query parameters


KEYED: tuple[tuple[str, ...], ...] = (("bearer",), ("apiKey",))

# what a route that relays answers when Kaleyra, the store or the caller says no
ERROR_ANSWERS: dict[int, Answer] = {
    400: Answer("The body is not JSON this connector reads (or not a form)"),
    401: Answer("Unauthenticated, or Kaleyra refused the account's credentials (RBC001)"),
    402: Answer("Kaleyra: low balance (E110)"),
    403: Answer("Kaleyra: sender not on the account, or API not enabled (WA401, WA-401)"),
    409: Answer("idempotency_key reused for another offer, or an identical call in flight"),
    413: Answer("The body is larger than 1 MB"),
    422: Answer("Invalid offer (every field named), or Kaleyra refused the payload (WA400)"),
    429: Answer("Kaleyra rate-limited the account: retry after Retry-After", retry_after=True),
    502: Answer("Kaleyra answered with an error it does not document", retry_after=True),
    503: Answer(
        "Kaleyra unavailable or unreachable, or the connector not configured for this "
        "platform: retry after Retry-After",
        retry_after=True,
    ),
    504: Answer("Sent, but Kaleyra did not answer: delivery uncertain, never resent"),
}
ACCEPTED_202 = Answer(
    "Accepted by Kaleyra; with Prefer: respond-async (or on a platform that always queues), "
    "stored and queued: message_id is null until a worker delivers it",
    "Accepted",
)
ACCEPTED_200 = Answer("Stored and queued (or a repeat, answered from the store)", "Accepted")
# HubSpot signs v3 (signature + timestamp) or v2 (signature + its version header)
HUBSPOT_SIGNED: tuple[tuple[str, ...], ...] = (
    ("hubspotSignatureV3", "hubspotTimestamp"),
    ("hubspotSignatureV2", "hubspotSignatureVersion"),
)
SHOPIFY_SIGNED: tuple[tuple[str, ...], ...] = (("shopifyHmac",),)


def errors(*statuses: int) -> dict[int, Answer]:
    """The shared error answers a route can give, by status."""
    return {status: ERROR_ANSWERS[status] for status in statuses}
