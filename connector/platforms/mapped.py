"""The low-code mapped endpoint: bodies a user composed in Braze, Zoho, MoEngage, Eloqua or
Responsys, read through the connection's mapping for that platform.

Without a mapping the body is read as the canonical offer (tolerant names, JSON or form). With
one, each offer field comes from where the mapping says; ``each:`` names a list (Eloqua's
``items``, Responsys's ``dataSet.rows``) whose elements are one message each. The query string
is part of the body (``?api_key=`` is taken as the credential, as Zoho and Eloqua can send only
URL parameters). Answers 200 JSON (MoEngage counts only 200 as success; Braze any 2xx), errors
in the connector's one error body with honest statuses (Braze retries 429 and 5xx).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from flask import Request, Response

from ..errors import ConnectorError, InvalidInput, MalformedBody
from ..mapping import MISSING, Layered, resolve, split_path
from ..outcomes import failure_error
from ..relay import Settled, Submission
from .base import (
    ACCEPTED_OR_ON_ITS_WAY,
    Platform,
    Tenant,
    accepted_body,
    json_response,
    read_json_or_form,
    request_api_key,
)
from .routedoc import ERROR_ANSWERS, KEYED, Answer, RouteDoc

CREDENTIAL_PARAMS = ("api_key", "apikey", "token")
COMPOSED = {"type": "object", "description": "The body the user composed (read via the mapping)."}


class MappedPlatform(Platform):
    mapping_name: ClassVar[str]
    always_async = True
    doc = RouteDoc(
        body={"application/json": COMPOSED, "application/x-www-form-urlencoded": COMPOSED},
        body_required=False,
        answers={
            200: Answer(
                "Stored and queued (a mapping with each: every message, under messages)",
                {"oneOf": [{"$ref": "#/components/schemas/Accepted"},
                           {"$ref": "#/components/schemas/Batch"}]},
            ),
            **ERROR_ANSWERS,
        },
        security=(*KEYED, ("apiKeyQuery",)),
        query_offer=True,
        description="Without a mapping the body is read as the offer (tolerant names). The "
        "query string is part of the body; ?api_key=, ?apikey= or ?token= may carry the key.",
    )  # fmt: skip

    def authenticate(self, request: Request) -> Tenant:
        key = request_api_key(request) or next(
            (request.args[p] for p in CREDENTIAL_PARAMS if request.args.get(p)), None
        )
        return self.tenant(
            self.runtime.connections.by_api_key(key),
            "Missing or unknown API key: send 'X-Api-Key: <key>', 'Authorization: Bearer <key>' "
            "or ?api_key=<key> in the URL",
        )

    def body(self, request: Request) -> dict[str, Any]:
        data = read_json_or_form(request) if request.get_data(cache=True).strip() else {}
        query = {k: v for k, v in request.args.items() if k not in CREDENTIAL_PARAMS}
        return {**query, **data}

    def handle(self, request: Request) -> Response:
        try:
            tenant = self.authenticate(request)
            body = self.body(request)
            mapping = tenant.connection.mappings.get(self.mapping_name)
            records = self.records(body, mapping.each if mapping else None)
            settled = [self.runtime.relay.submit(self.one(r, tenant)) for r in records]
        except ConnectorError as error:
            return self.respond_error(error)
        if len(settled) == 1 and not (mapping and mapping.each):
            return self.respond(settled[0])
        return json_response({"messages": [accepted_body(s) for s in settled]}, 200)

    @staticmethod
    def records(body: dict[str, Any], each: str | None) -> list[Any]:
        if not each:
            return [body]
        found = resolve(body, split_path(each))
        if found is MISSING or not isinstance(found, list) or not found:
            raise MalformedBody(
                f"The mapping reads each message from '{each}', which is not a list here."
            )
        return [Layered(item, body) for item in found]

    def one(self, record: Any, tenant: Tenant) -> Submission:
        mapping = tenant.connection.mappings.get(self.mapping_name)
        if mapping is None:
            offer = self.offer(record, tenant, loose=True)
            return replace(self.submission(offer, tenant), respond_async=True)
        inputs, dedupe = mapping.apply(record)
        try:
            offer = self.offer(inputs, tenant, loose=True)
            submission = self.submission(
                offer, tenant, delivery_id=dedupe, delivery_field="dedupe_key"
            )
        except InvalidInput as error:
            raise mapping.explain(error) from None
        return replace(submission, respond_async=True)

    def parse(self, request: Request, tenant: Tenant) -> Submission:  # handle reads many
        raise NotImplementedError

    def respond(self, settled: Settled) -> Response:
        if settled.event.status not in ACCEPTED_OR_ON_ITS_WAY:
            return self.respond_error(failure_error(settled.event))
        return json_response(accepted_body(settled), 200)
