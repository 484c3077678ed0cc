"""HubSpot: complete a waiting workflow action's callback with the message's delivery status.

A HubSpot action called with ``wait_for_delivery`` answered BLOCK (``platforms/hubspot.py``);
the first final status Kaleyra reports (delivered, read, failed, not-sent) completes it, once per
message: ``POST {api}/automation/v4/actions/callbacks/{callbackId}/complete`` with the portal's
OAuth token. A 401 refreshes the token once and tries again; a 404 or 410 (the wait expired, or
the workflow was deleted) is gone; HubSpot's 429 and 5xx are retried by the notifier.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

import urllib3

from ..hubspot_callbacks import ACTION_PLATFORM, FINAL, final_outputs, read_callback_ref
from ..hubspot_oauth import HubSpotOAuthError, NotInstalled, PortalAuth, portal_auth
from ..offer import wall_clock_ms
from ..store.hubspot_tokens import TokenKeyMismatch
from .base import FanOut, Notice, Outcome, network_error

if TYPE_CHECKING:
    from ..config import Settings
    from ..connections import Connection
    from ..store import Event, EventStore

CALLBACKS = "/automation/v4/actions/callbacks"
TIMEOUT = urllib3.Timeout(connect=3.05, read=15.0)
GONE = (404, 410)  # the callback expired (HUBSPOT_WAIT_EXPIRATION passed) or no longer exists
NOT_CONFIGURED = (
    "HubSpot OAuth is not configured (HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, "
    "CONNECTOR_PUBLIC_URL, CONNECTOR_TOKEN_KEY): the workflow cannot be completed"
)


class HubSpotTarget:
    name = "hubspot"
    once_per_message = True  # the first final status completes the callback; later ones cannot

    def __init__(self, auth: PortalAuth | None, api_base: str) -> None:
        self.auth = auth
        self.api_base = api_base.rstrip("/")

    @classmethod
    def build(cls, store: EventStore, settings: Settings) -> HubSpotTarget:
        http = urllib3.PoolManager(maxsize=4)
        auth = portal_auth(settings, store.db, http, wall_clock_ms)
        return cls(auth, settings.hubspot.api_base)

    def targets_for(
        self, event: Event, connection: Connection, status: str, context: FanOut
    ) -> list[str]:
        """A waiting action's message, at its first final status."""
        waiting = event.platform == ACTION_PLATFORM and bool(event.waits)
        return [self.name] if waiting and status in FINAL else []

    def send(self, notice: Notice, http: urllib3.PoolManager) -> Outcome:
        event = notice.event
        ref = read_callback_ref(event.platform_ref)
        if ref is None:
            return Outcome("failed", "The message does not name its HubSpot portal and callback")
        if self.auth is None:
            return Outcome("failed", NOT_CONFIGURED)
        portal, callback_id = ref
        outputs = final_outputs(event, notice.status, notice.error_code, notice.error_reason)
        body = json.dumps({"outputFields": outputs}, ensure_ascii=False).encode()
        url = f"{self.api_base}{CALLBACKS}/{quote(callback_id, safe='')}/complete"
        for refreshed in (False, True):
            try:
                token = self.auth.access_token(portal, force_refresh=refreshed)
            except (NotInstalled, TokenKeyMismatch) as exc:
                return Outcome("failed", str(exc))
            except HubSpotOAuthError as exc:
                return token_refused(exc)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            try:
                response = http.request(
                    "POST", url, body=body, headers=headers, timeout=TIMEOUT, retries=False
                )
            except urllib3.exceptions.HTTPError as exc:
                return network_error(exc)
            if response.status == 401 and not refreshed:
                continue  # revoked or expired early: refresh once and try again
            return Outcome.of_http(response.status, response.data, gone=GONE)
        raise AssertionError("unreachable")


def token_refused(error: HubSpotOAuthError) -> Outcome:
    """HubSpot unreachable or failing is retried; a refused refresh token (the app was
    uninstalled) is not."""
    status = error.extra.get("hubspot_status")
    transient = status is None or status == 429 or status >= 500
    return Outcome("retry" if transient else "failed", error.message)
