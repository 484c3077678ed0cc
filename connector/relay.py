"""The path every call takes after parsing: dedupe, store, then deliver or queue.

Sync callers (the default) wait for Kaleyra's answer: ``submit`` returns the settled event. A
repeat of a settled call returns the first outcome and sends nothing; a repeat of a sync call
whose attempt failed *without* Kaleyra accepting it tries again, since nothing was sent.
Async callers (``Prefer: respond-async``) get the stored, queued event at once: the row is the
queue, and the workers claim it from the table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .delivery import attempt, retry_failed
from .errors import IdempotencyConflict, StillInProgress
from .kaleyra import build_request
from .kaleyra.client import Sender
from .logs import log
from .offer import Offer, fingerprint_of
from .store import Event, EventStore
from .store.events import IN_FLIGHT, new_event_id, now_ms

logger = logging.getLogger("connector.relay")


@dataclass(frozen=True)
class Submission:
    offer: Offer
    platform: str  # the route's platform name, e.g. "zapier", "hubspot_action"
    wa_source: str
    delivery_id: str | None = None  # the platform's own id for this delivery (retries repeat it)
    respond_async: bool = False
    account: str = "default"  # the connection, whose Kaleyra account sends it
    waits: bool = False  # the caller waits for the delivery status (a HubSpot action's BLOCK)
    platform_ref: str | None = None  # what answering the platform later needs; else delivery_id


@dataclass(frozen=True)
class Settled:
    event: Event
    replayed: bool  # True when this call was a repeat answered from the store


class Relay:
    def __init__(
        self,
        store: EventStore,
        senders: Mapping[str, Sender],
        *,
        before_send: Callable[[str], object] = lambda account: None,
        dedupe_window_s: int,
        lease_ms: int,
    ) -> None:
        self.store = store
        self.senders = senders  # one per account (connection)
        self.before_send = before_send  # the account's rate limit, waited for inline
        self.window_ms = dedupe_window_s * 1000
        self.lease_ms = lease_ms
        self.wait_s = lease_ms / 1000

    @staticmethod
    def dedupe_key(sub: Submission, fingerprint: str) -> tuple[str, bool]:
        """(key, explicit): the caller's key, else the platform's delivery id, else the content."""
        tenant = "" if sub.account == "default" else f"{sub.account}/"
        if sub.offer.idempotency_key:
            return f"{tenant}{sub.wa_source}:key:{sub.offer.idempotency_key}", True
        if sub.delivery_id:
            return f"{tenant}{sub.platform}:delivery:{sub.delivery_id}", False
        return f"{tenant}{sub.wa_source}:offer:{fingerprint}", False

    def new_event(self, sub: Submission) -> tuple[dict[str, Any], bool]:
        """The row a new message becomes — queued for the workers (async), or already claimed
        for its first attempt (``sending``, leased) when the caller waits for Kaleyra — and
        whether its dedupe key is the caller's own."""
        stamp = now_ms()
        send_now = not sub.respond_async
        offer = sub.offer.to_dict()
        fingerprint = fingerprint_of(offer)
        dedupe_key, explicit = self.dedupe_key(sub, fingerprint)
        event_id = new_event_id()
        return {
            "id": event_id,
            "platform": sub.platform,
            "wa_source": sub.wa_source,
            "account": sub.account,
            "mode": "sync" if send_now else "async",
            "dedupe_key": dedupe_key,
            "fingerprint": fingerprint,
            "offer": offer,
            "payload": build_request(sub.offer, sub.wa_source, reference=event_id),
            "status": "sending" if send_now else "queued",
            "attempts": 1 if send_now else 0,
            "sandbox": self.senders[sub.account].sandbox,
            "next_attempt_ms": None if send_now else stamp,
            "lease_until_ms": stamp + self.lease_ms if send_now else None,
            "expires_ms": sub.offer.expiration_ms,
            "platform_ref": sub.platform_ref or sub.delivery_id,
            "recipient_last4": sub.offer.to[-4:],
            "waits": sub.waits,
            "delivery_status": None,
            "created_ms": stamp,
            "updated_ms": stamp,
        }, explicit

    def submit(self, sub: Submission) -> Settled:
        sender = self.senders[sub.account]
        values, explicit = self.new_event(sub)
        windowed = not explicit and sub.delivery_id is None
        event, created = self.store.claim(values, self.window_ms if windowed else None)
        if created:
            if sub.respond_async:
                return Settled(event, replayed=False)
            self.before_send(event.account)
            return Settled(attempt(self.store, sender, event), replayed=False)
        if explicit and event.fingerprint != values["fingerprint"]:
            raise IdempotencyConflict(
                "This idempotency_key was already used for a different offer; "
                "use a new key for a new message.",
                extra={"id": event.id},
            )
        log(logger, "repeat", event_id=event.id, status=event.status, platform=sub.platform)
        if sub.respond_async:
            return self._queue_repeat(event)
        return self._settle_repeat(event)

    def _queue_repeat(self, event: Event) -> Settled:
        if event.status == "failed":  # a sync attempt that was refused: queue it this time
            queued = self.store.replay(event.id, now_ms())
            if queued is not None:
                return Settled(queued, replayed=False)
        return Settled(event, replayed=True)

    def _settle_repeat(self, event: Event) -> Settled:
        deadline = time.monotonic() + self.wait_s
        while True:
            if event.status == "failed":
                sender = self.senders[event.account]
                retried = retry_failed(self.store, sender, event.id, self.lease_ms)
                if retried is not None:
                    return Settled(retried, replayed=False)
            elif event.mode == "async" or event.status not in IN_FLIGHT:
                return Settled(event, replayed=True)
            if time.monotonic() >= deadline:
                raise StillInProgress(
                    "An identical request is still being delivered; repeat this call shortly.",
                    retry_after=2,
                    extra={"id": event.id},
                )
            time.sleep(0.02)
            current = self.store.get(event.id)
            assert current is not None
            event = current
