"""The delivery worker: the event table as the queue, worked in batches at each account's rate.

One dispatcher thread claims each account's due events in batches (as many as the account's
rate allows in the next ``lookahead_s``) and keeps them in order. Whenever senders are idle it
marks the next ones ``sending`` (one statement for the group: from then on a lost worker means
``uncertain``, and never more events are ``sending`` than there are senders) and hands them over.
Each sender takes the account's next send slot from the ``Pacer`` (slots are booked from the
shared rate limiter in blocks, one round trip per block), sleeps until it, makes the request
(many in flight: the work is waiting on the network), and passes the outcome to one finisher,
which records outcomes in batches (attempts, new states, pauses, retries: one commit). All
writes of the process go through its group committer. An idle worker polls the table every
``idle_poll_s``.

SIGTERM (``stop``): no more claims; claimed events not yet marked go back to the queue; those
marked are sent and recorded; then the worker exits. A SIGKILL loses nothing either: the sweeper
of any worker returns leased events to the queue and lists sending ones as uncertain.

``deliver(event_id)`` and ``deliver_due()`` do the same steps inline, one event at a time (tests,
tools).
"""

from __future__ import annotations

import logging
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..kaleyra.client import Sender
from ..logs import log
from ..ratelimit import Pacer, RateLimiter
from ..store import Event, EventStore
from ..store.queue import Claimed, Recorded, Released, Settlement
from ..store.queue_ops import QueueOp
from .attempt import Outcome, send_logged
from .settle import Settler

logger = logging.getLogger("connector.delivery")


@dataclass(frozen=True)
class WorkerConfig:
    # requests in flight at most, counted from `sending` until the outcome is recorded; a rate
    # needs rate x (the wait for its slot + Kaleyra's answer + the record) of them: 96 held a
    # 1,000/s account to 850-960/s against a Kaleyra answering in 50 ms (benchmarks/campaign.py)
    threads: int = 192
    send_lease_ms: int = 41_000  # how long a sending event may take before it counts as lost
    claim_lease_ms: int = 30_000  # how long a claimed event may wait for its turn
    tick_s: float = 0.01  # how often the dispatcher hands events to idle senders
    lookahead_s: float = 0.25  # how far ahead of its rate an account's events are claimed
    block_s: float = 0.1  # how much of an account's pace a worker books in one round trip
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
        self._claimed: dict[str, deque[Event]] = {}  # per account, in order: leased, not sent
        self._send: queue.Queue[Event | None] = queue.Queue()
        self._outcomes: queue.Queue[tuple[Event, Outcome, dict[str, object]] | None] = queue.Queue()
        self._pacer = Pacer(self.limiter, self.config.block_s)
        # marked sending and not yet recorded: never more than there are senders, so a worker
        # killed at any moment leaves at most ``threads`` events uncertain
        self._sending = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()  # a sender's event was recorded: the dispatcher may go on

    # --- inline ---------------------------------------------------------------------------------
    def deliver(self, event_id: str) -> Event | None:
        """One attempt at one due event, inline; None when it is not ours to send (not due,
        taken, expired, or its account paused: it waits until ``accounts resume``)."""
        now = self.clock()
        event = self.store.get(event_id)
        if event is None or event.account not in self.senders:
            return None
        claimed = self._claim({event.account: 1}, now, ids=[event_id])[event.account]
        if not claimed.to_send:
            return claimed.expired[0] if claimed.expired else None
        return self._send_inline(claimed.to_send[0])

    def deliver_due(self, limit: int = 500) -> int:
        """Every due event of every account, inline, one at a time; how many were sent."""
        sent = 0
        now = self.clock()
        for claimed in self._claim(dict.fromkeys(self.senders, limit), now).values():
            for event in claimed.to_send:
                sent += self._send_inline(event) is not None
        return sent

    def _claim(
        self, wants: dict[str, int], now: int, ids: list[str] | None = None
    ) -> dict[str, Claimed]:
        args = {"wants": wants, "now": now, "lease_ms": self.config.claim_lease_ms,
                "owner": self.owner, "expiry_margin_ms": self.settler.expiry_margin_ms}  # fmt: skip
        if ids is not None:
            args["ids"] = ids
        claimed: dict[str, Claimed] = self.store.queue(QueueOp("claim_accounts", args))
        return claimed

    def _mark_sending(self, ids: list[str]) -> Released:
        args = {"ids": ids, "owner": self.owner, "now": self.clock(),
                "lease_ms": self.config.send_lease_ms}  # fmt: skip
        released: Released = self.store.queue(QueueOp("mark_sending", args))
        return released

    def _send_inline(self, event: Event) -> Event | None:
        released = self._mark_sending([event.id])
        if event.id not in released.sending:
            return None
        self._pacer.wait(event.account)
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
        self._idle.set()

    def _dispatch_loop(self) -> None:
        next_claim = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_claim:
                claimed = self._claim_more()
                next_claim = now + (self.config.tick_s if claimed else self.config.idle_poll_s)
            self._release()
            self._idle.clear()
            wait = self.config.tick_s if self._waiting() else next_claim - time.monotonic()
            self._idle.wait(min(max(wait, 0.001), self.config.idle_poll_s))

    def _waiting(self) -> int:
        return sum(len(events) for events in self._claimed.values())

    def _claim_more(self) -> int:
        """Claim, for each account, what its rate allows in the next ``lookahead_s`` once less
        than half of that is left in hand (as much as the senders can take, with no limit)."""
        wants: dict[str, int] = {}
        for account in self.senders:
            held = len(self._claimed.get(account, ()))
            rate = self.limiter.rate(account)
            limit = math.ceil(rate * self.config.lookahead_s) if rate else 2 * self.config.threads
            if held <= limit // 2:
                wants[account] = min(limit - held, self.config.batch_max)
        if not wants:
            return 0
        total = 0
        for account, claimed in self._claim(wants, self.clock()).items():
            for event in claimed.expired:
                log(logger, "expired before sending", logging.WARNING, event_id=event.id,
                    account=account)  # fmt: skip
            self._claimed.setdefault(account, deque()).extend(claimed.to_send)
            total += len(claimed.to_send)
        return total

    def _release(self) -> None:
        """Mark ``sending`` as many claimed events as there are idle senders, taking the
        accounts in turn, and hand them over."""
        idle = self.config.threads - self._sending
        due: list[Event] = []
        while idle > len(due):
            before = len(due)
            for events in self._claimed.values():
                if events and idle > len(due):
                    due.append(events.popleft())
            if len(due) == before:
                break
        if not due:
            return
        released = self._mark_sending([e.id for e in due])
        for event in due:
            if event.id in released.sending:
                with self._lock:
                    self._sending += 1
                self._send.put(event)
            # else: its account was paused meanwhile (back in the queue), or its lease was lost

    def _send_loop(self) -> None:
        while (event := self._send.get()) is not None:
            self._pacer.wait(event.account)
            outcome, row = send_logged(self.senders[event.account], event)
            self._outcomes.put((event, outcome, row))

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
            with self._lock:  # recorded: no longer at risk of being left uncertain
                self._sending -= len(batch)
            self._idle.set()

    def _record(self, settlements: list[Settlement]) -> Recorded:
        recorded: Recorded = self.store.queue(
            QueueOp("record", {"settlements": settlements, "now": self.clock()})
        )
        reasons = dict(s.pause for s in settlements if s.pause is not None)
        for account in recorded.paused:
            log(logger, "account paused", logging.ERROR, account=account, reason=reasons[account])
        if recorded.stale:
            log(logger, "outcome for a lease already taken back", logging.WARNING,
                event_ids=recorded.stale[:20])  # fmt: skip
        return recorded

    def _hand_back(self) -> None:
        """Stopping: claimed events that were not marked sending go back to the queue."""
        ids = [event.id for events in self._claimed.values() for event in events]
        self._claimed.clear()
        if ids:
            args = {"ids": ids, "owner": self.owner, "now": self.clock()}
            self.store.queue(QueueOp("release", args))
