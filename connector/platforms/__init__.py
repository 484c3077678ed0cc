"""The platform registry: every calling platform, checked when the app starts."""

from __future__ import annotations

from .api import ApiPlatform
from .base import Platform, Runtime
from .braze import BrazePlatform
from .clevertap import CleverTapPlatform
from .clevertap_webhook import CleverTapWebhook
from .eloqua import EloquaPlatform
from .hubspot import HubSpotAction, HubSpotWebhook
from .leadsquared import LeadSquaredPlatform
from .moengage import MoEngagePlatform
from .responsys import ResponsysPlatform
from .salesforce import SalesforcePlatform
from .shopify import ShopifyFlow, ShopifyWebhook
from .webengage import WebEngagePlatform
from .zapier import ZapierPlatform
from .zoho import ZohoPlatform

# every route; together they reach all 13 of Kaleyra's wa_source values
PLATFORMS: tuple[type[Platform], ...] = (
    ApiPlatform,
    ZapierPlatform,
    HubSpotAction,
    HubSpotWebhook,
    CleverTapPlatform,
    CleverTapWebhook,
    WebEngagePlatform,
    ShopifyWebhook,
    ShopifyFlow,
    SalesforcePlatform,
    LeadSquaredPlatform,
    BrazePlatform,
    ZohoPlatform,
    MoEngagePlatform,
    EloquaPlatform,
    ResponsysPlatform,
)


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
