"""The sweeper, in every worker, every second: leases whose holder vanished (a killed worker)
are resolved — a ``leased`` event goes back to the queue, a ``sending`` one becomes
``uncertain`` — and an account whose events wait but which this connector cannot send for
(its connection was removed) is paused, so it shows in ``accounts list``, ``/readyz`` and
``/metrics`` instead of waiting silently."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial

from ..logs import log
from ..store import EventStore
from ..store.queue import expire_leases, pause_account, queued_accounts

logger = logging.getLogger("connector.worker")


@dataclass
class Sweeper:
    store: EventStore
    accounts: Collection[str]  # the accounts this connector can send for
    clock: Callable[[], int]
    retry_uncertain: bool = False
    interval_s: float = 1.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sweep(self) -> tuple[int, int]:
        """(requeued, made uncertain) in one pass."""
        now = self.clock()
        requeued, uncertain = self.store.writer.submit(
            lambda conn: expire_leases(conn, now, retry_uncertain=self.retry_uncertain)
        )
        with self.store.db.read() as conn:
            orphans = queued_accounts(conn) - set(self.accounts)
        reason = "account not configured on this connector"
        for account in orphans:
            if self.store.writer.submit(
                partial(pause_account, name=account, reason=reason, now=now)
            ):
                log(logger, "account paused", logging.ERROR, account=account, reason=reason)
        if requeued or uncertain:
            log(logger, "sweep", requeued=requeued, uncertain=uncertain)
        return requeued, uncertain

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
