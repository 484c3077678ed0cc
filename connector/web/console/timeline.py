"""A message's timeline: every source of what happened to it, merged in time order.

Each source is a small function ``(store, event) -> list[Entry]``; ``SOURCES`` lists them. Today:
when it was received, each attempt at Kaleyra, the delivery statuses WhatsApp reported and what was
reported to the platform (both read from issue 12's tables once they exist,
``store.reports.statuses_of`` / ``notifications_of``), and where it stands now. A new source is one
function added to ``SOURCES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...store import Event, EventStore, reports
from .explain import KALEYRA_CODES
from .present import STATUS_TEXT, clean_text, duration, when


@dataclass(frozen=True)
class Entry:
    at_ms: int
    kind: str  # received | attempt | status | notification | now
    title: str
    tone: str = "info"  # ok | bad | warn | wait | info: how it looks
    details: tuple[tuple[str, str], ...] = field(default=())  # (label, value), shown in order
    order: int = 0  # ties at the same millisecond: lower first


Source = Callable[[EventStore, Event], list[Entry]]


def received(store: EventStore, event: Event) -> list[Entry]:
    via = f"{event.platform} ({event.mode}{', sandbox' if event.sandbox else ''})"
    return [Entry(event.created_ms, "received", f"Received from {via}", order=0)]


ATTEMPT_TONE = {"accepted": "ok", "failed": "bad", "uncertain": "warn"}


def attempts(store: EventStore, event: Event) -> list[Entry]:
    out = []
    for row in store.attempts_of(event.id):
        code = row.get("kaleyra_code")
        latency = row.get("latency_ms")
        details = [
            ("Outcome", str(row["outcome"])),
            ("HTTP status", str(row["http_status"]) if row.get("http_status") else "no answer"),
            ("Kaleyra code", f"{code}: {KALEYRA_CODES[code]}" if code in KALEYRA_CODES else code),
            ("Latency", f"{latency:.0f} ms" if latency is not None else None),
        ]
        if row.get("error_kind"):
            details.append(("Failure", str(row["error_kind"])))
        out.append(
            Entry(
                int(row["started_ms"]),
                "attempt",
                f"Attempt {row['number']} at Kaleyra: {row['outcome']}",
                ATTEMPT_TONE.get(str(row["outcome"]), "info"),
                tuple((label, value or "—") for label, value in details),
                order=1,
            )
        )
    return out


STATUS_TONE = {"sent": "ok", "delivered": "ok", "read": "ok", "failed": "bad", "not-sent": "bad"}


def statuses(store: EventStore, event: Event) -> list[Entry]:
    """WhatsApp's delivery statuses (issue 12's ``lto_statuses``)."""
    out = []
    for row in reports.statuses_of(store.db.reader, event.id):
        details = []
        if row.get("error_code"):
            details.append(("Code", str(row["error_code"])))
        if row.get("error_reason"):
            details.append(("Reason", clean_text(str(row["error_reason"]))))
        if row.get("received_ms"):
            details.append(("Reported at", when(int(row["received_ms"]))))
        status = str(row.get("status"))
        at = row.get("at_ms") or row.get("received_ms") or event.updated_ms
        out.append(
            Entry(
                int(at),
                "status",
                f"WhatsApp: {status}",
                STATUS_TONE.get(status, "info"),
                tuple(details),
                order=2,
            )
        )
    return out


def notifications(store: EventStore, event: Event) -> list[Entry]:
    """What was reported to the platform (issue 12's ``lto_notifications``)."""
    out = []
    for row in reports.notifications_of(store.db.reader, event.id):
        details = [("Attempts", str(row.get("attempts") or 0))]
        if row.get("last_error"):
            details.append(("Last error", clean_text(str(row["last_error"]))))
        at = row.get("updated_ms") or row.get("created_ms") or event.created_ms
        status, state = str(row.get("status")), str(row.get("state"))
        tone = {"done": "ok", "pending": "warn"}.get(state, "bad")
        details.insert(0, ("State", state))
        out.append(
            Entry(
                int(at),
                "notification",
                f"Reported to {row.get('target')}: {status}",
                tone,
                tuple(details),
                order=3,
            )
        )
    return out


def now(store: EventStore, event: Event) -> list[Entry]:
    """Where the message stands: only while that says more than its last attempt."""
    if event.status == "queued" and event.next_attempt_ms:
        wait = event.next_attempt_ms - event.updated_ms
        title = "Queued" + (f": next attempt in {duration(wait)}" if wait > 1000 else "")
        return [Entry(event.updated_ms, "now", title, "wait", order=9)]
    if event.status in ("dead", "expired", "uncertain"):
        tone = "warn" if event.status == "uncertain" else "bad"
        meaning = (("Meaning", STATUS_TEXT[event.status]),)
        return [Entry(event.updated_ms, "now", f"Now {event.status}", tone, meaning, order=9)]
    return []


SOURCES: tuple[Source, ...] = (received, attempts, statuses, notifications, now)


def timeline(store: EventStore, event: Event, sources: tuple[Source, ...] = SOURCES) -> list[Entry]:
    entries = [entry for source in sources for entry in source(store, event)]
    return sorted(entries, key=lambda e: (e.at_ms, e.order))
