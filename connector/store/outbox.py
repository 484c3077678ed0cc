"""The outbox: what each platform is owed about each message, until it has it.

The notifier reads the statuses that moved a message on and have not been fanned out, decides
the targets (it knows the connections), and writes their rows with ``fan_out`` (one row per
event, target and status: a repeat adds nothing). ``claim_notifications`` leases due rows (the
lease is the next try time, so rows held by a worker that died come due again), and
``record_notifications`` settles a batch: done, gone, failed for good, or retried with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .schema import events, notifications, statuses

BACKOFF_CAP_S = 300


def backoff_s(attempt: int) -> float:
    """1, 2, 4 … seconds, at most five minutes: a receiver back after a minute hears within
    about a minute more."""
    return float(min(2 ** max(attempt - 1, 0), BACKOFF_CAP_S))


def unfanned(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Statuses that moved a message on and whose notifications are not written yet, with the
    event's row."""
    query = (
        select(statuses.c.id.label("status_id"), statuses.c.status, events)
        .join(events, events.c.id == statuses.c.event_id)
        .where(statuses.c.fanned_out.is_(False))
        .order_by(statuses.c.id)
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def targets_taken(conn: Connection, event_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(event id, target) pairs that already have a row (for once-per-message targets)."""
    if not event_ids:
        return set()
    query = select(notifications.c.event_id, notifications.c.target).where(
        notifications.c.event_id.in_(event_ids)
    )
    return {(row.event_id, row.target) for row in conn.execute(query)}


def _insert_ignoring_repeats(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(notifications).on_conflict_do_nothing(), rows)
    elif conn.dialect.name == "sqlite":
        conn.execute(sqlite.insert(notifications).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - the store runs on SQLite or PostgreSQL only
        conn.execute(insert(notifications), rows)


def fan_out(
    conn: Connection, *, status_ids: Sequence[int], rows: Sequence[Mapping[str, Any]], now: int
) -> int:
    """Write the notifications (``event_id``, ``target``, ``status``) and mark the statuses
    fanned out, in one transaction. The number of rows offered."""
    if rows:
        _insert_ignoring_repeats(
            conn,
            [
                {**row, "state": "pending", "attempts": 0, "next_ms": now, "created_ms": now,
                 "updated_ms": now}
                for row in rows
            ],
        )  # fmt: skip
    if status_ids:
        conn.execute(update(statuses).where(statuses.c.id.in_(status_ids)).values(fanned_out=True))
    return len(rows)


def claim_notifications(
    conn: Connection, *, now: int, limit: int, lease_ms: int
) -> list[dict[str, Any]]:
    """Lease up to ``limit`` due rows (their next try moves to the lease's end), each with its
    status's time and error. A row waits while an earlier row for the same message and target
    is pending, so no platform hears ``read`` before ``delivered``."""
    earlier = notifications.alias("earlier")
    waits_its_turn = (
        select(earlier.c.id)
        .where(
            earlier.c.event_id == notifications.c.event_id,
            earlier.c.target == notifications.c.target,
            earlier.c.state == "pending",
            earlier.c.id < notifications.c.id,
        )
        .exists()
    )
    due = (
        select(notifications.c.id)
        .where(
            notifications.c.state == "pending",
            notifications.c.next_ms <= now,
            ~waits_its_turn,  # a message's statuses reach a target in the order they moved on
        )
        .order_by(notifications.c.next_ms)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = conn.execute(
        update(notifications)
        .where(notifications.c.id.in_(due.scalar_subquery()), notifications.c.state == "pending")
        .values(
            attempts=notifications.c.attempts + 1,
            next_ms=now + lease_ms,
            lease_until_ms=now + lease_ms,
            updated_ms=now,
        )
        .returning(
            notifications.c.id,
            notifications.c.event_id,
            notifications.c.target,
            notifications.c.status,
            notifications.c.attempts,
            notifications.c.created_ms,
            notifications.c.lease_until_ms,
        )
    )
    rows = [dict(row) for row in claimed.mappings()]
    if not rows:
        return rows
    details = {
        (row.event_id, row.status): row
        for row in conn.execute(
            select(statuses.c.event_id, statuses.c.status, statuses.c.at_ms,
                   statuses.c.error_code, statuses.c.error_reason)
            .where(statuses.c.event_id.in_({r["event_id"] for r in rows}))
        )
    }  # fmt: skip
    for row in rows:
        found = details.get((row["event_id"], row["status"]))
        row["at_ms"] = found.at_ms if found is not None else row["created_ms"]
        row["error_code"] = found.error_code if found is not None else None
        row["error_reason"] = found.error_reason if found is not None else None
    return rows


# one statement for a batch of outcomes (executemany); a row claimed again since is left alone
SETTLE_NOTIFICATION = (
    update(notifications)
    .where(
        notifications.c.id == bindparam("b_id"),
        notifications.c.state == "pending",
        notifications.c.lease_until_ms == bindparam("b_lease"),
    )
    .values(
        state=bindparam("b_state"),
        next_ms=bindparam("b_next"),
        last_error=bindparam("b_error"),
        delivered_ms=bindparam("b_delivered"),
        lease_until_ms=None,
        updated_ms=bindparam("b_now"),
    )
)


def record_notifications(
    conn: Connection, *, outcomes: Sequence[Mapping[str, Any]], now: int
) -> int:
    """Settle a batch: each outcome has ``id``, ``lease_until_ms`` (the claim's: a row claimed
    again since is left alone), ``state`` (done, retry, gone, failed), ``error`` and, for a
    retry, ``next_ms``."""
    params = []
    for outcome in outcomes:
        state = outcome["state"]
        done = state == "done"
        params.append({
            "b_id": outcome["id"],
            "b_lease": outcome["lease_until_ms"],
            "b_state": "pending" if state == "retry" else state,
            # a retry comes due at its backoff; a settled row's next time no longer matters
            "b_next": outcome.get("next_ms") or now,
            "b_error": None if done else outcome.get("error"),
            "b_delivered": now if done else None,
        })  # fmt: skip
    if not params:
        return 0
    changed = conn.execute(SETTLE_NOTIFICATION, [p | {"b_now": now} for p in params]).rowcount
    return changed
