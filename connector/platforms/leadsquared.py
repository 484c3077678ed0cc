"""LeadSquared: lead webhooks (``/hooks/leadsquared``).

LeadSquared posts the flat lead (``ProspectID``, ``FirstName``, ``Phone``, ``Mobile``, ``mx_*``) as
JSON, form or text, with the custom headers the user set (here ``X-Api-Key``), and answers a HEAD
handshake. It may disable a webhook that answers 4xx/5xx, so every answer is 200 with
``{"Status":"Success"|"Error","StatusReason":...}``. The recipient is ``Mobile`` or ``Phone``;
the offer's other fields come from a ``leadsquared`` mapping, the webhook URL's query
(``?template_name=lto_admissions&body_1={{FirstName}}``) or the connection's defaults. With no
delivery id, a repeat is recognised by the lead and the offer's content within the dedupe window.
"""

from __future__ import annotations

from typing import Any

from flask import Request, Response

from ..errors import ConnectorError, MalformedBody
from ..relay import Settled, Submission
from .base import (
    ACCEPTED_OR_ON_ITS_WAY,
    Platform,
    Tenant,
    json_response,
    read_json,
    read_json_or_form,
)
from .loose import blank
from .routedoc import KEYED, Answer, RouteDoc

LEAD = {"type": "object", "description": "The lead: ProspectID, FirstName, Phone, Mobile, mx_*."}
PHONE_FIELDS = ("Mobile", "Phone", "mx_WhatsApp_Number", "mx_Whatsapp_Number")


def lead_phone(lead: dict[str, Any]) -> Any:
    return next((lead[f] for f in PHONE_FIELDS if not blank(lead.get(f))), None)


class LeadSquaredPlatform(Platform):
    name = "leadsquared"
    wa_source = "leadsquared"
    path = "/hooks/leadsquared"
    methods = ("POST", "HEAD")
    summary = "LeadSquared lead webhooks (JSON, form or text; X-Api-Key header; always 200)."
    always_async = True
    doc = RouteDoc(
        body={
            "application/json": LEAD,
            "application/x-www-form-urlencoded": LEAD,
            "text/plain": {"type": "string", "description": "The lead as JSON text."},
        },
        answers={200: Answer("Success once stored and queued, else Error with the reason",
                             "LeadSquaredAnswer")},
        security=KEYED,
        query_offer=True,
        description="Also answers HEAD (LeadSquared's handshake) with 200.",
    )  # fmt: skip

    def handle(self, request: Request) -> Response:
        if request.method == "HEAD":  # LeadSquared's handshake
            return Response(status=200)
        return super().handle(request)

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        lead = self.lead(request)
        offer = self.offer_from_record(lead, request.args, tenant, lead_phone)
        return self.submission(offer, tenant)

    @staticmethod
    def lead(request: Request) -> dict[str, Any]:
        """JSON or form; a text/plain body is JSON text. ``Before``/``After`` (field-update
        events) give the lead as it is after the change."""
        if request.mimetype == "text/plain":
            data: Any = read_json(request)
        else:
            data = read_json_or_form(request)
        if isinstance(data, dict) and isinstance(data.get("After"), dict):
            data = data["After"]
        if not isinstance(data, dict):
            raise MalformedBody("The body must be the lead as a JSON object or a form.")
        return data

    def respond(self, settled: Settled) -> Response:
        event = settled.event
        if event.status in ACCEPTED_OR_ON_ITS_WAY:
            return self._answer("Success", "", id=event.id, event_status=event.status)
        return self._answer("Error", event.error_message or f"The message is {event.status}")

    def respond_error(self, error: ConnectorError) -> Response:
        return self._answer("Error", error.message, code=error.code, errors=error.errors)

    @staticmethod
    def _answer(outcome: str, reason: str, **extra: Any) -> Response:
        return json_response({"Status": outcome, "StatusReason": reason[:1000], **extra}, 200)
