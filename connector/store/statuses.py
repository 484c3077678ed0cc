"""Kaleyra's delivery reports in the store: each message's status history and how far it got.

``apply_reports`` is one unit of a group commit (many callbacks share one transaction): it finds
each report's message (the connector's reference in a ref first, then the message id), keeps
every status once (a duplicate changes nothing), and moves ``lto_events.delivery_status`` only
forwards (sent < failed/not-sent < delivered < read: Meta may report ``read`` without
``delivered``, and a multi-device ``delivered`` after ``failed`` means it did arrive). A status
that moved the message on is ``forward``: the notifier tells the platforms about it. A report
whose message is not known yet is kept in ``lto_early_reports`` and applied by ``match_early``
once an event carries its message id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from ..reports.parse import StatusReport
from .group_commit import BatchUnit
from .schema import early_reports, events, statuses

RANK = {"sent": 1, "failed": 2, "not-sent": 2, "delivered": 3, "read": 4}
EVENT_ID = re.compile(r"^evt_[0-9a-f]{32}$")
EARLY_KEPT_MS = 7 * 86_400_000  # an early report nobody claims is dropped after a week


def moves_on(current: str | None, status: str) -> bool:
    return RANK[status] > RANK.get(current or "", 0)


def _events_where(conn: Connection, account: str, clause: Any) -> list[Any]:
    query: Select[Any] = select(events.c.id, events.c.message_id, events.c.delivery_status).where(
        events.c.account == account, clause
    )
    return list(conn.execute(query).mappings())


def _match(
    conn: Connection, account: str, reports: Sequence[StatusReport]
) -> list[tuple[StatusReport, str | None]]:
    """Each report with its event id (None: not known yet). The connector's reference wins."""
    refs = {r for report in reports for r in report.refs if EVENT_ID.match(r)}
    by_id = (
        {row["id"]: row["id"] for row in _events_where(conn, account, events.c.id.in_(refs))}
        if refs
        else {}
    )
    need = [rep for rep in reports if not any(r in by_id for r in rep.refs)]
    ids = {m for rep in need for m in rep.message_ids}
    by_message: dict[str, str] = {}
    if ids:
        for row in _events_where(conn, account, events.c.message_id.in_(ids)):
            by_message[row["message_id"]] = row["id"]
    matched = []
    for report in reports:
        event_id = next((by_id[r] for r in report.refs if r in by_id), None)
        if event_id is None:
            event_id = next((by_message[m] for m in report.message_ids if m in by_message), None)
        matched.append((report, event_id))
    return matched


@dataclass
class Recorded:
    """Which reports (by their index in the call) were new, and which of those moved on."""

    keys: list[tuple[str, str, int]] = field(default_factory=list)  # (event, status, index)
    forward: set[tuple[str, str, int]] = field(default_factory=set)


def record_statuses(
    conn: Connection, pairs: Iterable[tuple[StatusReport, str]], now: int
) -> Recorded:
    """Keep each (event, status) once and move the events on."""
    items = list(pairs)
    out = Recorded()
    if not items:
        return out
    event_ids = {event_id for _, event_id in items}
    current = {
        row.id: row.delivery_status
        for row in conn.execute(
            select(events.c.id, events.c.delivery_status).where(events.c.id.in_(event_ids))
        )
    }
    known = {
        (row.event_id, row.status)
        for row in conn.execute(
            select(statuses.c.event_id, statuses.c.status).where(statuses.c.event_id.in_(event_ids))
        )
    }
    rows: list[dict[str, Any]] = []
    moved: dict[str, str] = {}
    # oldest first, so a batch holding delivered and read moves delivered, then read
    order = sorted(range(len(items)),
                   key=lambda i: (items[i][0].at_ms or now, RANK[items[i][0].status]))  # fmt: skip
    for index in order:
        report, event_id = items[index]
        if (event_id, report.status) in known:
            continue
        known.add((event_id, report.status))
        forward = moves_on(current.get(event_id), report.status)
        key = (event_id, report.status, index)
        out.keys.append(key)
        if forward:
            out.forward.add(key)
            current[event_id] = moved[event_id] = report.status
        rows.append(
            {
                "event_id": event_id,
                "status": report.status,
                "at_ms": report.at_ms or now,
                "error_code": report.error_code,
                "error_reason": report.error_reason,
                "received_ms": now,
                "forward": forward,
                "fanned_out": not forward,
            }
        )
    if rows:
        conn.execute(insert(statuses), rows)
    if moved:
        conn.execute(
            update(events)
            .where(events.c.id == bindparam("b_id"))
            .values(delivery_status=bindparam("b_status")),
            [{"b_id": event_id, "b_status": status} for event_id, status in moved.items()],
        )
    return out


@dataclass(frozen=True)
class ApplyReports(BatchUnit):
    """One callback's reports (as ``StatusReport.to_json``) for ``account``'s messages. The
    callbacks of one group commit are applied together: a handful of statements for the whole
    group, not per callback."""

    account: str
    reports: Sequence[Mapping[str, Any]]
    now: int

    @classmethod
    def run_batch(cls, conn: Connection, units: Sequence[Any]) -> list[dict[str, int]]:
        batch: Sequence[ApplyReports] = units
        parsed = [[StatusReport.from_json(r) for r in unit.reports] for unit in batch]
        event_of: list[list[str | None]] = [[] for _ in batch]
        by_account: dict[str, list[int]] = {}
        for index, unit in enumerate(batch):
            by_account.setdefault(unit.account, []).append(index)
        for account, indexes in by_account.items():
            reports = [report for i in indexes for report in parsed[i]]
            pairs = iter(_match(conn, account, reports))
            for i in indexes:
                event_of[i] = [next(pairs)[1] for _ in parsed[i]]
        found = [
            (report, event_id, i)
            for i in range(len(batch))
            for report, event_id in zip(parsed[i], event_of[i], strict=True)
            if event_id is not None
        ]
        now = max(unit.now for unit in batch)
        new = record_statuses(conn, [(report, event_id) for report, event_id, _ in found], now)
        keep = [
            {"account": unit.account, "message_key": key, "report": report.to_json(),
             "received_ms": unit.now}
            for unit, reports, events_ in zip(batch, parsed, event_of, strict=True)
            for report, event_id in zip(reports, events_, strict=True)
            if event_id is None
            for key in dict.fromkeys([*report.message_ids, *report.refs])
        ]  # fmt: skip
        if keep:
            conn.execute(insert(early_reports), keep)
        unit_of = [i for _, _, i in found]  # record_statuses' index → the callback's
        results: list[dict[str, int]] = []
        for i in range(len(batch)):
            mine = [key for key in new.keys if unit_of[key[2]] == i]
            matched = sum(1 for e in event_of[i] if e is not None)
            results.append(
                {
                    "matched": matched,
                    "duplicates": matched - len(mine),
                    "forward": sum(1 for key in mine if key in new.forward),
                    "early": len(event_of[i]) - matched,
                }
            )
        return results


def apply_reports(
    conn: Connection, *, account: str, reports: Sequence[Mapping[str, Any]], now: int
) -> dict[str, int]:
    """One callback's reports (as ``StatusReport.to_json``) for ``account``'s messages."""
    return ApplyReports(account, reports, now)(conn)


def match_early(conn: Connection, *, now: int, limit: int = 500) -> int:
    """Apply the early reports whose message now has its id (or exists, for a reference);
    drop those older than a week. The number applied."""
    joined = (
        select(early_reports.c.id, early_reports.c.report, events.c.id.label("event_id"))
        .join(
            events,
            and_(
                events.c.account == early_reports.c.account,
                (events.c.message_id == early_reports.c.message_key)
                | (events.c.id == early_reports.c.message_key),
            ),
        )
        .limit(limit)
    )
    rows = list(conn.execute(joined).mappings())
    if rows:
        record_statuses(
            conn, ((StatusReport.from_json(r["report"]), r["event_id"]) for r in rows), now
        )
        conn.execute(delete(early_reports).where(early_reports.c.id.in_([r["id"] for r in rows])))
    conn.execute(delete(early_reports).where(early_reports.c.received_ms < now - EARLY_KEPT_MS))
    return len(rows)


def history_of(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    query = (
        select(statuses.c.status, statuses.c.at_ms, statuses.c.error_code,
               statuses.c.error_reason, statuses.c.received_ms)
        .where(statuses.c.event_id == event_id)
        .order_by(statuses.c.at_ms, statuses.c.id)
    )  # fmt: skip
    return [dict(row) for row in conn.execute(query).mappings()]
