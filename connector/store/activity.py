"""The last hour, per minute: what the console's health chart draws.

``sent`` is what Kaleyra accepted (attempts answered 202); ``failed`` is what Kaleyra refused
(failed attempts) plus WhatsApp's own ``failed`` statuses; ``delivered`` and ``read`` are WhatsApp's
statuses. The statuses come from ``reports.status_minutes``: zeros until issue 12's table exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from . import reports
from .schema import attempts, events

SERIES = ("sent", "delivered", "read", "failed")
MINUTE_MS = 60_000


@dataclass(frozen=True)
class Activity:
    start_ms: int  # the first minute's start
    minutes: int
    series: dict[str, list[int]]  # name → one count per minute, oldest first

    @property
    def peak(self) -> int:
        return max((max(values) for values in self.series.values()), default=0)

    def total(self, name: str) -> int:
        return sum(self.series[name])


def attempt_minutes(
    engine: Engine, start_ms: int, minutes: int, accounts: Sequence[str] | None
) -> dict[str, list[int]]:
    """Accepted (``sent``) and refused (``failed``) attempts per minute from ``start_ms``."""
    series = {"sent": [0] * minutes, "failed": [0] * minutes}
    minute = (attempts.c.started_ms - start_ms) // MINUTE_MS
    query = (
        select(attempts.c.outcome, minute, func.count())
        .where(
            attempts.c.outcome.in_(("accepted", "failed")),
            attempts.c.started_ms >= start_ms,
            attempts.c.started_ms < start_ms + minutes * MINUTE_MS,
        )
        .group_by(attempts.c.outcome, minute)
    )
    if accounts is not None:
        query = query.join(events, events.c.id == attempts.c.event_id).where(
            events.c.account.in_(tuple(accounts))
        )
    with engine.connect() as conn:
        for outcome, index, count in conn.execute(query):
            name = "sent" if outcome == "accepted" else "failed"
            if 0 <= int(index) < minutes:
                series[name][int(index)] += int(count)
    return series


def last_hour(
    engine: Engine, now_ms: int, accounts: Sequence[str] | None, minutes: int = 60
) -> Activity:
    """``minutes`` whole minutes ending with the current one."""
    start = (now_ms // MINUTE_MS - minutes + 1) * MINUTE_MS
    sent_failed = attempt_minutes(engine, start, minutes, accounts)
    statuses = reports.status_minutes(engine, start, minutes, accounts)
    series = {
        "sent": sent_failed["sent"],
        "delivered": statuses["delivered"],
        "read": statuses["read"],
        "failed": [a + b for a, b in zip(sent_failed["failed"], statuses["failed"], strict=True)],
    }
    return Activity(start, minutes, series)
