"""Aggregates for /metrics, read from the tables so every process and host agrees."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from .engine import Database
from .schema import accounts, attempts, early_reports, events, notifications, statuses

LATENCY_BUCKETS_MS = (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)


def event_counts(db: Database) -> dict[str, int]:
    query = select(events.c.status, func.count()).group_by(events.c.status)
    with db.read() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


def oldest_queued_ms(db: Database) -> int | None:
    query = select(func.min(events.c.created_ms)).where(events.c.status == "queued")
    with db.read() as conn:
        value = conn.execute(query).scalar()
    return int(value) if value is not None else None


def attempt_stats(db: Database) -> dict[str, Any]:
    """Attempts by outcome, retries, and the upstream latency histogram (cumulative buckets)."""
    latency = attempts.c.latency_ms
    columns = [
        func.count(),
        func.coalesce(func.sum(latency), 0.0),
        func.coalesce(func.sum(case((attempts.c.number > 1, 1), else_=0)), 0),
        *[func.coalesce(func.sum(case((latency <= b, 1), else_=0)), 0) for b in LATENCY_BUCKETS_MS],
    ]
    by_outcome = select(attempts.c.outcome, func.count()).group_by(attempts.c.outcome)
    with db.read() as conn:
        total, latency_sum, retries, *buckets = conn.execute(select(*columns)).one()
        outcomes = {outcome: int(n) for outcome, n in conn.execute(by_outcome)}
    return {
        "count": int(total),
        "sum_ms": float(latency_sum),
        "retries": int(retries),
        "buckets": list(zip(LATENCY_BUCKETS_MS, (int(b) for b in buckets), strict=True)),
        "outcomes": outcomes,
    }


def paused_accounts(db: Database) -> list[str]:
    with db.read() as conn:
        return [row[0] for row in conn.execute(select(accounts.c.name).where(accounts.c.paused))]


def status_counts(db: Database) -> dict[str, int]:
    """Delivery statuses Kaleyra reported, by status (each message's each status once)."""
    with db.read() as conn:
        rows = conn.execute(select(statuses.c.status, func.count()).group_by(statuses.c.status))
        return {status: count for status, count in rows}


def notification_counts(db: Database) -> dict[tuple[str, str], int]:
    """Outbox rows by (target kind, state)."""
    with db.read() as conn:
        rows = conn.execute(
            select(notifications.c.target, notifications.c.state, func.count()).group_by(
                notifications.c.target, notifications.c.state
            )
        )
        counts: dict[tuple[str, str], int] = {}
        for target, state, count in rows:
            key = (target.split(":", 1)[0], state)  # "zapier:<hook>" rows count as zapier
            counts[key] = counts.get(key, 0) + count
        return counts


def early_report_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(early_reports)).scalar_one())
