"""The platform registry: every calling platform, checked when the app starts."""

from __future__ import annotations

from .api import ApiPlatform
from .base import Platform, Runtime
from .hubspot import HubSpotAction, HubSpotWebhook
from .zapier import ZapierPlatform

PLATFORMS: tuple[type[Platform], ...] = (ApiPlatform, ZapierPlatform, HubSpotAction, HubSpotWebhook)


def build_platforms(runtime: Runtime) -> list[Platform]:
    """Instantiate every platform; duplicate names or routes fail here, not on the first call."""
    platforms = [cls(runtime) for cls in PLATFORMS]
    for attr in ("name", "path"):
        values = [getattr(p, attr) for p in platforms]
        duplicates = {v for v in values if values.count(v) > 1}
        if duplicates:
            raise ValueError(f"two platforms share a {attr}: {sorted(duplicates)}")
    return platforms


__all__ = ["PLATFORMS", "Platform", "Runtime", "build_platforms"]
