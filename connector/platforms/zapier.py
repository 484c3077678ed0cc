"""Zapier: a Zapier integration's create action, or "Webhooks by Zapier" (JSON or form).

Answers like the connector's own API (202 JSON, or an error status with a JSON body naming the
field), which Zapier shows to the Zap's owner; 429/503 carry an integer Retry-After.
"""

from __future__ import annotations

from flask import Request

from ..relay import Submission
from .api import ApiPlatform, with_idempotency_header
from .base import Tenant, read_json_or_form
from .routedoc import ACCEPTED_202, ERROR_ANSWERS, KEYED, RouteDoc


class ZapierPlatform(ApiPlatform):
    name = "zapier"
    wa_source = "zapier"
    path = "/hooks/zapier"
    summary = "Send one LTO message from a Zap (JSON or form; tolerant field names)."
    doc = RouteDoc(
        body={"application/json": "LooseOffer", "application/x-www-form-urlencoded": "LooseOffer"},
        answers={202: ACCEPTED_202, **ERROR_ANSWERS},
        security=KEYED,
        headers=("Prefer", "Idempotency-Key"),
    )

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        data = with_idempotency_header(request, read_json_or_form(request))
        return self.submission(self.offer(data, tenant, loose=True), tenant)
