"""WebEngage's WSP delivery status notifications: one status per POST to the region's
``tracking/events`` URL with the token WebEngage issued (``reports.webengage``), ``messageId``
exactly as WebEngage sent it. WebEngage documents ``whatsapp_sent``, ``whatsapp_read`` and
``whatsapp_failed``; "delivered" is reported as ``reports.webengage.delivered_as``
(``whatsapp_delivered``, as peers send, or ``whatsapp_sent``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import urllib3

from ..connections import Connection
from .base import Notice, Outcome, PlatformTarget
from .http import post_json

NOT_DELIVERED = 2009
META = {
    131026: 2009,  # undeliverable
    131021: 2003,  # not a valid recipient
    131030: 2003,
    131049: 2006,  # blocked by Meta's choice
    131050: 2006,  # the user stopped marketing messages
    131047: 2009,
    131008: 2022,
    131009: 2022,
}


def webengage_code(meta_code: str | None) -> int:
    try:
        code = int(str(meta_code).strip())
    except ValueError:
        return 9988
    if 132000 <= code <= 132099:
        return 2021 if code in (132000, 132012) else 2022
    return META.get(code, 9988)


def webengage_body(notice: Notice, delivered_as: str) -> dict[str, Any]:
    status = {"sent": "whatsapp_sent", "delivered": delivered_as, "read": "whatsapp_read"}.get(
        notice.status, "whatsapp_failed"
    )
    moment = datetime.fromtimestamp(notice.at_ms / 1000, UTC)
    body: dict[str, Any] = {
        "version": "1.0",
        "messageId": notice.event.platform_ref,
        "toNumber": str(notice.event.offer.get("to", "")).lstrip("+"),
        "status": status,
        "statusCode": 0,
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    }
    if status == "whatsapp_failed":
        body["statusCode"] = webengage_code(notice.error_code)
        body["reason"] = notice.error_reason or "Not delivered"
    return body


class WebEngageTarget(PlatformTarget):
    name = "webengage"
    platform = "webengage"

    def configured(self, connection: Connection) -> bool:
        return connection.reports.webengage is not None

    def send(self, notice: Notice, http: urllib3.PoolManager) -> Outcome:
        settings = notice.connection.reports.webengage
        if settings is None:
            return Outcome("failed", "the connection no longer has reports.webengage")
        body = webengage_body(notice, settings.delivered_as)
        headers = {"Authorization": f"Bearer {settings.token}"}
        return post_json(http, settings.url, body, headers)
