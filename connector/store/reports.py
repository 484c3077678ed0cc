"""What happened after Kaleyra accepted a message, as the console and the API read it.

``lto_statuses`` holds one row per WhatsApp status of a message (sent, delivered, read, failed,
not-sent, each with ``at_ms``, ``error_code``, ``error_reason``, ``received_ms``);
``lto_notifications`` one row per platform target told about a status (``target``,
``status``, ``state``, ``attempts``, ``last_error``, ``created_ms``, ``updated_ms``).
``statuses_of`` and ``notifications_of`` give a message's timeline (the health chart's counts are
``activity.per_minute``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from .schema import notifications, statuses


def _of_event(engine: Engine, table: Table, event_id: str, first: str) -> list[dict[str, Any]]:
    """``table``'s rows for one message, ordered by ``first`` then insertion."""
    query = select(table).where(table.c.event_id == event_id).order_by(table.c[first], table.c.id)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def statuses_of(engine: Engine, event_id: str) -> list[dict[str, Any]]:
    """The message's delivery statuses, in the order they happened."""
    return _of_event(engine, statuses, event_id, "at_ms")


def notifications_of(engine: Engine, event_id: str) -> list[dict[str, Any]]:
    """What the platforms were told about the message, oldest first."""
    return _of_event(engine, notifications, event_id, "created_ms")
