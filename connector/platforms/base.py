"""The Platform contract: one subclass per calling platform, one route each.

A platform names itself (``name``), the ``wa_source`` Kaleyra records for it, its route, and
overrides at most ``authenticate``, ``parse`` and the two ``respond`` hooks. ``handle`` is the same
for all: authenticate on the raw body → parse with schemas → relay → answer in the platform's form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from flask import Request, Response, current_app, g, has_app_context
from marshmallow import EXCLUDE, Schema
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..connections import Connection, Connections
from ..delivery import Deliverer
from ..errors import (
    Coded,
    ConnectorError,
    InvalidInput,
    MalformedBody,
    StoreUnavailable,
    Unauthorized,
)
from ..fields import text_problem
from ..jsonio import JsonRefused, dump_json, parse_json
from ..kaleyra import WA_SOURCES
from ..mapping import fill_query
from ..offer import Offer, OfferSchema, load_offer
from ..relay import Relay, Settled, Submission
from ..store import EventStore
from ..store.accounts import AccountStore
from ..templates import check_shape
from .loose import normalise_key
from .routedoc import RouteDoc

logger = logging.getLogger("connector.http")


class PlatformSchema(Schema):
    """A platform's own payload: read the fields we use, ignore the rest (platforms add fields)."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": Coded("invalid_type", "Must be a JSON object.")}


@dataclass(frozen=True)
class Tenant:
    """One connection with the offer schemas its defaults shape."""

    connection: Connection
    offer_schema: OfferSchema  # strict: the connector's own API
    loose_schema: OfferSchema  # tolerant: what automation tools send

    @property
    def name(self) -> str:
        return self.connection.name


@dataclass
class Runtime:
    """What every platform shares, built once per process by ``create_app``."""

    settings: Any
    store: EventStore
    accounts: AccountStore
    deliverer: Deliverer
    relay: Relay
    connections: Connections
    tenants: dict[str, Tenant]
    clock: Callable[[], int]

    @property
    def default_tenant(self) -> Tenant:
        """The env-only setup's one connection (the CLI's ``send`` and ``check`` use it)."""
        return next(iter(self.tenants.values()))

    @property
    def offer_schema(self) -> OfferSchema:
        return self.default_tenant.offer_schema


class Platform:
    name: ClassVar[str]
    wa_source: ClassVar[str]
    path: ClassVar[str]
    methods: ClassVar[tuple[str, ...]] = ("POST",)
    summary: ClassVar[str] = ""
    doc: ClassVar[RouteDoc]  # what the route takes and answers, for the OpenAPI document
    # platforms with a short timeout (CleverTap's is 1 s) store, queue and answer at once
    always_async: ClassVar[bool] = False

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        if self.wa_source not in WA_SOURCES:
            raise ValueError(
                f"{type(self).__name__}: wa_source {self.wa_source!r} is not Kaleyra's"
            )

    # --- the flow -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        g.platform = self.name
        try:
            tenant = self.authenticate(request)
            g.connection = tenant.name
            submission = self.parse(request, tenant)
            respond_async = self.always_async or wants_async(request)
            settled = self.runtime.relay.submit(replace(submission, respond_async=respond_async))
            g.event_id = settled.event.id
            return self.respond(settled)
        except ConnectorError as error:
            return self.respond_error(error)
        except SQLAlchemyError as error:
            return self.respond_error(store_unavailable(error))

    # --- hooks a platform may override ----------------------------------------------------------
    def authenticate(self, request: Request) -> Tenant:
        """API key in ``Authorization: Bearer`` or ``X-Api-Key``: the key picks the connection."""
        return self.tenant(
            self.runtime.connections.by_api_key(request_api_key(request)),
            "Missing or unknown API key: send it as 'Authorization: Bearer <key>' "
            "or 'X-Api-Key: <key>'",
        )

    def parse(self, request: Request, tenant: Tenant) -> Submission:
        raise NotImplementedError

    def respond(self, settled: Settled) -> Response:
        raise NotImplementedError

    def respond_error(self, error: ConnectorError) -> Response:
        return json_response(error.to_body(), error.status, error.headers())

    # --- helpers ------------------------------------------------------------------------------
    def tenant(self, connection: Connection | None, refusal: str) -> Tenant:
        """The caller's connection; none (and no open sandbox) is a 401 with ``refusal``."""
        connection = connection or self.runtime.connections.open
        if connection is None:
            raise Unauthorized(refusal)
        return self.runtime.tenants[connection.name]

    def offer(self, data: Any, tenant: Tenant, *, loose: bool = False) -> Offer:
        """The offer rules with the connection's defaults, then its template shapes."""
        offer = load_offer(tenant.loose_schema if loose else tenant.offer_schema, data)
        check_shape(tenant.connection.templates, offer)
        return offer

    def offer_from_record(
        self,
        record: dict[str, Any],
        query: Any,
        tenant: Tenant,
        phone: Callable[[dict[str, Any]], Any],
    ) -> Offer:
        """A webhook's record as an offer: the connection's mapping for this platform, then the
        URL's query (``{{path}}`` filled from the record), then ``phone(record)`` as the
        recipient unless one was given; a failing mapped field names where it was read from."""
        mapping = tenant.connection.mappings.get(self.wa_source)
        inputs: dict[str, Any] = mapping.apply(record)[0] if mapping is not None else {}
        inputs.update(fill_query(query, record))
        if not any(normalise_key(k) == "to" for k in inputs):
            recipient = phone(record)
            if recipient is not None:
                inputs["to"] = recipient
        try:
            return self.offer(inputs, tenant, loose=True)
        except InvalidInput as error:
            raise (mapping.explain(error) if mapping is not None else error) from None

    def submission(
        self,
        offer: Offer,
        tenant: Tenant,
        delivery_id: str | None = None,
        *,
        delivery_field: str = "delivery_id",
    ) -> Submission:
        """The offer to relay; ``delivery_id`` (the platform's id for this delivery, stored as
        the dedupe key) must be text the store can keep, else ``delivery_field`` is named."""
        problem = text_problem(delivery_id) if delivery_id is not None else None
        if problem is not None:
            raise InvalidInput(
                f"{delivery_field}: {problem}",
                code=problem.code,
                errors={delivery_field: [{"code": problem.code, "message": str(problem)}]},
            )
        account = tenant.connection.account.name
        return Submission(offer, self.name, self.wa_source, delivery_id, account=account)


def store_unavailable(error: SQLAlchemyError) -> StoreUnavailable:
    logger.error("store failed: %s", type(error).__name__, exc_info=error)
    return StoreUnavailable(
        "The connector could not store this message, so it was not accepted; repeat the call "
        "shortly.",
        retry_after=5,
    )


def wants_async(request: Request) -> bool:
    """RFC 7240 ``Prefer: respond-async``: store, queue and answer at once."""
    prefer = ",".join(request.headers.getlist("Prefer")).lower()
    return "respond-async" in [token.split(";")[0].strip() for token in prefer.split(",")]


def request_api_key(request: Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("X-Api-Key")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Every JSON answer; in sandbox mode each one says so."""
    if isinstance(body, dict) and has_app_context() and "sandbox" not in body:
        runtime = current_app.extensions.get("lto")
        if runtime is not None and runtime.connections.sandbox:
            body = {**body, "sandbox": True}
    return Response(dump_json(body), status=status, headers=headers, mimetype="application/json")


def http_error(error: HTTPException) -> ConnectorError:
    """A werkzeug refusal (413 too large, 400 unreadable form ...) as the connector's error."""
    status = error.code or 400
    code = (error.name or "error").lower().replace(" ", "_")
    return ConnectorError(str(error.description or error.name), code=code, status=status)


def read_json(request: Request) -> Any:
    """The body as JSON, through the connector's one reader (``jsonio.parse_json``)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedBody("The request body is empty; send a JSON object.")
    return parse_body(raw)


def parse_body(raw: bytes) -> Any:
    try:
        return parse_json(raw)
    except JsonRefused as exc:
        raise MalformedBody(f"The request body is not JSON this connector reads: {exc}") from None


def read_json_or_form(request: Request) -> dict[str, Any]:
    """JSON, or form-encoded key/values (a repeated key becomes a list)."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {key: _one_or_list(request.form.getlist(key)) for key in request.form}
    data = read_json(request)
    if not isinstance(data, dict):
        raise MalformedBody("The request body must be a JSON object.")
    return data


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


# an accepted message, or a queued one a worker will deliver
ACCEPTED_OR_ON_ITS_WAY = ("accepted", "queued", "leased", "sending")


def accepted_body(settled: Settled) -> dict[str, Any]:
    event = settled.event
    return {
        "id": event.id,
        "status": event.status,
        "message_id": event.message_id,
        "wa_source": event.wa_source,
        "sandbox": event.sandbox,
        "replayed": settled.replayed,
    }
