"""The delivery worker: the event table as the queue, worked in batches at each account's rate.

One dispatcher thread claims each account's due events in batches (as many as the account's
rate allows in the next ``lookahead_s``), books that many send slots from the shared rate limiter
in one round trip, and, as each slot comes due, marks the events about to leave ``sending`` (one
statement per tick) and hands them to the sender threads. Senders make the requests (many in
flight: the work is waiting on the network) and pass outcomes to one finisher, which records them
in batches (attempts, new states, pauses, retries: one commit). All writes of the process go
through its group committer. A worker with nothing to do polls the table every ``idle_poll_s``.

SIGTERM (``stop``): no more claims; claimed events not yet marked go back to the queue; those
marked are sent and recorded; then the worker exits. A SIGKILL loses nothing either: the sweeper
of any worker returns leased events to the queue and lists sending ones as uncertain.

``deliver(event_id)`` and ``deliver_due()`` do the same steps inline, one event at a time (tests,
tools).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.engine import Connection

from ..kaleyra.client import Sender
from ..logs import log
from ..ratelimit import RateLimiter
from ..store import Event, EventStore
from ..store.queue import (
    Claimed,
    Recorded,
    Released,
    Settlement,
    claim_due,
    mark_sending,
    record,
    release,
)
from .attempt import Outcome, send_logged
from .settle import Settler

logger = logging.getLogger("connector.delivery")


@dataclass(frozen=True)
class WorkerConfig:
    threads: int = 64  # requests in flight at most
    send_lease_ms: int = 41_000  # how long a sending event may take before it counts as lost
    claim_lease_ms: int = 30_000  # how long a claimed event may wait for its slot
    tick_s: float = 0.02  # due slots are released (marked sending) this often
    lookahead_s: float = 0.25  # how far ahead an account's slots are booked
    idle_poll_s: float = 0.05  # how often an idle worker looks at the queue
    batch_max: int = 500  # events claimed per account per round, at most


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Deliverer:
    store: EventStore
    senders: Mapping[str, Sender]  # one per account
    limiter: RateLimiter
    settler: Settler
    config: WorkerConfig = WorkerConfig()
    clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000
    owner: str = field(default_factory=worker_id)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._scheduled: list[tuple[float, int, Event]] = []  # (slot, seq, event): claimed
        self._seq = itertools.count()
        self._send: queue.Queue[tuple[float, Event] | None] = queue.Queue()
        self._outcomes: queue.Queue[tuple[Event, Outcome, dict[str, object]] | None] = queue.Queue()
        self._in_hand = 0  # claimed and not yet recorded
        # marked sending and not yet recorded: never more than there are senders, so a worker
        # killed at any moment leaves at most ``threads`` events uncertain
        self._sending = 0
        self._in_hand_lock = threading.Lock()
        self._booked: dict[str, float] = {}  # account → its last booked slot (monotonic)
        self.sent = 0

    # --- inline ---------------------------------------------------------------------------------
    def deliver(self, event_id: str) -> Event | None:
        """One attempt at one due event, inline; None when it is not ours to send (not due,
        taken, expired, or its account paused: it waits until ``accounts resume``)."""
        now = self.clock()
        event = self.store.get(event_id)
        if event is None or event.account not in self.senders:
            return None
        claim = partial(self._claim_due, account=event.account, now=now, limit=1, ids=[event_id])
        claimed = self.store.writer.submit(claim)
        if not claimed.to_send:
            return claimed.expired[0] if claimed.expired else None
        return self._send_inline(claimed.to_send[0])

    def deliver_due(self, limit: int = 500) -> int:
        """Every due event of every account, inline, one at a time; how many were sent."""
        sent = 0
        now = self.clock()
        for account in self.senders:
            claim = partial(self._claim_due, account=account, now=now, limit=limit)
            for event in self.store.writer.submit(claim).to_send:
                sent += self._send_inline(event) is not None
        return sent

    def _claim_due(
        self, conn: Connection, *, account: str, now: int, limit: int, ids: Sequence[str] = ()
    ) -> Claimed:
        return claim_due(
            conn,
            account=account,
            now=now,
            limit=limit,
            ids=ids,
            lease_ms=self.config.claim_lease_ms,
            owner=self.owner,
            expiry_margin_ms=self.settler.expiry_margin_ms,
        )

    def _mark_sending(self, conn: Connection, ids: Sequence[str]) -> Released:
        return mark_sending(
            conn, ids, owner=self.owner, now=self.clock(), lease_ms=self.config.send_lease_ms
        )

    def _send_inline(self, event: Event) -> Event | None:
        self.limiter.acquire(event.account)
        released = self.store.writer.submit(partial(self._mark_sending, ids=[event.id]))
        if event.id not in released.sending:
            return None
        outcome, row = send_logged(self.senders[event.account], event)
        settlement = self.settler(event, outcome, row, self.clock(), self.owner)
        if not self._record([settlement]).settled:
            return None
        return self.store.get(event.id)

    # --- the running worker ---------------------------------------------------------------------
    def run(self) -> None:
        """Deliver until ``stop()``; then hand back what was not sent and return."""
        senders = [
            threading.Thread(target=self._send_loop, name=f"lto-send-{i}", daemon=True)
            for i in range(self.config.threads)
        ]
        finisher = threading.Thread(target=self._finish_loop, name="lto-finish", daemon=True)
        for thread in (*senders, finisher):
            thread.start()
        try:
            self._dispatch_loop()
        finally:
            self._hand_back()
            for _ in senders:
                self._send.put(None)
            for thread in senders:
                thread.join()
            self._outcomes.put(None)
            finisher.join()

    def stop(self) -> None:
        self._stop.set()

    @property
    def capacity(self) -> int:
        """Events this worker may still claim: twice its senders, in flight and waiting."""
        return max(0, 2 * self.config.threads - self._in_hand)

    def _dispatch_loop(self) -> None:
        next_claim = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            self._release_due(now)
            if now >= next_claim and self.capacity:
                claimed = self._claim(now)
                next_claim = now + (self.config.tick_s if claimed else self.config.idle_poll_s)
            wake = next_claim if self.capacity else now + self.config.tick_s
            if self._scheduled and self._sending < self.config.threads:
                wake = min(wake, self._scheduled[0][0] - self.config.tick_s)
            self._stop.wait(min(max(wake - time.monotonic(), 0.002), self.config.idle_poll_s))

    def _claim(self, now_mono: float) -> int:
        """Claim, for each account, what its rate allows before ``now + lookahead``."""
        wants: dict[str, int] = {}
        budget = self.capacity
        for account in self.senders:
            rate = self.limiter.rate(account)
            if rate:
                horizon = now_mono + self.config.lookahead_s
                free_s = horizon - max(self._booked.get(account, 0.0), now_mono)
                want = math.ceil(free_s * rate) if free_s > 0 else 0
            else:
                want = budget
            want = min(want, budget, self.config.batch_max)
            if want > 0:
                wants[account] = want
        if not wants:
            return 0
        now = self.clock()

        def unit(conn: Connection) -> dict[str, Claimed]:
            return {
                account: claim_due(
                    conn,
                    account=account,
                    now=now,
                    limit=want,
                    lease_ms=self.config.claim_lease_ms,
                    owner=self.owner,
                    expiry_margin_ms=self.settler.expiry_margin_ms,
                )
                for account, want in wants.items()
            }

        total = 0
        for account, claimed in self.store.writer.submit(unit).items():
            for event in claimed.expired:
                log(
                    logger,
                    "expired before sending",
                    logging.WARNING,
                    event_id=event.id,
                    account=account,
                )
            events = claimed.to_send
            if not events:
                continue
            slots = self.limiter.reserve(account, len(events))
            if self.limiter.rate(account):
                self._booked[account] = slots[-1]
            with self._in_hand_lock:
                self._in_hand += len(events)
            for slot, event in zip(slots, events, strict=True):
                heapq.heappush(self._scheduled, (slot, next(self._seq), event))
            total += len(events)
        return total

    def _release_due(self, now_mono: float) -> None:
        """Mark ``sending`` the events whose slot comes within the next tick, as many as there
        are idle senders (a crash then leaves at most the requests in flight uncertain), and
        hand them over."""
        due: list[tuple[float, int, Event]] = []
        idle = self.config.threads - self._sending
        while (
            idle > len(due)
            and self._scheduled
            and self._scheduled[0][0] <= now_mono + self.config.tick_s
        ):
            due.append(heapq.heappop(self._scheduled))
        if not due:
            return
        ids = [event.id for _, _, event in due]
        released = self.store.writer.submit(partial(self._mark_sending, ids=ids))
        dropped = 0
        for slot, _, event in due:
            if event.id in released.sending:
                with self._in_hand_lock:
                    self._sending += 1
                self._send.put((slot, event))
            else:  # its account was paused meanwhile (back in the queue), or the lease was lost
                dropped += 1
        if dropped:
            with self._in_hand_lock:
                self._in_hand -= dropped

    def _send_loop(self) -> None:
        while (item := self._send.get()) is not None:
            slot, event = item
            self._wait_for(slot, event.account)
            outcome, row = send_logged(self.senders[event.account], event)
            self._outcomes.put((event, outcome, row))

    def _wait_for(self, slot: float, account: str) -> None:
        """Sleep until the slot. A sender that finds its slot long gone (a stalled host) books a
        fresh one rather than send late beside the slots after it: Kaleyra counts arrivals."""
        for _ in range(RateLimiter.RETAKES):
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
                return
            if -delay <= RateLimiter.LATE_S or not self.limiter.rate(account):
                return
            slot = self.limiter.reserve(account, 1)[0]

    def _finish_loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._outcomes.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.config.batch_max:
                try:
                    item = self._outcomes.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            now = self.clock()
            settlements = [self.settler(e, o, row, now, self.owner) for e, o, row in batch]
            try:
                self._record(settlements)
            except Exception:  # the store is down: the sweeper will list these as uncertain
                logger.exception("could not record %d outcomes", len(batch))
            with self._in_hand_lock:  # recorded: no longer at risk of being left uncertain
                self._in_hand -= len(batch)
                self._sending -= len(batch)

    def _record(self, settlements: list[Settlement]) -> Recorded:
        recorded = self.store.writer.submit(lambda conn: record(conn, settlements))
        self.sent += len(settlements)
        reasons = dict(s.pause for s in settlements if s.pause is not None)
        for account in recorded.paused:
            log(logger, "account paused", logging.ERROR, account=account, reason=reasons[account])
        if recorded.stale:
            log(
                logger,
                "outcome for a lease already taken back",
                logging.WARNING,
                event_ids=recorded.stale[:20],
            )
        return recorded

    def _hand_back(self) -> None:
        """Stopping: claimed events that were not marked sending go back to the queue."""
        ids = [event.id for _, _, event in self._scheduled]
        self._scheduled.clear()
        if ids:
            self.store.writer.submit(
                lambda conn: release(conn, ids, owner=self.owner, now=self.clock())
            )
            with self._in_hand_lock:
                self._in_hand -= len(ids)
