"""The last hour, per minute: what the console's health chart draws.

``sent`` is what Kaleyra accepted (attempts answered 202); ``failed`` is what Kaleyra refused
(failed attempts) plus WhatsApp's own ``failed`` statuses; ``delivered`` and ``read`` are WhatsApp's
statuses (``lto_statuses``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from .schema import attempts, events, statuses

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


def per_minute(
    engine: Engine,
    table: Table,
    kind: str,
    at: str,
    kinds: Sequence[str],
    start_ms: int,
    minutes: int,
    accounts: Sequence[str] | None,
) -> dict[str, list[int]]:
    """Rows of ``table`` per minute from ``start_ms``, one series per value of its ``kind``
    column among ``kinds``, timed by its ``at`` column; only ``accounts``' messages when given."""
    series = {name: [0] * minutes for name in kinds}
    minute = (table.c[at] - start_ms) // MINUTE_MS
    query = (
        select(table.c[kind], minute, func.count())
        .where(
            table.c[kind].in_(tuple(kinds)),
            table.c[at] >= start_ms,
            table.c[at] < start_ms + minutes * MINUTE_MS,
        )
        .group_by(table.c[kind], minute)
    )
    if accounts is not None:
        query = query.join(events, events.c.id == table.c.event_id).where(
            events.c.account.in_(tuple(accounts))
        )
    with engine.connect() as conn:
        for name, index, count in conn.execute(query):
            if 0 <= int(index) < minutes:
                series[str(name)][int(index)] += int(count)
    return series


def last_hour(
    engine: Engine, now_ms: int, accounts: Sequence[str] | None, minutes: int = 60
) -> Activity:
    """``minutes`` whole minutes ending with the current one."""
    start = (now_ms // MINUTE_MS - minutes + 1) * MINUTE_MS
    tried = per_minute(engine, attempts, "outcome", "started_ms", ("accepted", "failed"),
                       start, minutes, accounts)  # fmt: skip
    reported = per_minute(engine, statuses, "status", "at_ms", ("delivered", "read", "failed"),
                          start, minutes, accounts)  # fmt: skip
    series = {
        "sent": tried["accepted"],
        "delivered": reported["delivered"],
        "read": reported["read"],
        "failed": [a + b for a, b in zip(tried["failed"], reported["failed"], strict=True)],
    }
    return Activity(start, minutes, series)
