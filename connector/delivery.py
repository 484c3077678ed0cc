"""Handing stored events to Kaleyra, one attempt at a time, every attempt recorded.

``attempt`` serves sync callers (the event is already claimed, the caller waits for the answer).
``Deliverer.deliver(event_id)`` serves queue workers: it leases a due event, sends it, and follows
the failure table: retry with backoff, dead-letter, pause the account, or leave it uncertain.
Imports no Flask.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .fields import mask_phone
from .kaleyra.client import Sender, SendResult
from .kaleyra.errors import KaleyraError
from .logs import log
from .outcomes import Action, failure_of
from .retries import RetryPolicy
from .store import Event, EventStore
from .store.accounts import AccountStore
from .store.events import NO_ERROR

logger = logging.getLogger("connector.delivery")


def send_logged(sender: Sender, event: Event) -> tuple[SendResult | KaleyraError, dict[str, Any]]:
    """One request to Kaleyra for ``event``, logged; returns the outcome and its attempt row
    (written by the caller together with the event's new state, in one commit)."""
    started_ms = time.time_ns() // 1_000_000
    started = time.perf_counter()
    outcome: SendResult | KaleyraError
    try:
        outcome = sender.send(event.payload)
    except KaleyraError as exc:
        outcome = exc
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    failed = isinstance(outcome, KaleyraError)
    status, code = outcome.status, outcome.code
    kind = outcome.kind if isinstance(outcome, KaleyraError) else None
    result = "accepted" if not failed else ("uncertain" if kind == "uncertain" else "failed")
    row = {
        "event_id": event.id,
        "number": event.attempts,
        "started_ms": started_ms,
        "latency_ms": latency_ms,
        "outcome": result,
        "http_status": status,
        "kaleyra_code": code,
        "error_kind": kind,
    }
    log(
        logger,
        "upstream",
        logging.WARNING if failed else logging.INFO,
        event_id=event.id,
        to=mask_phone(str(event.offer.get("to", ""))),
        outcome=result,
        kind=kind,
        http_status=status,
        kaleyra_code=code,
        message_id=None if isinstance(outcome, KaleyraError) else outcome.message_id,
        request_id=outcome.request_id,
        latency_ms=latency_ms,
        sandbox=sender.sandbox,
        attempt=event.attempts,
    )
    return outcome, row


def error_values(exc: KaleyraError) -> dict[str, Any]:
    return {
        "error_kind": exc.kind,
        "error_code": exc.code,
        "error_message": exc.message[:1000],
        "upstream_status": exc.status,
        "retry_after": exc.retry_after,
    }


def accepted_values(result: SendResult) -> dict[str, Any]:
    return {"message_id": result.message_id, "upstream_status": result.status, **NO_ERROR}


def attempt(store: EventStore, sender: Sender, event: Event) -> Event:
    """Sync: send an event already claimed (``sending``); the caller answers from the result."""
    outcome, row = send_logged(sender, event)
    if isinstance(outcome, KaleyraError):
        status = "uncertain" if outcome.kind == "uncertain" else "failed"
        return store.finish(event.id, status, attempt=row, **error_values(outcome))
    return store.finish(event.id, "accepted", attempt=row, **accepted_values(outcome))


def retry_failed(store: EventStore, sender: Sender, event_id: str, lease_ms: int) -> Event | None:
    """Sync: a repeat of a call whose attempt failed tries again; None if another caller is."""
    event = store.begin_attempt(event_id, ("failed",), lease_ms=lease_ms)
    return None if event is None else attempt(store, sender, event)


@dataclass
class Deliverer:
    """The worker side: lease, send, and follow the failure table."""

    store: EventStore
    accounts: AccountStore
    senders: Mapping[str, Sender]  # one per account
    policy: RetryPolicy
    lease_ms: int
    schedule: Callable[[str, int], None]  # (event_id, at_ms): queue a later try
    clock: Callable[[], int]
    before_send: Callable[[Event], object] = lambda event: None  # e.g. the rate limiter

    def deliver(self, event_id: str) -> Event | None:
        """One attempt at a queued event; None when it is not ours (not due, taken, or its
        account paused: it waits, and ``accounts resume`` has the sweeper send it)."""
        now = self.clock()
        event = self.store.lease(event_id, now, self.lease_ms)
        if event is None:
            return None
        sender = self.senders.get(event.account)
        if sender is None:  # its connection was removed: keep the event until it is back
            self.accounts.pause(event.account, "account not configured on this connector")
            return self.store.requeue(event.id, now, count_attempt=False)
        self.before_send(event)
        if not self.store.mark_sending(event.id):
            return None  # our lease ran out while waiting and the sweeper took it back
        outcome, row = send_logged(sender, event)
        if not isinstance(outcome, KaleyraError):
            return self.store.finish(event.id, "accepted", attempt=row, **accepted_values(outcome))
        return self._after_failure(event, outcome, row)

    def _after_failure(self, event: Event, exc: KaleyraError, row: dict[str, Any]) -> Event:
        now = self.clock()
        action = failure_of(exc.kind).action
        if action is Action.UNCERTAIN and self.policy.retry_uncertain:
            action = Action.RETRY
        if action is Action.PAUSE:
            if self.accounts.pause(event.account, f"{exc.code or exc.kind}: {exc.message}"):
                log(logger, "account paused", logging.ERROR, account=event.account,
                    kaleyra_code=exc.code, kind=exc.kind)  # fmt: skip
            return self.store.requeue(
                event.id, now, count_attempt=False, attempt=row, **error_values(exc)
            )
        if action is Action.RETRY:
            at = self.policy.next_attempt_ms(event.attempts, now, event.created_ms, exc.retry_after)
            if at is not None:
                requeued = self.store.requeue(
                    event.id, at, enqueued_ms=at, attempt=row, **error_values(exc)
                )
                self.schedule(event.id, at)
                return requeued
            values = error_values(exc)
            values["error_message"] = (
                f"Gave up after {event.attempts} attempts over "
                f"{self.policy.horizon_s / 3600:g} h; last: {exc.message}"
            )[:1000]
            return self.store.finish(event.id, "dead", attempt=row, **values)
        status = "dead" if action is Action.DEAD else "uncertain"
        return self.store.finish(event.id, status, attempt=row, **error_values(exc))
