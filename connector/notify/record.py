"""One status change as the record a platform without its own format receives: the body of the
Standard Webhooks status webhook, Zapier's "Message status changed" trigger items, and the
recent changes a Zap's editor lists. Never the recipient's full number."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..store import Event


def iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def status_record(
    event: Event, status: str, at_ms: int, error_code: str | None, error_reason: str | None
) -> dict[str, Any]:
    """``id`` is unique per message and status (Zapier deduplicates on it)."""
    offer = event.offer or {}
    return {
        "id": f"{event.id}:{status}",
        "type": "message.status",
        "event_id": event.id,
        "status": status,
        "at": iso(at_ms),
        "connection": event.account,
        "platform": event.platform,
        "platform_ref": event.platform_ref,
        "message_id": event.message_id,
        "template_name": offer.get("template_name"),
        "recipient_last4": event.recipient_last4,
        "ref": offer.get("ref"),
        "error_code": error_code,
        "error_reason": error_reason,
    }
