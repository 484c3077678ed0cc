"""What the console reads about messages: filtered pages of events, queue depth, delivery rate.

Pages are keyset-paged in one stable order, newest first (``created_ms`` descending, then ``id``),
so a page never repeats or skips a message while new ones arrive. Every query takes the accounts
the reader may see (``None``: all of them, for an admin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from .events import Event
from .schema import attempts, events


@dataclass(frozen=True)
class MessageFilter:
    accounts: tuple[str, ...] | None = None  # what the reader may see; None = everything
    status: str | None = None
    platform: str | None = None
    account: str | None = None  # the connection picked in the filter
    since_ms: int | None = None
    until_ms: int | None = None
    last4: str | None = None

    def where(self) -> list[Any]:
        c = events.c
        clauses: list[Any] = []
        if self.accounts is not None:
            clauses.append(c.account.in_(self.accounts))
        for column, value in (
            (c.status, self.status),
            (c.platform, self.platform),
            (c.account, self.account),
            (c.recipient_last4, self.last4),
        ):
            if value:
                clauses.append(column == value)
        if self.since_ms is not None:
            clauses.append(c.created_ms >= self.since_ms)
        if self.until_ms is not None:
            clauses.append(c.created_ms < self.until_ms)
        return clauses


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the message (created_ms, id)."""

    created_ms: int
    id: str

    def __str__(self) -> str:
        return f"{self.created_ms}.{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        created, _, event_id = (text or "").partition(".")
        if not created.isdigit() or not event_id.startswith("evt_") or len(event_id) > 40:
            return None
        return cls(int(created), event_id)


def page_events(
    engine: Engine, flt: MessageFilter, after: Cursor | None = None, limit: int = 25
) -> tuple[list[Event], Cursor | None]:
    """One page of ``flt``'s events after ``after``, and the cursor of the next page (if any)."""
    query = select(events).where(*flt.where())
    if after is not None:
        query = query.where(
            or_(
                events.c.created_ms < after.created_ms,
                and_(events.c.created_ms == after.created_ms, events.c.id > after.id),
            )
        )
    query = query.order_by(events.c.created_ms.desc(), events.c.id).limit(limit + 1)
    with engine.connect() as conn:
        found = [Event.from_row(row) for row in conn.execute(query).mappings()]
    more = len(found) > limit
    found = found[:limit]
    return found, (Cursor(found[-1].created_ms, found[-1].id) if more else None)


def platforms_seen(engine: Engine, accounts: Sequence[str] | None) -> list[str]:
    query = select(events.c.platform).distinct().order_by(events.c.platform)
    if accounts is not None:
        query = query.where(events.c.account.in_(tuple(accounts)))
    with engine.connect() as conn:
        return [str(p) for p in conn.execute(query).scalars()]


@dataclass(frozen=True)
class QueueFigures:
    depth: int  # queued messages
    oldest_ms: int | None  # when the oldest queued one was received
    accepted_recent: int  # accepted by Kaleyra in the last ``window_ms``
    window_ms: int
    by_status: dict[str, int]

    @property
    def per_minute(self) -> float:
        return self.accepted_recent / (self.window_ms / 60_000)


def queue_figures(
    engine: Engine, accounts: Sequence[str] | None, now_ms: int, window_ms: int = 300_000
) -> QueueFigures:
    scope = [] if accounts is None else [events.c.account.in_(tuple(accounts))]
    by_status = select(events.c.status, func.count()).where(*scope).group_by(events.c.status)
    oldest = select(func.min(events.c.created_ms)).where(events.c.status == "queued", *scope)
    accepted = (
        select(func.count())
        .select_from(attempts.join(events, attempts.c.event_id == events.c.id))
        .where(attempts.c.outcome == "accepted", attempts.c.started_ms >= now_ms - window_ms)
        .where(*scope)
    )
    with engine.connect() as conn:
        counts = {str(status): int(n) for status, n in conn.execute(by_status)}
        first = conn.execute(oldest).scalar()
        recent = int(conn.execute(accepted).scalar_one())
    return QueueFigures(
        depth=counts.get("queued", 0),
        oldest_ms=int(first) if first is not None else None,
        accepted_recent=recent,
        window_ms=window_ms,
        by_status=counts,
    )
