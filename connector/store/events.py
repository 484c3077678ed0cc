"""The event table: one row per message, committed (and flushed) before any success answer.

Writes go through the process's ``GroupCommitter``, so concurrent requests share one commit;
each write is a small *unit* (a function of the transaction's connection) that is safe to run
again after a rollback. Reads go to the reader connections and never wait for a writer.

Statuses — sync:  sending → accepted | failed | uncertain  (failed → sending again on a repeat)
           async: queued → leased → sending → accepted | queued (retry) | dead | uncertain
                  queued → expired (the offer's end came before it could be sent)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection, RowMapping

from .engine import Database
from .group_commit import BatchUnit, GroupCommitter
from .schema import attempts, events

if TYPE_CHECKING:
    from .commit_client import CommitClient
    from .queue_ops import QueueOp

IN_FLIGHT = ("leased", "sending")
SETTLED = ("accepted", "failed", "dead", "uncertain", "expired")
REPLAYABLE = ("dead", "uncertain", "failed")
# the error columns of an event that has none (new, accepted, or replayed)
NO_ERROR: dict[str, Any] = {
    "error_kind": None,
    "error_code": None,
    "error_message": None,
    "retry_after": None,
}


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    platform: str
    wa_source: str
    account: str
    mode: str
    dedupe_key: str
    fingerprint: str
    offer: dict[str, Any]
    payload: dict[str, Any]
    status: str
    message_id: str | None
    error_kind: str | None
    error_code: str | None
    error_message: str | None
    upstream_status: int | None
    retry_after: int | None
    attempts: int
    sandbox: bool
    next_attempt_ms: int | None
    lease_until_ms: int | None
    lease_owner: str | None
    expires_ms: int | None
    platform_ref: str | None
    recipient_last4: str | None
    created_ms: int
    updated_ms: int
    delivery_status: str | None = None  # Kaleyra's furthest report (connector/reports)
    waits: bool | None = None  # the caller waits for the delivery status (HubSpot BLOCK)

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any]) -> Event:
        """An event from its row; a row written before the delivery-report columns (a caller's
        dict, a migration's test data) has them empty."""
        return cls(
            **{key: row[key] for key in _REQUIRED},
            delivery_status=row.get("delivery_status"),
            waits=row.get("waits"),
        )


_REQUIRED = tuple(k for k in Event.__slots__ if k not in ("delivery_status", "waits"))


def event_row(event: Event) -> dict[str, Any]:
    """An event as its row (JSON-ready)."""
    return {name: getattr(event, name) for name in Event.__slots__}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


# New events are written with the driver's own statement: the hot path runs for every message,
# and SQLAlchemy's per-row processing cost more than the insert itself. A row is the event's
# values in column order, its JSON columns already encoded (by the request's own thread).
EVENT_COLUMNS = tuple(column.name for column in events.c)
JSON_COLUMNS = frozenset({"offer", "payload"})
_NAMES = ", ".join(EVENT_COLUMNS)
SQLITE_INSERT = (
    f"INSERT OR IGNORE INTO lto_events ({_NAMES}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_PG_VALUES = "(" + ", ".join("%s::json" if c in JSON_COLUMNS else "%s" for c in EVENT_COLUMNS) + ")"


def encode_row(values: dict[str, Any]) -> list[Any]:
    """An event's values as the row the insert takes."""
    return [
        json.dumps(values[name], ensure_ascii=False, separators=(",", ":"))
        if name in JSON_COLUMNS
        else values.get(name)
        for name in EVENT_COLUMNS
    ]


def insert_rows(conn: Connection, rows: Sequence[Sequence[Any]]) -> set[str]:
    """Insert the rows whose dedupe key is free; the ids of those that went in."""
    ids = [row[0] for row in rows]
    if conn.dialect.name == "postgresql":
        sql = (
            f"INSERT INTO lto_events ({_NAMES}) VALUES {', '.join([_PG_VALUES] * len(rows))} "
            "ON CONFLICT DO NOTHING RETURNING id"
        )
        flat = [value for row in rows for value in row]
        return set(conn.exec_driver_sql(sql, tuple(flat)).scalars())
    inserted = conn.exec_driver_sql(SQLITE_INSERT, [tuple(row) for row in rows]).rowcount
    if inserted == len(rows):
        return set(ids)
    return set(conn.execute(select(events.c.id).where(events.c.id.in_(ids))).scalars())


BY_KEY = select(events).where(events.c.dedupe_key == bindparam("key"))


def returning_update(conn: Connection, where: Iterable[Any], **values: Any) -> list[Event]:
    rows = conn.execute(update(events).where(*where).values(**values).returning(*events.c))
    return [Event.from_row(row) for row in rows.mappings()]


class EventStore:
    def __init__(self, db: Database | str, commit_socket: str | None = None) -> None:
        """``commit_socket``: the host's commit process (``serve`` runs one); the hot writes
        (new events, settled inline sends) go there, everything else to this process's own
        group committer, which also takes over whenever the commit process is unreachable."""
        self.db = db if isinstance(db, Database) else Database(db)
        self.writer = GroupCommitter(self.db)
        self.remote: CommitClient | None = None
        if commit_socket:
            from .commit_client import CommitClient

            self.remote = CommitClient(commit_socket, self.writer)

    @property
    def url(self) -> str:
        return self.db.url

    def ensure_schema(self) -> None:
        from .migrate import ensure

        ensure(self.db)

    def ping(self) -> None:
        with self.db.read() as conn:
            conn.execute(select(1))

    # --- reads ------------------------------------------------------------------------------
    def get(self, event_id: str) -> Event | None:
        with self.db.read() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).mappings().first()
        return Event.from_row(row) if row else None

    def by_key(self, dedupe_key: str) -> Event | None:
        query = select(events).where(events.c.dedupe_key == dedupe_key)
        with self.db.read() as conn:
            row = conn.execute(query).mappings().first()
        return Event.from_row(row) if row else None

    def attempts_of(self, event_id: str) -> list[dict[str, Any]]:
        query = select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.id)
        with self.db.read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def recent(self, limit: int = 20, status: str | None = None) -> list[Event]:
        query = select(events).order_by(events.c.created_ms.desc(), events.c.id).limit(limit)
        if status:
            query = query.where(events.c.status == status)
        with self.db.read() as conn:
            return [Event.from_row(row) for row in conn.execute(query).mappings()]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    # --- writes -----------------------------------------------------------------------------
    def claim(self, values: dict[str, Any], window_ms: int | None = None) -> tuple[Event, bool]:
        """Insert a new event, or return the one already holding its dedupe key (created=False).

        With ``window_ms`` the key holds only that long: an older holder is retired (its key
        renamed) and the new event takes the key."""
        unit = Claim(encode_row(values), window_ms)
        holder = self.remote.claim(unit) if self.remote is not None else self.writer.submit(unit)
        if holder is None or holder["id"] == values["id"]:  # ours (a lost answer, retried)
            return Event.from_row(values | _EMPTY_RESULT), True
        return Event.from_row(holder), False

    def finish(
        self, event: Event, status: str, *, attempt: dict[str, Any] | None = None, **values: Any
    ) -> Event:
        """Settle an inline attempt's event (``sending``, no lease owner) with the attempt that
        settled it, in one commit; the settled event, as this process knows it."""
        from .queue import Settlement
        from .queue_ops import QueueOp

        settlement = Settlement(event.id, status, values, attempt)
        recorded = self.queue(QueueOp("record", {"settlements": [settlement], "now": now_ms()}))
        if event.id in recorded.settled:
            settled: dict[str, Any] = {name: values.get(name) for name in Settlement.SETTABLE}
            settled |= {"status": status, "lease_until_ms": None, "lease_owner": None,
                        "updated_ms": now_ms()}  # fmt: skip
            return Event.from_row(event_row(event) | settled)
        found = self.get(event.id)  # changed meanwhile (a sweeper took it as lost)
        assert found is not None
        return found

    def queue(self, op: QueueOp) -> Any:
        """A worker's write (``queue_ops.QueueOp``): by the host's commit process when there
        is one, else by this process's group committer."""
        if self.remote is not None:
            return self.remote.queue(op)
        return self.writer.submit(op.unit())

    def begin_attempt(self, event_id: str, lease_ms: int) -> Event | None:
        """A sync repeat of a failed call: move it back to ``sending``; None if another did."""
        stamp = now_ms()
        found = self.writer.submit(
            lambda conn: returning_update(
                conn,
                (events.c.id == event_id, events.c.status == "failed"),
                status="sending",
                attempts=events.c.attempts + 1,
                lease_until_ms=stamp + lease_ms,
                updated_ms=stamp,
            )
        )
        return found[0] if found else None

    def replay(self, event_id: str, now: int) -> Event | None:
        """A dead, uncertain or failed event back to the queue, keeping its id and history."""
        found = self.writer.submit(
            lambda conn: returning_update(
                conn,
                (events.c.id == event_id, events.c.status.in_(REPLAYABLE)),
                status="queued",
                mode="async",
                next_attempt_ms=now,
                lease_until_ms=None,
                lease_owner=None,
                updated_ms=now,
                **NO_ERROR,
            )
        )
        return found[0] if found else None

    def dispose(self) -> None:
        self.writer.close()
        self.db.dispose()


@dataclass(frozen=True, slots=True)
class Claim(BatchUnit):
    """One new message's row. A group's claims go in with one statement; each result is None
    (inserted) or the row already holding the dedupe key."""

    row: list[Any]  # encode_row(values)
    window_ms: int | None

    @property
    def id(self) -> str:
        return str(self.row[0])

    @property
    def dedupe_key(self) -> str:
        return str(self.row[KEY])

    @classmethod
    def run_batch(cls, conn: Connection, units: Sequence[Any]) -> list[dict[str, Any] | None]:
        claims: Sequence[Claim] = units
        first: dict[str, Claim] = {}  # a key given twice in one group: the first one inserts
        for claim in claims:
            first.setdefault(claim.dedupe_key, claim)
        ours = insert_rows(conn, [claim.row for claim in first.values()])
        return [
            None if claim.id in ours else claim_unit(conn, claim.row, claim.window_ms)
            for claim in claims
        ]


KEY = EVENT_COLUMNS.index("dedupe_key")
CREATED = EVENT_COLUMNS.index("created_ms")


def claim_unit(conn: Connection, row: list[Any], window_ms: int | None) -> dict[str, Any] | None:
    """One row whose key was held: the holder's row, or None once a holder past its window
    was retired and this row went in."""
    key = row[KEY]
    for _ in range(3):
        holder = conn.execute(BY_KEY, {"key": key}).mappings().first()
        if holder is None:  # the holder was retired meanwhile: insert again
            if insert_rows(conn, [row]):
                return None
            continue
        if window_ms is not None and holder["created_ms"] < row[CREATED] - window_ms:
            conn.execute(
                update(events)
                .where(events.c.id == holder["id"], events.c.dedupe_key == key)
                .values(dedupe_key=f"{key}#retired:{holder['id']}")
            )
            if insert_rows(conn, [row]):
                return None
            continue
        return dict(holder)
    raise RuntimeError(f"could not claim dedupe key: {str(key)[:40]}")


_EMPTY_RESULT = {
    "message_id": None,
    "upstream_status": None,
    "lease_owner": None,
    "delivery_status": None,
    **NO_ERROR,
}
