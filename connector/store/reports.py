"""What happened after Kaleyra accepted a message, as the console and the API read it.

``lto_statuses`` holds one row per WhatsApp status of a message (sent, delivered, read, failed,
not-sent, each with ``at_ms``, ``error_code``, ``error_reason``, ``received_ms``);
``lto_notifications`` one row per platform target told about a status (``target``,
``status``, ``state``, ``attempts``, ``last_error``, ``created_ms``, ``updated_ms``).
``statuses_of`` and ``notifications_of`` give a message's timeline, ``status_minutes`` the
health chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from .schema import events, notifications, statuses

CHART_STATUSES = ("delivered", "read", "failed")


def statuses_of(engine: Engine, event_id: str) -> list[dict[str, Any]]:
    """The message's delivery statuses, in the order they happened."""
    query = (
        select(statuses)
        .where(statuses.c.event_id == event_id)
        .order_by(statuses.c.at_ms, statuses.c.id)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def notifications_of(engine: Engine, event_id: str) -> list[dict[str, Any]]:
    """What the platforms were told about the message, oldest first."""
    query = (
        select(notifications)
        .where(notifications.c.event_id == event_id)
        .order_by(notifications.c.created_ms, notifications.c.id)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def status_minutes(
    engine: Engine, start_ms: int, minutes: int, accounts: Sequence[str] | None
) -> dict[str, list[int]]:
    """Delivered, read and failed statuses per minute from ``start_ms``."""
    series = {status: [0] * minutes for status in CHART_STATUSES}
    minute = (statuses.c.at_ms - start_ms) // 60_000
    query = (
        select(statuses.c.status, minute, func.count())
        .where(
            statuses.c.status.in_(CHART_STATUSES),
            statuses.c.at_ms >= start_ms,
            statuses.c.at_ms < start_ms + minutes * 60_000,
        )
        .group_by(statuses.c.status, minute)
    )
    if accounts is not None:
        query = query.join(events, events.c.id == statuses.c.event_id).where(
            events.c.account.in_(tuple(accounts))
        )
    with engine.connect() as conn:
        for status, index, count in conn.execute(query):
            if 0 <= int(index) < minutes:
                series[str(status)][int(index)] += int(count)
    return series
