"""Every notification target the notifier knows, built once per worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Target
from .hubspot import HubSpotTarget

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import EventStore


def build_targets(store: EventStore, settings: Settings) -> list[Target]:
    """One instance per target module; each decides per message whether it is owed anything."""
    targets: list[Target] = [HubSpotTarget.build(store, settings)]
    return targets
