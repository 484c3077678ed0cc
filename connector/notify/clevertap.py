"""CleverTap's Generic WhatsApp provider: statuses posted to the delivery-report URL CleverTap
shows on the provider's set-up page (set per connection as ``reports.clevertap_url``; the URL
is the secret). ``msgId`` is exactly the one CleverTap sent; a failure carries one of
CleverTap's codes 1000-1010, mapped from Meta's."""

from __future__ import annotations

from typing import Any

import urllib3

from ..connections import Connection
from .base import Notice, Outcome, PlatformTarget
from .http import post_json

STATUS = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed",
          "not-sent": "failed"}  # fmt: skip
TITLES = {
    1000: "Invalid credentials",
    1001: "Invalid template parameters",
    1002: "Invalid phone number",
    1003: "Phone number no longer active",
    1004: "Too many messages to this number",
    1005: "Temporarily unavailable",
    1006: "Blacklisted",
    1007: "Device cannot receive this message",
    1008: "Outside the 24-hour window",
    1009: "Other",
    1010: "Blocked by Meta",
}
META = {
    131026: 1007,  # message undeliverable
    131047: 1008,  # re-engagement: more than 24 hours since the user's last reply
    131049: 1010,  # Meta chose not to deliver (ecosystem engagement)
    131050: 1010,  # the user stopped marketing messages
    131056: 1004,  # too many messages to this pair of numbers
    130429: 1004,  # throughput reached
    131048: 1004,  # spam rate limit
    131030: 1002,  # recipient not in the allowed list
    131021: 1002,  # recipient cannot be the sender
    131009: 1001,  # a parameter's value is invalid
    131008: 1001,  # a required parameter is missing
    131031: 1000,  # the business account is locked
    131000: 1009,  # something went wrong
    1: 1005,  # API unknown: temporary
    2: 1005,  # API service: temporary
}


def clevertap_code(meta_code: str | None) -> int:
    try:
        code = int(str(meta_code).strip())
    except ValueError:
        return 1009
    if 132000 <= code <= 132099:  # template errors
        return 1001
    return META.get(code, 1009)


def status_entry(notice: Notice) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "msgId": notice.event.platform_ref,
        "status": STATUS[notice.status],
        "timestamp": str(notice.at_ms // 1000),
    }
    if entry["status"] == "failed":
        code = clevertap_code(notice.error_code)
        entry["error"] = {"code": code, "title": notice.error_reason or TITLES[code]}
    return entry


class CleverTapTarget(PlatformTarget):
    name = "clevertap"
    platform = "clevertap"

    def configured(self, connection: Connection) -> bool:
        return connection.reports.clevertap_url is not None

    def send(self, notice: Notice, http: urllib3.PoolManager) -> Outcome:
        url = notice.connection.reports.clevertap_url
        if not url:
            return Outcome("failed", "the connection no longer has reports.clevertap_url")
        body = {"payloadVersion": "0.1", "statuses": [status_entry(notice)]}
        return post_json(http, url, body)
