"""The connector's own API: ``POST /v1/messages`` takes the canonical offer as JSON."""

from __future__ import annotations

from typing import Any

from flask import Request, Response

from ..errors import InvalidInput
from ..outcomes import failure_error
from ..relay import Settled, Submission
from .base import (
    ACCEPTED_OR_ON_ITS_WAY,
    Platform,
    Tenant,
    accepted_body,
    json_response,
    read_json,
)
from .routedoc import ACCEPTED_202, ERROR_ANSWERS, KEYED, RouteDoc


class ApiPlatform(Platform):
    name = "api"
    wa_source = "api"
    path = "/v1/messages"
    summary = "Send one LTO message (canonical offer JSON)."
    doc = RouteDoc(
        body={"application/json": "Offer"},
        answers={202: ACCEPTED_202, **ERROR_ANSWERS},
        security=KEYED,
        headers=("Prefer", "Idempotency-Key"),
    )

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        data = with_idempotency_header(request, read_json(request))
        return self.submission(self.offer(data, tenant), tenant)

    def respond(self, settled: Settled) -> Response:
        """202 once Kaleyra accepted (or, async, once stored and queued); otherwise Kaleyra's
        failure as an honest HTTP status."""
        if settled.event.status not in ACCEPTED_OR_ON_ITS_WAY:
            return self.respond_error(failure_error(settled.event))
        headers = {"Idempotent-Replayed": "true"} if settled.replayed else {}
        if settled.event.mode == "async":
            headers["Preference-Applied"] = "respond-async"
        return json_response(accepted_body(settled), 202, headers)


def with_idempotency_header(request: Request, data: Any) -> Any:
    """An ``Idempotency-Key`` header is the same as the ``idempotency_key`` field."""
    header_key = request.headers.get("Idempotency-Key", "").strip()
    if not header_key or not isinstance(data, dict):
        return data
    if data.get("idempotency_key") not in (None, "", header_key):
        raise InvalidInput(
            "idempotency_key: differs from the Idempotency-Key header",
            code="conflicting_fields",
            errors={
                "idempotency_key": [
                    {
                        "code": "conflicting_fields",
                        "message": "Differs from the Idempotency-Key header.",
                    }
                ]
            },
        )
    return {**data, "idempotency_key": header_key}
