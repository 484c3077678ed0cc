"""Offer → the exact request body of Kaleyra's "Send Limited Time Offer" API.

Components absent from the offer are omitted; the URL button is index 1 after a copy-code
button, else 0 (Meta's rule). ``wa_source`` is one of the 13 values Kaleyra lists and nothing
else: Kaleyra silently rewrites unknown values to "API".
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..errors import InvalidInput
from ..fields import text_problem
from ..offer import Offer

WA_SOURCES = frozenset(
    "api clevertap zoho webengage shopify leadsquared responsys braze hubspot salesforce zapier "
    "eloqua moengage".split()
)


REF_SLOTS = ("ref", "ref1", "ref2")


def build_request(offer: Offer, wa_source: str, reference: str | None = None) -> dict[str, Any]:
    """The request body; an offer holding text that cannot be sent is ``InvalidInput`` naming
    the field, before anything is stored (the relay builds this before it claims the event).

    ``reference`` (the event's id) goes in the first ref slot the caller left empty, so
    Kaleyra's delivery reports, which echo the refs, name their message; a ref the caller set
    is never overwritten (with all three set, reports are matched by message id alone)."""
    if wa_source not in WA_SOURCES:
        raise ValueError(f"wa_source {wa_source!r} is not one Kaleyra accepts")
    check_sendable(offer)
    components: list[dict[str, Any]] = []
    if offer.header is not None:
        media = {"id": offer.header.id} if offer.header.id else {"link": offer.header.link}
        components.append(
            {
                "type": "header",
                "parameters": [{"type": offer.header.kind, offer.header.kind: media}],
            }
        )
    if offer.body_params:
        components.append(
            {
                "type": "body",
                "parameters": [{"type": "text", "text": text} for text in offer.body_params],
            }
        )
    if offer.expiration_ms is not None:
        components.append(
            {
                "type": "limited_time_offer",
                "parameters": [
                    {
                        "type": "limited_time_offer",
                        "limited_time_offer": {"expiration_time_ms": offer.expiration_ms},
                    }
                ],
            }
        )
    if offer.coupon_code:
        components.append(
            {
                "type": "button",
                "sub_type": "copy_code",
                "index": 0,
                "parameters": [{"type": "coupon_code", "coupon_code": offer.coupon_code}],
            }
        )
    if offer.url_param:
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": 1 if offer.coupon_code else 0,
                "parameters": [{"type": "text", "text": offer.url_param}],
            }
        )
    extra_info: dict[str, str] = {
        name: value
        for name, value in (("ref", offer.ref), ("ref1", offer.ref1), ("ref2", offer.ref2))
        if value
    }
    free = next((slot for slot in REF_SLOTS if slot not in extra_info), None)
    if reference and free:
        extra_info[free] = reference
    extra_info["wa_source"] = wa_source
    return {
        "messaging_object": {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": offer.to,
            "type": "template",
            "template": {
                "name": offer.template_name,
                "language": {"code": offer.language},
                "components": components,
            },
        },
        "extra_info": extra_info,
    }


def offer_texts(offer: Offer) -> list[tuple[str, str]]:
    """Every text an offer carries, by the field name a caller knows (``body_params.1`` is
    ``{{1}}``); the header's id or link counts as its ``header_<kind>_<id|url>`` field."""
    texts: list[tuple[str, str]] = []
    for item in fields(offer):
        value = getattr(offer, item.name)
        if isinstance(value, str):
            texts.append((item.name, value))
    texts += [(f"body_params.{i}", text) for i, text in enumerate(offer.body_params, start=1)]
    if offer.header is not None:
        for source, value in (("id", offer.header.id), ("url", offer.header.link)):
            if value is not None:
                texts.append((f"header_{offer.header.kind}_{source}", value))
    return texts


def check_sendable(offer: Offer) -> None:
    """The last guard: every text of the offer can be encoded as the UTF-8 JSON of a send (and
    stored). The offer's fields refuse such text at the door; this stops any path that did not
    go through them (an ``Offer`` built in code, a future platform) before the relay stores it."""
    errors = {}
    for name, text in offer_texts(offer):
        problem = text_problem(text)  # a lone surrogate is the one text UTF-8 cannot encode
        if problem is not None:
            errors[name] = [{"code": problem.code, "message": str(problem)}]
    if errors:
        summary = "; ".join(f"{k}: {v[0]['message']}" for k, v in errors.items())
        raise InvalidInput(summary, code="invalid_text", errors=errors)
