"""A HubSpot workflow action that waits for the delivery status: what it is answered with.

The action's call answers BLOCK (the workflow waits up to ``hs_expiration_duration``); once
Kaleyra reports a final status, the notifier completes the callback with ``final_outputs`` (or a
repeat of the call is answered with them). The event keeps where the callback is in its
``platform_ref``: ``<portalId>:<callbackId>`` (``callback_ref``), since completing it needs the
portal's OAuth token and HubSpot's ``callbackId`` alone does not document its portal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .notify.base import FINAL

if TYPE_CHECKING:
    from .store import Event

__all__ = [
    "ACTION_PLATFORM",
    "FINAL",
    "block",
    "callback_ref",
    "final_outputs",
    "read_callback_ref",
]
ACTION_PLATFORM = "hubspot_action"  # the custom workflow action's platform name (its events)
SUCCEEDED = ("delivered", "read")
NOT_DELIVERED = "NOT_DELIVERED"  # the errorCode of a final failed / not-sent status


def callback_ref(portal_id: int, callback_id: str) -> str:
    return f"{portal_id}:{callback_id}"


def read_callback_ref(ref: str | None) -> tuple[int, str] | None:
    """(portal id, callbackId) from an event's ``platform_ref``; None when it holds none."""
    portal, sep, callback_id = (ref or "").partition(":")
    if not sep or not portal.isdigit() or not portal.isascii() or not callback_id:
        return None
    return int(portal), callback_id


def block(expiration: str) -> dict[str, Any]:
    return {"hs_execution_state": "BLOCK", "hs_expiration_duration": expiration}


def final_outputs(
    event: Event, status: str, error_code: str | None, error_reason: str | None
) -> dict[str, Any]:
    """SUCCESS for delivered or read; FAIL_CONTINUE with errorCode NOT_DELIVERED (which the
    definition labels) for failed or not-sent. Every value is text; none is null."""
    out: dict[str, Any] = {
        "hs_execution_state": "SUCCESS" if status in SUCCEEDED else "FAIL_CONTINUE",
        "delivery_status": status,
        "message_id": event.message_id,
        "event_id": event.id,
    }
    if status not in SUCCEEDED:
        reason = error_reason or f"WhatsApp reported the message as {status}."
        out.update(
            errorCode=NOT_DELIVERED,
            errorMessage=reason[:1000],
            delivery_error_code=error_code,
            delivery_error_reason=error_reason[:1000] if error_reason else None,
        )
    return {key: value for key, value in out.items() if value is not None}
