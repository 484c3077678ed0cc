"""An event's row, as the relay writes it, for the store's own tests."""

from __future__ import annotations

from typing import Any

from connector.store.events import new_event_id, now_ms


def values(key: str = "api:key:1", **overrides: Any) -> dict[str, Any]:
    stamp = now_ms()
    row: dict[str, Any] = {
        "id": new_event_id(),
        "platform": "api",
        "wa_source": "api",
        "account": "default",
        "mode": "async",
        "dedupe_key": key,
        "fingerprint": "f" * 64,
        "offer": {"to": "+919876543210", "body_params": ["ñ", "€"]},
        "payload": {"messaging_object": {}},
        "status": "queued",
        "attempts": 0,
        "sandbox": False,
        "next_attempt_ms": stamp,
        "lease_until_ms": None,
        "expires_ms": stamp + 86_400_000,
        "platform_ref": None,
        "recipient_last4": "3210",
        "waits": False,
        "created_ms": stamp,
        "updated_ms": stamp,
    }
    row.update(overrides)
    return row
