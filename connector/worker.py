"""``lto-connector worker``: huey consumers that deliver queued events, plus the sweeper.

The sweeper runs every second: it resolves leases whose holder vanished (a ``leased`` event goes
back to the queue; a ``sending`` one becomes ``uncertain``) and nudges due events whose queue task
is missing (lost with a killed worker, or scheduled before a restart). Run as many workers on as
many hosts as you like: leases make every event go to exactly one of them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from .delivery import Deliverer
from .logs import log
from .queue import DeliveryQueue
from .store import EventStore
from .store.accounts import AccountStore

logger = logging.getLogger("connector.worker")


@dataclass
class Sweeper:
    store: EventStore
    accounts: AccountStore
    queue: DeliveryQueue
    deliverer: Deliverer
    interval_s: float = 1.0
    stale_ms: int = 60_000  # a nudge older than this is presumed lost

    def __post_init__(self) -> None:
        self._stop = threading.Event()

    def sweep(self) -> tuple[int, int, int]:
        """(requeued, made uncertain, nudged) in one pass."""
        now = self.deliverer.clock()
        requeued, uncertain = self.store.expire_leases(
            now, retry_uncertain=self.deliverer.policy.retry_uncertain
        )
        due = self.store.due(now, stale_ms=self.stale_ms, skip_accounts=self.accounts.paused())
        for event_id in due:
            self.queue.enqueue(event_id)
        self.store.mark_enqueued(due, now)
        if requeued or uncertain or due:
            log(logger, "sweep", requeued=requeued, uncertain=uncertain, nudged=len(due))
        return requeued, uncertain, len(due)

    def run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sweep()
            except Exception:  # a database hiccup must not end the sweeper
                logger.exception("sweep failed")

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="lto-sweeper", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
