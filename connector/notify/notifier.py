"""The notifier, in every worker: the outbox delivered to the platforms.

Each round it (1) applies early reports whose message has appeared, once a second; (2) fans the
statuses that moved a message on into outbox rows, one per interested target (the targets know
the connections; the rows are written in one transaction with the statuses marked fanned out);
(3) leases due rows, up to what its senders can hold, and hands them to a thread pool (the work
waits on the network); (4) records the outcomes of finished sends in one transaction: done,
gone, failed for good, or retried with backoff (1 s doubling to 5 minutes, within the retry
horizon). Intake and Kaleyra sends never wait for it: it has its own threads and pool, and a
platform that is down only delays its own rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import urllib3
from sqlalchemy import select

from ..connections import Connection
from ..logs import log
from ..store import Event, EventStore
from ..store.events import now_ms
from ..store.outbox import backoff_s, targets_taken, unfanned
from ..store.queue_ops import QueueOp
from ..store.schema import events, zapier_hooks
from .base import FanOut, Notice, Outcome, Target

logger = logging.getLogger("connector.notify")


@dataclass
class NotifierConfig:
    threads: int = 64  # notifications in flight at most
    batch: int = 500  # statuses fanned out per round, at most
    lease_ms: int = 120_000  # a claimed row comes due again after this if its worker vanished
    horizon_s: int = 86_400  # a row still failing after this long is given up
    idle_s: float = 0.05
    early_every_s: float = 1.0


@dataclass
class Notifier:
    store: EventStore
    connections: Mapping[str, Connection]  # by account name
    targets: Sequence[Target]
    config: NotifierConfig = field(default_factory=NotifierConfig)
    clock: Callable[[], int] = now_ms
    _stop: threading.Event = field(default_factory=threading.Event)
    _done: list[tuple[dict[str, Any], Outcome]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: int = 0

    def __post_init__(self) -> None:
        self.by_name = {t.name: t for t in self.targets}
        self.http = urllib3.PoolManager(num_pools=64, maxsize=self.config.threads, block=False)
        self.pool = ThreadPoolExecutor(self.config.threads, thread_name_prefix="lto-notify")
        self._next_early = 0.0

    # --- one round ------------------------------------------------------------------------------
    def round(self) -> int:
        """One pass of every step; how much it did (0: idle)."""
        work = 0
        if time.monotonic() >= self._next_early:
            self._next_early = time.monotonic() + self.config.early_every_s
            work += self.store.queue(QueueOp("match_early", {"now": self.clock()}))
        work += self.fan_out()
        work += self.record_finished()
        work += self.claim_and_send()
        return work

    def fan_out(self) -> int:
        with self.store.db.read() as conn:
            rows = unfanned(conn, self.config.batch)
            if not rows:
                return 0
            context = FanOut(zapier_hooks=_hooks_by_account(conn))
            taken = targets_taken(conn, list({r["id"] for r in rows}))
        once = {t.name for t in self.targets if getattr(t, "once_per_message", False)}
        notices: list[dict[str, Any]] = []
        for row in rows:
            event = Event.from_row(row)
            connection = self.connections.get(event.account)
            if connection is None:
                continue  # a removed connection: nobody to tell
            for target in self.targets:
                for name in target.targets_for(event, connection, row["status"], context):
                    if name in once:
                        if (event.id, name) in taken:
                            continue
                        taken.add((event.id, name))
                    notices.append({"event_id": event.id, "target": name, "status": row["status"]})
        self.store.queue(
            QueueOp(
                "fan_out",
                {
                    "status_ids": [r["status_id"] for r in rows],
                    "rows": notices,
                    "now": self.clock(),
                },
            )  # fmt: skip
        )
        return len(rows)

    def claim_and_send(self) -> int:
        room = self.config.threads * 4 - self._in_flight
        if room <= 0:
            return 0
        claimed: list[dict[str, Any]] = self.store.queue(
            QueueOp(
                "claim_notifications",
                {"now": self.clock(), "limit": room, "lease_ms": self.config.lease_ms},
            )
        )
        if not claimed:
            return 0
        found = self._events({row["event_id"] for row in claimed})
        for row in claimed:
            event = found.get(row["event_id"])
            connection = self.connections.get(event.account) if event is not None else None
            target = self.by_name.get(row["target"].split(":", 1)[0])
            if event is None or connection is None or target is None:
                self._finished(row, Outcome("failed", "no such message, connection or target"))
                continue
            notice = Notice(
                id=row["id"], target=row["target"], status=row["status"], at_ms=row["at_ms"],
                error_code=row["error_code"], error_reason=row["error_reason"], event=event,
                connection=connection, attempt=row["attempts"],
            )  # fmt: skip
            with self._lock:
                self._in_flight += 1
            future = self.pool.submit(target.send, notice, self.http)
            future.add_done_callback(partial(self._sent, row))
        return len(claimed)

    def record_finished(self) -> int:
        with self._lock:
            finished, self._done = self._done, []
        if not finished:
            return 0
        now = self.clock()
        outcomes = []
        for row, outcome in finished:
            state, error = outcome.state, outcome.error
            next_ms = None
            if state == "retry":
                if now - row["created_ms"] > self.config.horizon_s * 1000:
                    state, error = "failed", f"gave up after {row['attempts']} tries: {error}"
                else:
                    wait = outcome.retry_after_s or backoff_s(row["attempts"])
                    next_ms = now + int(wait * 1000)
            outcomes.append({"id": row["id"], "lease_until_ms": row["lease_until_ms"],
                             "state": state, "error": error, "next_ms": next_ms})  # fmt: skip
            if state != "done":
                log(logger, "notification not delivered", logging.WARNING, target=row["target"],
                    event_id=row["event_id"], status=row["status"], outcome=state,
                    attempt=row["attempts"], error=error)  # fmt: skip
        self.store.queue(QueueOp("record_notifications", {"outcomes": outcomes, "now": now}))
        return len(outcomes)

    # --- running --------------------------------------------------------------------------------
    def run(self) -> None:
        while not self._stop.is_set():
            try:
                work = self.round()
            except Exception:  # a database hiccup must not end the notifier
                logger.exception("notifier round failed")
                work = 0
            if not work:
                self._stop.wait(self.config.idle_s)
        self.pool.shutdown(wait=True)
        self.record_finished()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="lto-notifier", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def drain(self, timeout_s: float = 10.0) -> None:
        """Rounds until nothing is left to do now (tests and tools)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            work = self.round()
            with self._lock:
                idle = not work and self._in_flight == 0 and not self._done
            if idle:
                return
            time.sleep(0.01)

    # --- helpers --------------------------------------------------------------------------------
    def _sent(self, row: dict[str, Any], future: Future[Outcome]) -> None:
        exc = future.exception()
        outcome = future.result() if exc is None else Outcome("retry", f"{type(exc).__name__}")
        if exc is not None:
            logger.error("notification target raised", exc_info=exc)
        self._finished(row, outcome)
        with self._lock:
            self._in_flight -= 1

    def _finished(self, row: dict[str, Any], outcome: Outcome) -> None:
        with self._lock:
            self._done.append((row, outcome))

    def _events(self, ids: set[str]) -> dict[str, Event]:
        with self.store.db.read() as conn:
            rows = conn.execute(select(events).where(events.c.id.in_(ids))).mappings()
            return {row["id"]: Event.from_row(row) for row in rows}


def _hooks_by_account(conn: Any) -> dict[str, list[str]]:
    hooks: dict[str, list[str]] = {}
    for row in conn.execute(select(zapier_hooks.c.account, zapier_hooks.c.id)):
        hooks.setdefault(row.account, []).append(row.id)
    return hooks


def build_notifier(runtime: Any) -> Notifier:
    """The notifier of a worker (``runtime``: ``platforms.Runtime``)."""
    from .targets import build_targets

    settings = runtime.settings
    return Notifier(
        runtime.store,
        {c.account.name: c for c in runtime.connections},
        build_targets(runtime.store, settings),
        NotifierConfig(horizon_s=settings.retry_horizon_s),
        runtime.clock,
    )
