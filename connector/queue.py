"""The delivery queue: huey carries "deliver this event" nudges; the event table stays the truth.

``SqliteHuey`` (a file beside the event store) by default, ``RedisHuey`` when
``CONNECTOR_QUEUE_URL=redis://…``. huey hands a task out at most once, so a worker killed while
holding one loses the nudge, never the event: the sweeper finds due events and nudges again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url


def queue_location(database_url: str, queue_url: str | None) -> str:
    """The queue URL to use: the configured one, else a SQLite file beside a SQLite store."""
    if queue_url:
        return queue_url
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return f"sqlite:///{Path(url.database).with_suffix('')}.queue.db"
    return "sqlite:///lto-connector.queue.db"


def make_huey(location: str) -> Huey:
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("lto-connector", url=location, results=False)
    if location.startswith("sqlite:///"):
        return SqliteHuey("lto-connector", filename=location.removeprefix("sqlite:///"),
                          results=False)  # fmt: skip
    raise ValueError(f"CONNECTOR_QUEUE_URL must be redis://… or sqlite:///…, not {location!r}")


class DeliveryQueue:
    """One huey task, ``deliver(event_id)``; the worker process sets what it does."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.huey = make_huey(location)
        self.handler: Callable[[str], object] | None = None

        @self.huey.task(name="lto.deliver")
        def deliver(event_id: str) -> None:
            if self.handler is None:
                raise RuntimeError("this process enqueues only; run `lto-connector worker`")
            self.handler(event_id)

        self._task = deliver

    @property
    def uses_redis(self) -> bool:
        return isinstance(self.huey, RedisHuey)

    def enqueue(self, event_id: str) -> None:
        self._task(event_id)

    def schedule(self, event_id: str, at_ms: int) -> None:
        self._task.schedule(args=(event_id,), eta=datetime.fromtimestamp(at_ms / 1000, UTC))

    def pending(self) -> int:
        return int(self.huey.pending_count())
