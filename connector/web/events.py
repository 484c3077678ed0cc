"""``GET /v1/events/<id>`` (API key) and ``POST /v1/events/<id>/replay`` (admin key)."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..errors import ConnectorError, Unauthorized
from ..fields import mask_phone
from ..platforms.base import json_response, request_api_key
from ..signatures import api_key_matches
from ..store import Event, reports

EVENT_ID = re.compile(r"evt_[0-9a-f]{32}")  # what the store issues; nothing else is looked up


def event_view(
    event: Event,
    attempts: list[dict[str, Any]],
    statuses: list[dict[str, Any]] | None = None,
    notifications: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": event.id,
        "status": event.status,
        "mode": event.mode,
        "platform": event.platform,
        "wa_source": event.wa_source,
        "to": mask_phone(str(event.offer.get("to", ""))),
        "template_name": event.offer.get("template_name"),
        "message_id": event.message_id,
        "error": {
            "kind": event.error_kind,
            "kaleyra_code": event.error_code,
            "message": event.error_message,
        }
        if event.error_kind
        else None,  # fmt: skip
        "attempts": [
            {
                key: a[key]
                for key in (
                    "number",
                    "started_ms",
                    "latency_ms",
                    "outcome",
                    "http_status",
                    "kaleyra_code",
                )
            }  # fmt: skip
            for a in attempts
        ],
        "next_attempt_ms": event.next_attempt_ms if event.status == "queued" else None,
        "delivery_status": event.delivery_status,
        "statuses": [
            {
                key: s[key]
                for key in ("status", "at_ms", "error_code", "error_reason", "received_ms")
            }
            for s in statuses or []
        ],  # fmt: skip
        "notifications": [
            {
                key: n[key]
                for key in (
                    "target",
                    "status",
                    "state",
                    "attempts",
                    "last_error",
                    "created_ms",
                    "delivered_ms",
                )
            }
            for n in notifications or []
        ],  # fmt: skip
        "created_ms": event.created_ms,
        "sandbox": event.sandbox,
    }


def events_blueprint() -> Blueprint:
    bp = Blueprint("events", __name__)

    def require(keys: tuple[str, ...], what: str) -> None:
        runtime = current_app.extensions["lto"]
        if runtime.connections.open is not None and not keys:
            return
        if not api_key_matches(request_api_key(request), keys):
            raise Unauthorized(f"This needs {what} in 'Authorization: Bearer' or 'X-Api-Key'")

    def not_found(event_id: str) -> ConnectorError:
        return ConnectorError(f"No event {event_id[:60]!r}", status=404, code="not_found")

    def known_shape(event_id: str) -> str:
        """An id the store could have issued; anything else (a NUL PostgreSQL refuses in a
        query, 300 characters ...) is a 404 without a query."""
        if not EVENT_ID.fullmatch(event_id):
            raise not_found(event_id)
        return event_id

    @bp.get("/v1/events/<event_id>")
    def get_event(event_id: str) -> Response:
        runtime = current_app.extensions["lto"]
        key = request_api_key(request)
        admin = api_key_matches(key, runtime.settings.admin_keys)
        caller = runtime.connections.by_api_key(key) or runtime.connections.open
        if not admin and caller is None:
            raise Unauthorized("This needs an API key in 'Authorization: Bearer' or 'X-Api-Key'")
        event = runtime.store.get(known_shape(event_id))
        if event is None or (not admin and event.account != caller.account.name):
            raise not_found(event_id)  # another connection's events are not this caller's
        reader = runtime.store.db.reader
        return json_response(
            event_view(
                event,
                runtime.store.attempts_of(event.id),
                reports.statuses_of(reader, event.id),
                reports.notifications_of(reader, event.id),
            )
        )

    @bp.post("/v1/events/<event_id>/replay")
    def replay_event(event_id: str) -> Response:
        runtime = current_app.extensions["lto"]
        require(runtime.settings.admin_keys, "an admin key (CONNECTOR_ADMIN_KEYS)")
        event = runtime.store.replay(known_shape(event_id), int(time.time() * 1000))
        if event is None:
            current = runtime.store.get(event_id)
            if current is None:
                raise not_found(event_id)
            why = (
                "its offer ended before it could be sent, and an expired offer is never sent"
                if current.status == "expired"
                else f"only dead, uncertain or failed ones can be, and this one is {current.status}"
            )
            raise ConnectorError(f"This event cannot be replayed: {why}.", status=409,
                                 code="not_replayable")  # fmt: skip
        return json_response(event_view(event, runtime.store.attempts_of(event.id)), 202)

    return bp
