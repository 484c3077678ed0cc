"""HubSpot's OAuth 2.0 for the app: the authorize URL, the code exchange, the refresh, and the
portal a token belongs to; plus ``PortalAuth``, which hands out a portal's access token,
refreshing it (and storing the new pair) when it has expired or will within a minute.

No Flask here: the install routes (``web/hubspot_oauth.py``) and the workers' notifier
(``notify/hubspot.py``) share it, each over its own urllib3 pool. No token or secret ever goes
into an error message or a log line; HubSpot's own ``status``/``message`` do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .errors import ConnectorError
from .hubspot_app import CALLBACK_PATH, HubSpotApp
from .store.hubspot_tokens import HubSpotTokens, PortalTokens

REFRESH_MARGIN_MS = 60_000  # refresh a token that expires within a minute
TIMEOUT = urllib3.Timeout(connect=3.05, read=15.0)


class HubSpotOAuthError(ConnectorError):
    """HubSpot refused a token request, or could not be reached."""

    status = 502
    code = "hubspot_oauth_failed"


class NotInstalled(ConnectorError):
    """No tokens for the portal: the app was never installed there (or was uninstalled)."""

    status = 409
    code = "hubspot_not_installed"


class _TokenAnswer(Schema):
    class Meta:
        unknown = EXCLUDE

    access_token = fields.String(required=True, validate=validate.Length(min=1))
    refresh_token = fields.String(required=True, validate=validate.Length(min=1))
    expires_in = fields.Integer(required=True, strict=False, validate=validate.Range(min=0))


class _TokenInfo(Schema):
    class Meta:
        unknown = EXCLUDE

    hub_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))


TOKEN_ANSWER = _TokenAnswer()
TOKEN_INFO = _TokenInfo()


def redirect_uri(public_url: str) -> str:
    return public_url.rstrip("/") + CALLBACK_PATH


def authorize_url(app: HubSpotApp, public_url: str, state: str) -> str:
    """Where the installing user is sent: HubSpot's consent page for this app and its scopes."""
    assert app.client_id
    query = urlencode(
        {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri(public_url),
            "scope": app.scopes,
            "state": state,
        },
        quote_via=quote,
    )
    separator = "&" if "?" in app.authorize_url else "?"
    return f"{app.authorize_url}{separator}{query}"


@dataclass(frozen=True)
class OAuthClient:
    app: HubSpotApp
    client_secret: str
    public_url: str
    http: urllib3.PoolManager
    clock: Callable[[], int]

    def exchange(self, code: str) -> PortalTokens:
        """The tokens for an authorization code, with the portal they belong to."""
        grant = self._token({"grant_type": "authorization_code", "code": code,
                             "redirect_uri": redirect_uri(self.public_url)})  # fmt: skip
        return PortalTokens(self.portal_of(grant[0]), *grant)

    def refresh(self, tokens: PortalTokens) -> PortalTokens:
        access, refresh, expires_ms = self._token(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        )
        return PortalTokens(tokens.portal_id, access, refresh, expires_ms)

    def portal_of(self, access_token: str) -> int:
        """The portal (``hub_id``) an access token was issued for."""
        url = f"{self.app.api_base}/oauth/v1/access-tokens/{quote(access_token, safe='')}"
        data = self._call("GET", url, None, "the token's portal")
        try:
            return int(TOKEN_INFO.load(data)["hub_id"])
        except ValidationError as exc:
            raise _unexpected("the token's portal", exc) from None

    def _token(self, form: dict[str, str]) -> tuple[str, str, int]:
        assert self.app.client_id
        body = urlencode({**form, "client_id": self.app.client_id,
                          "client_secret": self.client_secret})  # fmt: skip
        what = "the code exchange" if form["grant_type"] == "authorization_code" else "the refresh"
        started = self.clock()
        data = self._call("POST", f"{self.app.api_base}/oauth/v1/token", body, what)
        try:
            loaded = TOKEN_ANSWER.load(data)
        except ValidationError as exc:
            raise _unexpected(what, exc) from None
        expires_ms = started + int(loaded["expires_in"]) * 1000
        return loaded["access_token"], loaded["refresh_token"], expires_ms

    def _call(self, method: str, url: str, form: str | None, what: str) -> Any:
        headers = {"Accept": "application/json"}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8"
        try:
            response = self.http.request(
                method, url, body=form, headers=headers, timeout=TIMEOUT, retries=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise HubSpotOAuthError(
                f"HubSpot could not be reached for {what} ({type(exc).__name__}); try again",
                retry_after=5,
            ) from None
        try:
            data = json.loads(response.data) if response.data else None
        except ValueError:
            data = None
        if response.status != 200:
            raise HubSpotOAuthError(
                f"HubSpot refused {what}: HTTP {response.status}{_reason(data)}",
                extra={"hubspot_status": response.status},
            )
        return data


def _reason(data: Any) -> str:
    """HubSpot's own words about a refusal (its ``status`` and ``message``; never a token)."""
    if not isinstance(data, dict):
        return ""
    parts = [str(data[k])[:200] for k in ("status", "message") if isinstance(data.get(k), str)]
    return f" ({': '.join(parts)})" if parts else ""


def _unexpected(what: str, exc: ValidationError) -> HubSpotOAuthError:
    fields_ = ", ".join(sorted(exc.normalized_messages()))
    return HubSpotOAuthError(f"HubSpot's answer to {what} lacks {fields_}")


@dataclass(frozen=True)
class PortalAuth:
    """A portal's access token, fresh: refreshed and stored again when it is (nearly) expired."""

    client: OAuthClient
    tokens: HubSpotTokens

    def access_token(self, portal_id: int, *, force_refresh: bool = False) -> str:
        stored = self.tokens.get(portal_id)
        if stored is None:
            raise NotInstalled(
                f"HubSpot portal {portal_id} has not installed the app: open "
                "/oauth/hubspot/install and approve it for that portal"
            )
        if force_refresh or stored.expires_ms - REFRESH_MARGIN_MS <= self.client.clock():
            stored = self.client.refresh(stored)
            self.tokens.save(stored)
        return stored.access_token


def portal_auth(
    settings: Any, db: Any, http: urllib3.PoolManager, clock: Callable[[], int]
) -> PortalAuth | None:
    """The portals' tokens as ``settings`` configure them; None when HubSpot OAuth is off."""
    app: HubSpotApp = settings.hubspot
    if not app.oauth or not settings.hubspot_client_secret or not settings.public_url:
        return None
    client = OAuthClient(app, settings.hubspot_client_secret, settings.public_url, http, clock)
    return PortalAuth(client, HubSpotTokens(db, app.fernet()))
