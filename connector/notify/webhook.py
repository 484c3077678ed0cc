"""Every other caller (the API, Braze, MoEngage, Zoho …): a status webhook per connection,
signed per the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``, by the ``standardwebhooks`` library). ``webhook-id`` is the same on every
retry of one status, so a consumer can drop repeats."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import urllib3
from standardwebhooks import Webhook

from ..connections import Connection
from ..store import Event
from .base import FanOut, Notice, Outcome
from .http import post_json
from .record import status_record

NATIVE = ("clevertap", "webengage", "hubspot_action", "zapier")  # told in their own formats


class WebhookTarget:
    name = "webhook"

    def targets_for(
        self, event: Event, connection: Connection, status: str, context: FanOut
    ) -> list[str]:
        hook = connection.reports.webhook
        return [self.name] if hook is not None and event.platform not in NATIVE else []

    def send(self, notice: Notice, http: urllib3.PoolManager) -> Outcome:
        hook = notice.connection.reports.webhook
        if hook is None:
            return Outcome("failed", "the connection no longer has reports.webhook")
        record = status_record(
            notice.event, notice.status, notice.at_ms, notice.error_code, notice.error_reason
        )
        body = json.dumps(record, separators=(",", ":"))
        message_id = f"msg_{notice.event.id}_{notice.status}"
        stamp = datetime.fromtimestamp(int(time.time()), UTC)
        signature = Webhook(hook.secret).sign(message_id, stamp, body)
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": signature,
        }
        return post_json(http, hook.url, None, headers, encoded=body.encode())
