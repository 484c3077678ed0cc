"""The event table as the delivery queue: the units a worker commits, each for a whole batch.

A worker claims an account's due events in one statement (``UPDATE … RETURNING``; on PostgreSQL
the rows are picked ``FOR UPDATE SKIP LOCKED``, so workers on many hosts never wait for each
other), marks the ones about to leave ``sending`` in one statement, and records many outcomes
in one transaction. Every unit checks the state it expects (status and lease owner), so a lease
the sweeper took back is never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, bindparam, exists, insert, or_, select, update
from sqlalchemy.engine import Connection

from .events import Event, now_ms, returning_update
from .schema import accounts, attempts, events

EXPIRED_MESSAGE = "The offer's expiry came before it could be sent, so it was not sent"


def _paused(account: Any) -> Any:
    return exists().where(accounts.c.name == account, accounts.c.paused.is_(True))


@dataclass(frozen=True)
class Claimed:
    to_send: list[Event]
    expired: list[Event]


def claim_due(
    conn: Connection,
    *,
    account: str,
    now: int,
    limit: int,
    lease_ms: int,
    owner: str,
    expiry_margin_ms: int,
    ids: Sequence[str] = (),
) -> Claimed:
    """Lease up to ``limit`` of ``account``'s due events (of ``ids`` only, if given), oldest due
    first; none while the account is paused. Those whose offer ends within ``expiry_margin_ms``
    become ``expired`` instead."""
    due = (
        select(events.c.id)
        .where(
            events.c.status == "queued",
            events.c.account == account,
            events.c.next_attempt_ms <= now,
            ~_paused(account),
        )
        .order_by(events.c.next_attempt_ms)
        .limit(limit)
    )
    if ids:
        due = due.where(events.c.id.in_(ids))
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = returning_update(
        conn,
        (events.c.id.in_(due.scalar_subquery()), events.c.status == "queued"),
        status="leased",
        attempts=events.c.attempts + 1,
        lease_until_ms=now + lease_ms,
        lease_owner=owner,
        updated_ms=now,
    )
    claimed.sort(key=lambda e: (e.next_attempt_ms or 0, e.created_ms))
    ending = now + expiry_margin_ms
    late = [e for e in claimed if e.expires_ms is not None and e.expires_ms <= ending]
    if late:
        late = expire(conn, [e.id for e in late], now, owner)
    gone = {e.id for e in late}
    return Claimed([e for e in claimed if e.id not in gone], late)


def expire(conn: Connection, ids: Sequence[str], now: int, owner: str) -> list[Event]:
    """Leased events whose offer has ended (or is about to): never sent; retries stop here."""
    return returning_update(
        conn,
        (events.c.id.in_(ids), events.c.status == "leased", events.c.lease_owner == owner),
        status="expired",
        attempts=events.c.attempts - 1,
        lease_until_ms=None,
        lease_owner=None,
        next_attempt_ms=None,
        error_kind="expired",
        error_code=None,
        error_message=EXPIRED_MESSAGE,
        updated_ms=now,
    )


def requeued(now: int) -> dict[str, Any]:
    """A leased event handed back unsent: queued again, due now, the attempt not counted."""
    return {
        "status": "queued",
        "attempts": events.c.attempts - 1,
        "lease_until_ms": None,
        "lease_owner": None,
        "next_attempt_ms": now,
        "updated_ms": now,
    }


@dataclass(frozen=True)
class Released:
    sending: set[str]  # marked sending: they may now leave
    returned: set[str]  # back to the queue (their account was paused meanwhile)


def mark_sending(
    conn: Connection, ids: Sequence[str], *, owner: str, now: int, lease_ms: int
) -> Released:
    """From now on a lost worker means ``uncertain`` for these: they are about to leave.
    Events of an account paused since they were claimed go back to the queue instead."""
    held = (events.c.id.in_(ids), events.c.status == "leased", events.c.lease_owner == owner)
    sending = conn.execute(
        update(events)
        .where(*held, ~_paused(events.c.account))
        .values(status="sending", lease_until_ms=now + lease_ms, updated_ms=now)
        .returning(events.c.id)
    ).scalars()
    marked = set(sending)
    rest = [i for i in ids if i not in marked]
    returned: set[str] = set()
    if rest:
        returned = set(
            conn.execute(
                update(events)
                .where(events.c.id.in_(rest), *held[1:])
                .values(**requeued(now))
                .returning(events.c.id)
            ).scalars()
        )
    return Released(marked, returned)


def release(conn: Connection, ids: Sequence[str], *, owner: str, now: int) -> int:
    """Leased events a stopping worker will not send: back to the queue, attempt not counted."""
    if not ids:
        return 0
    return int(
        conn.execute(
            update(events)
            .where(events.c.id.in_(ids), events.c.status == "leased", events.c.lease_owner == owner)
            .values(**requeued(now))
        ).rowcount
    )


@dataclass(frozen=True)
class Settlement:
    """What one attempt's outcome does to its event: the new values, the attempt row, and
    whether its account must be paused."""

    event_id: str
    status: str
    values: dict[str, Any]  # message_id, error columns, next_attempt_ms, upstream_status …
    attempt: dict[str, Any] | None
    attempts_delta: int = 0  # -1: an attempt that does not count (a paused account's)
    pause: tuple[str, str] | None = None  # (account, reason)
    owner: str | None = None  # the lease holder; None for inline (sync) attempts

    SETTABLE = (
        "message_id",
        "upstream_status",
        "error_kind",
        "error_code",
        "error_message",
        "retry_after",
        "next_attempt_ms",
    )


@dataclass
class Recorded:
    settled: dict[str, str] = field(default_factory=dict)  # event id → its new status
    stale: list[str] = field(default_factory=list)  # leases taken back before the outcome came
    paused: list[str] = field(default_factory=list)  # accounts this batch paused


# one statement for every outcome of a batch (executemany); the guard is the state the worker
# left it in, so an outcome for a lease the sweeper took back changes nothing
SETTLE = (
    update(events)
    .where(
        events.c.id == bindparam("b_id"),
        events.c.status == "sending",
        or_(
            bindparam("b_owner", type_=String) == None,  # noqa: E711  (an inline attempt)
            events.c.lease_owner == bindparam("b_owner", type_=String),
        ),
    )
    .values(
        status=bindparam("b_status"),
        attempts=events.c.attempts + bindparam("b_delta"),
        lease_until_ms=None,
        lease_owner=None,
        updated_ms=bindparam("b_now"),
        **{name: bindparam(f"b_{name}") for name in Settlement.SETTABLE},
    )
)


def record(conn: Connection, settlements: Iterable[Settlement], now: int | None = None) -> Recorded:
    """Every outcome of a batch in one transaction: attempts, events, pauses."""
    items = list(settlements)
    now = now if now is not None else now_ms()
    result = Recorded()
    if not items:
        return result
    rows = [s.attempt for s in items if s.attempt is not None]
    if rows:
        conn.execute(insert(attempts), rows)
    for account, reason in {s.pause for s in items if s.pause is not None}:
        if pause_account(conn, account, reason, now):
            result.paused.append(account)
    params = [
        {
            "b_id": s.event_id,
            "b_owner": s.owner,
            "b_status": s.status,
            "b_delta": s.attempts_delta,
            "b_now": now,
            **{f"b_{name}": s.values.get(name) for name in Settlement.SETTABLE},
        }
        for s in items
    ]
    changed = conn.execute(SETTLE, params).rowcount
    settled = {s.event_id: s.status for s in items}
    if changed != len(items):  # some leases were taken back: find which
        found = conn.execute(
            select(events.c.id, events.c.status).where(events.c.id.in_(settled))
        ).all()
        result.stale = [i for i, status in found if status != settled[i]]
    result.settled = {i: s for i, s in settled.items() if i not in result.stale}
    return result


def pause_account(conn: Connection, name: str, reason: str, now: int) -> bool:
    """Pause ``name``; False when it was paused already."""
    changed = conn.execute(
        update(accounts)
        .where(accounts.c.name == name, accounts.c.paused.is_(False))
        .values(paused=True, reason=reason, paused_ms=now, updated_ms=now)
    ).rowcount
    if changed:
        return True
    if conn.execute(select(accounts.c.name).where(accounts.c.name == name)).first():
        return False
    conn.execute(
        insert(accounts).values(
            name=name, paused=True, reason=reason, paused_ms=now, updated_ms=now
        )
    )
    return True


def expire_leases(conn: Connection, now: int, *, retry_uncertain: bool) -> tuple[int, int]:
    """Resolve leases whose holder vanished: (requeued, made uncertain).

    A ``leased`` event never left: it goes back to the queue. A ``sending`` one may have
    reached Kaleyra: it becomes ``uncertain`` (or is queued again with ``retry_uncertain``).
    """
    expired = (events.c.lease_until_ms < now,)
    requeued = conn.execute(
        update(events)
        .where(events.c.status == "leased", *expired)
        .values(
            status="queued",
            next_attempt_ms=now,
            lease_until_ms=None,
            lease_owner=None,
            attempts=events.c.attempts - 1,
            updated_ms=now,
        )
    ).rowcount
    lost: dict[str, Any] = (
        {"status": "queued", "next_attempt_ms": now}
        if retry_uncertain
        else {
            "status": "uncertain",
            "error_kind": "uncertain",
            "error_message": "The connector stopped while this message was being sent",
        }
    )
    uncertain = conn.execute(
        update(events)
        .where(events.c.status == "sending", *expired)
        .values(lease_until_ms=None, lease_owner=None, updated_ms=now, **lost)
    ).rowcount
    return int(requeued), int(uncertain)


def queued_accounts(conn: Connection) -> set[str]:
    """Accounts with events waiting in the queue."""
    query = select(events.c.account).where(events.c.status == "queued").distinct()
    return set(conn.execute(query).scalars())


__all__ = [
    "Claimed",
    "Recorded",
    "Released",
    "Settlement",
    "claim_due",
    "expire",
    "expire_leases",
    "mark_sending",
    "pause_account",
    "queued_accounts",
    "record",
    "release",
]
