"""What happened after Kaleyra accepted a message: delivery statuses and platform notifications.

Issue 12 adds two tables: ``lto_statuses`` (one row per WhatsApp status of a message: sent,
delivered, read, failed, not-sent, each with ``at_ms``, ``error_code``, ``error_reason``,
``received_ms``) and ``lto_notifications`` (one row per platform told about a message: ``target``,
``status``, ``attempts``, ``last_error``, ``created_ms``, ``updated_ms``). Until they exist these
readers answer nothing, so the console works before and after; each table is found with
SQLAlchemy's inspector and reflected once per engine.

The console reads them only through the three functions below: ``statuses_of`` and
``notifications_of`` (the message timeline) and ``status_minutes`` (the health chart).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.engine import Engine

from .schema import events

STATUSES = "lto_statuses"
NOTIFICATIONS = "lto_notifications"
CHART_STATUSES = ("delivered", "read", "failed")

_tables: weakref.WeakKeyDictionary[Engine, dict[str, Table]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def optional_table(engine: Engine, name: str) -> Table | None:
    """``name`` reflected from the database, or None while it does not exist."""
    with _lock:
        known = _tables.setdefault(engine, {})
        if name in known:
            return known[name]
    if not inspect(engine).has_table(name):
        return None  # not created yet: ask again next time
    table = Table(name, MetaData(), autoload_with=engine)
    with _lock:
        known[name] = table
    return table


def _rows(engine: Engine, table: Table, event_id: str, order: str) -> list[dict[str, Any]]:
    query = select(table).where(table.c.event_id == event_id)
    if order in table.c:
        query = query.order_by(table.c[order])
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def statuses_of(engine: Engine, event_id: str) -> list[dict[str, Any]]:
    """The message's delivery statuses, oldest first (none before issue 12's table exists)."""
    table = optional_table(engine, STATUSES)
    return [] if table is None else _rows(engine, table, event_id, "at_ms")


def notifications_of(engine: Engine, event_id: str) -> list[dict[str, Any]]:
    """What was reported to the platforms about the message (none before the table exists)."""
    table = optional_table(engine, NOTIFICATIONS)
    return [] if table is None else _rows(engine, table, event_id, "created_ms")


def status_minutes(
    engine: Engine, start_ms: int, minutes: int, accounts: Sequence[str] | None
) -> dict[str, list[int]]:
    """Delivered, read and failed statuses per minute from ``start_ms``: zeros until the table
    exists."""
    series = {status: [0] * minutes for status in CHART_STATUSES}
    table = optional_table(engine, STATUSES)
    if table is None or not {"event_id", "status", "at_ms"} <= set(table.c.keys()):
        return series
    minute = (table.c.at_ms - start_ms) // 60_000
    query = (
        select(table.c.status, minute, func.count())
        .where(
            table.c.status.in_(CHART_STATUSES),
            table.c.at_ms >= start_ms,
            table.c.at_ms < start_ms + minutes * 60_000,
        )
        .group_by(table.c.status, minute)
    )
    if accounts is not None:
        query = query.join(events, events.c.id == table.c.event_id).where(
            events.c.account.in_(tuple(accounts))
        )
    with engine.connect() as conn:
        for status, index, count in conn.execute(query):
            if 0 <= int(index) < minutes:
                series[str(status)][int(index)] += int(count)
    return series
