"""Zapier: each status change posted to every "Message status changed" hook of its connection.

Every subscribed Zap gets its own outbox row (``zapier:<hook id>``), so one Zap that is slow or
gone never holds up another. The record is ``status_record`` (its ``id`` is unique per message
and status, and Zapier deduplicates on it). Zapier's rule for REST hooks: a 410 means the Zap
unsubscribed, so the subscription is deleted and the row is ``gone``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import urllib3

from ..jsonio import dump_json
from ..store.zapier_hooks import ZapierHooks
from .base import FanOut, Notice, Outcome, network_error
from .record import status_record

if TYPE_CHECKING:
    from ..connections import Connection
    from ..store import Event, EventStore

PREFIX = "zapier:"
TIMEOUT = urllib3.Timeout(connect=5.0, read=5.0)
GONE = (410,)


def hook_id_of(target: str) -> str:
    return target.removeprefix(PREFIX)


class ZapierTarget:
    name = "zapier"

    def __init__(self, store: EventStore) -> None:
        self.hooks = ZapierHooks(store.db)

    def targets_for(
        self, event: Event, connection: Connection, status: str, context: FanOut
    ) -> list[str]:
        """One row per hook of the message's connection, for every status that moved it on."""
        return [f"{PREFIX}{hook_id}" for hook_id in context.zapier_hooks.get(event.account, [])]

    def send(self, notice: Notice, http: urllib3.PoolManager) -> Outcome:
        hook_id = hook_id_of(notice.target)
        url = self.hooks.target_url(hook_id)
        if url is None:
            return Outcome("gone", "The Zap unsubscribed (the hook was deleted).")
        record = status_record(
            notice.event, notice.status, notice.at_ms, notice.error_code, notice.error_reason
        )
        try:
            response = http.request(
                "POST",
                url,
                body=dump_json(record),
                headers={"Content-Type": "application/json"},
                timeout=TIMEOUT,
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            return network_error(exc)
        outcome = Outcome.of_http(response.status, response.data, gone=GONE)
        if outcome.state == "gone":
            self.hooks.remove(hook_id)  # Zapier: 410 = the subscription is no more
        return outcome
