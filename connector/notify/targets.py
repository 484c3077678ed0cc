"""Every notification target the notifier knows, built once per worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Target
from .clevertap import CleverTapTarget
from .hubspot import HubSpotTarget
from .webengage import WebEngageTarget
from .webhook import WebhookTarget
from .zapier import ZapierTarget

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import EventStore


def build_targets(store: EventStore, settings: Settings) -> list[Target]:
    """One instance per target module; each decides per message whether it is owed anything."""
    targets: list[Target] = [
        CleverTapTarget(),
        WebEngageTarget(),
        WebhookTarget(),
        ZapierTarget(store),
        HubSpotTarget.build(store, settings),
    ]
    return targets
