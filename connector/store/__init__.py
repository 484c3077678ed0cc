"""The event store: one row per message, committed before any success answer."""

from .events import Event, EventStore

__all__ = ["Event", "EventStore"]
