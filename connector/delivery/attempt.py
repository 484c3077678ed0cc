"""One request to Kaleyra for one event, logged, never raising; and the inline (sync) attempt.

``send_logged`` is what every send goes through, inline or in a worker: it returns Kaleyra's
answer or the typed failure, plus the attempt row to record. A failure nobody foresaw (a bug, an
exception from a library) is caught here too: a worker never dies on one event, and since such a
failure may have struck after the request left, the event is counted as possibly sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..fields import mask_phone
from ..kaleyra.client import Sender, SendResult
from ..kaleyra.errors import KaleyraError, KaleyraUncertain
from ..logs import log
from ..store import Event, EventStore
from ..store.events import NO_ERROR

logger = logging.getLogger("connector.delivery")
Outcome = SendResult | KaleyraError


def send_logged(sender: Sender, event: Event) -> tuple[Outcome, dict[str, Any]]:
    """One request to Kaleyra for ``event``; the outcome and its attempt row (which the caller
    records together with the event's new state, in one commit)."""
    started_ms = time.time_ns() // 1_000_000
    started = time.perf_counter()
    outcome: Outcome
    try:
        outcome = sender.send(event.payload)
    except KaleyraError as exc:
        outcome = exc
    except Exception as exc:  # never let one event end a worker
        logger.exception("send failed unexpectedly", extra={"fields": {"event_id": event.id}})
        outcome = KaleyraUncertain(
            f"The send failed unexpectedly ({type(exc).__name__}); it may have been delivered"
        )
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    failed = isinstance(outcome, KaleyraError)
    kind = outcome.kind if isinstance(outcome, KaleyraError) else None
    result = "accepted" if not failed else ("uncertain" if kind == "uncertain" else "failed")
    row = {
        "event_id": event.id,
        "number": event.attempts,
        "started_ms": started_ms,
        "latency_ms": latency_ms,
        "outcome": result,
        "http_status": outcome.status,
        "kaleyra_code": outcome.code,
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
        http_status=outcome.status,
        kaleyra_code=outcome.code,
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
    """Sync: send an event already claimed (``sending``); the caller answers from the result.
    A failure leaves it ``failed`` (a repeat of the call may try again) or ``uncertain``."""
    outcome, row = send_logged(sender, event)
    if isinstance(outcome, KaleyraError):
        status = "uncertain" if outcome.kind == "uncertain" else "failed"
        return store.finish(event, status, attempt=row, **error_values(outcome))
    return store.finish(event, "accepted", attempt=row, **accepted_values(outcome))


def retry_failed(store: EventStore, sender: Sender, event_id: str, lease_ms: int) -> Event | None:
    """Sync: a repeat of a call whose attempt failed tries again; None if another caller is."""
    event = store.begin_attempt(event_id, lease_ms)
    return None if event is None else attempt(store, sender, event)
