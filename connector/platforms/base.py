"""The Platform contract: one subclass per calling platform, one route each.

A platform names itself (``name``), the ``wa_source`` Kaleyra records for it, its route, and
overrides at most ``authenticate``, ``parse`` and the two ``respond`` hooks. ``handle`` is the same
for all: authenticate on the raw body → parse with schemas → relay → answer in the platform's form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from flask import Request, Response, current_app, g, has_app_context

from ..delivery import Deliverer
from ..errors import ConnectorError, MalformedBody, Unauthorized
from ..kaleyra import WA_SOURCES
from ..offer import Offer, OfferSchema, load_offer
from ..queue import DeliveryQueue
from ..relay import Relay, Settled, Submission
from ..signatures import api_key_matches
from ..store import EventStore
from ..store.accounts import AccountStore


@dataclass
class Runtime:
    """What every platform shares, built once per process by ``create_app``."""

    settings: Any
    store: EventStore
    accounts: AccountStore
    queue: DeliveryQueue
    deliverer: Deliverer
    relay: Relay
    offer_schema: OfferSchema  # strict: the connector's own API
    loose_schema: OfferSchema  # tolerant: what automation tools send
    clock: Callable[[], int]


class Platform:
    name: ClassVar[str]
    wa_source: ClassVar[str]
    path: ClassVar[str]
    methods: ClassVar[tuple[str, ...]] = ("POST",)
    summary: ClassVar[str] = ""

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
            self.authenticate(request)
            submission = replace(self.parse(request), respond_async=wants_async(request))
            settled = self.runtime.relay.submit(submission)
            g.event_id = settled.event.id
            return self.respond(settled)
        except ConnectorError as error:
            return self.respond_error(error)

    # --- hooks a platform may override ----------------------------------------------------------
    def authenticate(self, request: Request) -> None:
        """API key in ``Authorization: Bearer`` or ``X-Api-Key``."""
        settings = self.runtime.settings
        if settings.open_access:
            return
        if not api_key_matches(request_api_key(request), settings.api_keys):
            raise Unauthorized(
                "Missing or unknown API key: send it as 'Authorization: Bearer <key>' "
                "or 'X-Api-Key: <key>'"
            )

    def parse(self, request: Request) -> Submission:
        raise NotImplementedError

    def respond(self, settled: Settled) -> Response:
        raise NotImplementedError

    def respond_error(self, error: ConnectorError) -> Response:
        return json_response(error.to_body(), error.status, error.headers())

    # --- helpers ------------------------------------------------------------------------------
    def offer(self, data: Any, *, loose: bool = False) -> Offer:
        schema = self.runtime.loose_schema if loose else self.runtime.offer_schema
        return load_offer(schema, data)

    def submission(self, offer: Offer, delivery_id: str | None = None) -> Submission:
        return Submission(offer, self.name, self.wa_source, delivery_id)


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
        if runtime is not None and runtime.settings.sandbox:
            body = {**body, "sandbox": True}
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        headers=headers or {},
        mimetype="application/json",
    )


def read_json(request: Request) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedBody("The request body is empty; send a JSON object.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedBody("The request body is nested too deeply.") from None


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
