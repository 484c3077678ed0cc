"""Reads and writes of the event table. Every method is one short transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, event, exists, func, insert, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError, OperationalError

from .schema import accounts, attempts, events, metadata

# sync:  sending → accepted | failed | uncertain        (failed → sending again on a repeat call)
# async: queued → leased → sending → accepted | queued (retry) | dead | uncertain
IN_FLIGHT = ("leased", "sending")
# the error columns of an event that has none (new, accepted, or replayed)
NO_ERROR: dict[str, Any] = {
    "error_kind": None,
    "error_code": None,
    "error_message": None,
    "retry_after": None,
}
SETTLED = ("accepted", "failed", "dead", "uncertain")


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
    enqueued_ms: int | None
    created_ms: int
    updated_ms: int

    @classmethod
    def from_row(cls, row: RowMapping) -> Event:
        return cls(**{key: row[key] for key in cls.__slots__})


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class EventStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create_schema(self) -> None:
        try:
            metadata.create_all(self.engine)
        except (OperationalError, IntegrityError):
            # another process created it between the check and the CREATE
            metadata.create_all(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def get(self, event_id: str) -> Event | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).mappings().first()
        return Event.from_row(row) if row else None

    def by_key(self, dedupe_key: str) -> Event | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(events).where(events.c.dedupe_key == dedupe_key))
                .mappings()
                .first()
            )
        return Event.from_row(row) if row else None

    def claim(
        self,
        *,
        dedupe_key: str,
        platform: str,
        wa_source: str,
        fingerprint: str,
        offer: dict[str, Any],
        payload: dict[str, Any],
        sandbox: bool,
        window_ms: int | None = None,
        send_now: bool = False,
        account: str = "default",
        lease_ms: int = 60_000,
    ) -> tuple[Event, bool]:
        """Insert a queued event, or return the one already holding ``dedupe_key``.

        With ``send_now`` (sync callers) the new event is inserted already claimed for its first
        attempt (``sending``, leased for ``lease_ms``), saving the inline caller a second write;
        otherwise it is queued for the workers, due now.

        With ``window_ms`` the key only holds for that long: an older holder is retired (its key
        renamed) and a new event takes the key.
        """
        for _ in range(3):
            stamp = now_ms()
            values = {
                "id": new_event_id(),
                "platform": platform,
                "wa_source": wa_source,
                "account": account,
                "mode": "sync" if send_now else "async",
                "dedupe_key": dedupe_key,
                "fingerprint": fingerprint,
                "offer": offer,
                "payload": payload,
                "status": "sending" if send_now else "queued",
                "attempts": 1 if send_now else 0,
                "sandbox": sandbox,
                "next_attempt_ms": None if send_now else stamp,
                "lease_until_ms": stamp + lease_ms if send_now else None,
                "enqueued_ms": None if send_now else stamp,  # the caller nudges the queue now
                "created_ms": stamp,
                "updated_ms": stamp,
                "recipient_last4": str(offer.get("to") or "")[-4:] or None,
                "expires_ms": offer.get("expiration_ms"),
            }
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(events).values(**values))
            except IntegrityError:
                existing = self.by_key(dedupe_key)
                if existing is None:
                    continue  # retired between our insert and our read: try again
                if window_ms is not None and existing.created_ms < stamp - window_ms:
                    self._retire(existing)
                    continue
                return existing, False
            return Event.from_row(values | _EMPTY_RESULT), True  # type: ignore[arg-type]
        raise RuntimeError(f"could not claim dedupe key after retries: {dedupe_key[:40]}")

    def _retire(self, old: Event) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(events)
                .where(events.c.id == old.id, events.c.dedupe_key == old.dedupe_key)
                .values(dedupe_key=f"{old.dedupe_key}#retired:{old.id}")
            )

    def begin_attempt(
        self, event_id: str, from_statuses: Iterable[str] = ("failed",), lease_ms: int = 60_000
    ) -> Event | None:
        """Atomically move a sync event to ``sending``; None if someone else already did."""
        stamp = now_ms()
        return self._update_returning(
            (events.c.id == event_id, events.c.status.in_(tuple(from_statuses))),
            status="sending",
            attempts=events.c.attempts + 1,
            lease_until_ms=stamp + lease_ms,
            updated_ms=stamp,
        )

    def lease(self, event_id: str, now: int, lease_ms: int) -> Event | None:
        """Take a due queued event for one attempt; None if it is not due, not queued, or its
        account is paused (checked in the same statement, so no send slips past a pause)."""
        paused = exists().where(accounts.c.name == events.c.account, accounts.c.paused.is_(True))
        return self._update_returning(
            (
                events.c.id == event_id,
                events.c.status == "queued",
                events.c.next_attempt_ms <= now,
                ~paused,
            ),
            status="leased",
            attempts=events.c.attempts + 1,
            lease_until_ms=now + lease_ms,
            updated_ms=now,
        )

    def mark_sending(self, event_id: str) -> bool:
        """The request is about to leave: from now on a lost worker means ``uncertain``."""
        found = self._update_returning(
            (events.c.id == event_id, events.c.status == "leased"),
            status="sending",
            updated_ms=now_ms(),
        )
        return found is not None

    def requeue(
        self, event_id: str, at_ms: int, *, count_attempt: bool = True, **values: Any
    ) -> Event:
        """Back to the queue, due at ``at_ms`` (a retry, or a wait for a paused account)."""
        if not count_attempt:
            values["attempts"] = events.c.attempts - 1
        values.setdefault("enqueued_ms", None)
        found = self._update_returning(
            (events.c.id == event_id,),
            status="queued",
            next_attempt_ms=at_ms,
            lease_until_ms=None,
            updated_ms=now_ms(),
            **values,
        )
        assert found is not None
        return found

    def replay(self, event_id: str, now: int) -> Event | None:
        """A dead, uncertain or failed event back to the queue, keeping its id and history."""
        return self._update_returning(
            (events.c.id == event_id, events.c.status.in_(("dead", "uncertain", "failed"))),
            status="queued",
            mode="async",
            next_attempt_ms=now,
            lease_until_ms=None,
            enqueued_ms=None,
            updated_ms=now,
            **NO_ERROR,
        )

    def _update_returning(
        self, where: tuple[Any, ...], attempt: dict[str, Any] | None = None, **values: Any
    ) -> Event | None:
        """One UPDATE … RETURNING; with ``attempt``, that attempt is recorded in the same commit."""
        with self.engine.begin() as conn:
            if attempt is not None:
                conn.execute(insert(attempts).values(**attempt))
            row = (
                conn.execute(update(events).where(*where).values(**values).returning(*events.c))
                .mappings()
                .first()
            )
        return Event.from_row(row) if row else None

    def finish(self, event_id: str, status: str, **values: Any) -> Event:
        found = self._update_returning(
            (events.c.id == event_id,),
            status=status,
            lease_until_ms=None,
            next_attempt_ms=None,
            updated_ms=now_ms(),
            **values,
        )
        assert found is not None
        return found

    def attempts_of(self, event_id: str) -> list[dict[str, Any]]:
        query = select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # --- what the sweeper and the metrics read ----------------------------------------------
    def due(
        self, now: int, *, stale_ms: int, skip_accounts: Iterable[str] = (), limit: int = 500
    ) -> list[str]:
        """Queued events due now whose queue task is missing or older than ``stale_ms``."""
        query = (
            select(events.c.id)
            .where(
                events.c.status == "queued",
                events.c.next_attempt_ms <= now,
                (events.c.enqueued_ms.is_(None)) | (events.c.enqueued_ms < now - stale_ms),
            )
            .order_by(events.c.next_attempt_ms)
            .limit(limit)
        )
        skipped = tuple(skip_accounts)
        if skipped:
            query = query.where(events.c.account.not_in(skipped))
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    def mark_enqueued(self, event_ids: list[str], at_ms: int) -> None:
        if not event_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(events).where(events.c.id.in_(event_ids)).values(enqueued_ms=at_ms))

    def expire_leases(self, now: int, *, retry_uncertain: bool) -> tuple[int, int]:
        """Resolve leases whose holder vanished: (requeued, made uncertain).

        A ``leased`` event never left: it goes back to the queue. A ``sending`` one may have
        reached Kaleyra: it becomes ``uncertain`` (or is queued again with ``retry_uncertain``).
        """
        expired = (events.c.lease_until_ms < now,)
        with self.engine.begin() as conn:
            requeued = conn.execute(
                update(events)
                .where(events.c.status == "leased", *expired)
                .values(
                    status="queued",
                    next_attempt_ms=now,
                    lease_until_ms=None,
                    enqueued_ms=None,
                    attempts=events.c.attempts - 1,
                    updated_ms=now,
                )
            ).rowcount
            lost = (
                {"status": "queued", "next_attempt_ms": now, "enqueued_ms": None}
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
                .values(lease_until_ms=None, updated_ms=now, **lost)
            ).rowcount
        return requeued, uncertain

    def recent(self, limit: int = 20, status: str | None = None) -> list[Event]:
        query = select(events).order_by(events.c.created_ms.desc(), events.c.id).limit(limit)
        if status:
            query = query.where(events.c.status == status)
        with self.engine.connect() as conn:
            return [Event.from_row(row) for row in conn.execute(query).mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    def dispose(self) -> None:
        self.engine.dispose()


_EMPTY_RESULT = {"message_id": None, "upstream_status": None, **NO_ERROR}
