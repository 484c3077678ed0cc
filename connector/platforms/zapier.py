"""Zapier: a Zapier integration's create action, or "Webhooks by Zapier" (JSON or form).

Answers like the connector's own API (202 JSON, or an error status with a JSON body naming the
field), which Zapier shows to the Zap's owner; 429/503 carry an integer Retry-After.
"""

from __future__ import annotations

from flask import Request

from ..relay import Submission
from .api import ApiPlatform, with_idempotency_header
from .base import Tenant, read_json_or_form


class ZapierPlatform(ApiPlatform):
    name = "zapier"
    wa_source = "zapier"
    path = "/hooks/zapier"
    summary = "Send one LTO message from a Zap (JSON or form; tolerant field names)."

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        data = with_idempotency_header(request, read_json_or_form(request))
        return self.submission(self.offer(data, tenant, loose=True), tenant)
