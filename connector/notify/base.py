"""What every notification target is: a name, which messages owe it what, and how to send one.

A target is told about each status that moved a message on (``targets_for``); it names the
outbox rows it wants (usually its own name; Zapier one per subscribed hook) and later sends each
row (``send``) over the notifier's shared connection pool, answering with an ``Outcome``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import urllib3

    from ..connections import Connection
    from ..store import Event

FINAL = ("delivered", "read", "failed", "not-sent")  # what a waiting workflow waits for


@dataclass(frozen=True)
class Notice:
    """One outbox row to deliver: the status, its message and its connection."""

    id: int  # the lto_notifications row
    target: str  # e.g. "clevertap", "zapier:hk_…"
    status: str  # sent | delivered | read | failed | not-sent
    at_ms: int  # when it happened
    error_code: str | None
    error_reason: str | None
    event: Event
    connection: Connection
    attempt: int  # 1 for the first try


@dataclass(frozen=True)
class Outcome:
    """done: the platform has it; retry: try again later; gone: the receiver will never take it
    (a Zapier 410, a HubSpot callback that expired); failed: refused for good (4xx)."""

    state: str  # done | retry | gone | failed
    error: str | None = None
    retry_after_s: float | None = None

    @classmethod
    def of_http(cls, status: int, body: bytes | str = b"", *, gone: Sequence[int] = ()) -> Outcome:
        """The usual reading of an HTTP answer: 2xx done, 408/425/429/5xx retry, the codes in
        ``gone`` gone, any other 4xx failed."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        detail = f"HTTP {status}: {text[:200]}".rstrip(": ")
        if 200 <= status < 300:
            return cls("done")
        if status in gone:
            return cls("gone", detail)
        if status in (408, 425, 429) or status >= 500:
            return cls("retry", detail)
        return cls("failed", detail)


@dataclass(frozen=True)
class FanOut:
    """What fan-out knows beyond the event and its connection."""

    zapier_hooks: Mapping[str, Sequence[str]] = field(default_factory=dict)  # account → hook ids


class Target(Protocol):
    """A target may also set ``once_per_message = True``: fan-out then writes at most one row
    for it per message, for the first status it asks for (a HubSpot callback completes once)."""

    name: str

    def targets_for(
        self, event: Event, connection: Connection, status: str, context: FanOut
    ) -> list[str]:
        """The outbox rows this status of this message owes (target names; [] for none)."""
        ...

    def send(self, notice: Notice, http: urllib3.PoolManager) -> Outcome:
        """Deliver one notice; never raises for a network fault (answer ``retry``)."""
        ...


class PlatformTarget:
    """A platform told in its own format about the messages it sent (those carrying its own id),
    once the connection says where it listens: every status that moved one on is owed."""

    name: str
    platform: str  # the Platform.name whose messages it hears about

    def configured(self, connection: Connection) -> bool:
        raise NotImplementedError

    def targets_for(
        self, event: Event, connection: Connection, status: str, context: FanOut
    ) -> list[str]:
        owed = event.platform == self.platform and event.platform_ref
        return [self.name] if owed and self.configured(connection) else []


def network_error(exc: Exception) -> Outcome:
    return Outcome("retry", f"{type(exc).__name__}: {exc}"[:300])


JSONDict = dict[str, Any]
