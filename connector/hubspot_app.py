"""The HubSpot app's OAuth settings: which app installs, where HubSpot's APIs are, the key that
encrypts each portal's tokens at rest, and how long a workflow waits for a delivery status.

From the environment: ``HUBSPOT_CLIENT_ID`` (setting it turns the install flow on),
``HUBSPOT_API_BASE``, ``HUBSPOT_AUTHORIZE_URL``, ``HUBSPOT_SCOPES``, ``HUBSPOT_WAIT_EXPIRATION``
(ISO 8601, HubSpot's ``hs_expiration_duration``) and ``CONNECTOR_TOKEN_KEY`` (one Fernet key, or
several separated by commas: the first encrypts, any decrypts, so a key can be rotated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, MultiFernet

API_BASE = "https://api.hubapi.com"
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
SCOPES = "automation"  # completing a blocked workflow action needs it
WAIT_EXPIRATION = "P1D"
CALLBACK_PATH = "/oauth/hubspot/callback"
# HubSpot's hs_expiration_duration: ISO 8601 durations, e.g. P1D, PT12H, P1DT6H
_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")
KEY_HINT = (
    "make one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


@dataclass(frozen=True)
class HubSpotApp:
    client_id: str | None = None  # set: the OAuth install flow and callback completion are on
    api_base: str = API_BASE
    authorize_url: str = AUTHORIZE_URL
    scopes: str = SCOPES
    wait_expiration: str = WAIT_EXPIRATION
    token_key: str | None = field(default=None, repr=False)

    @property
    def oauth(self) -> bool:
        return self.client_id is not None

    def fernet(self) -> MultiFernet:
        """The token cipher (only once ``problems`` found none)."""
        assert self.token_key
        return MultiFernet([Fernet(k.strip()) for k in self.token_key.split(",") if k.strip()])

    def problems(self, client_secret: str | None, public_url: str | None) -> list[str]:
        out: list[str] = []
        if not _DURATION.fullmatch(self.wait_expiration):
            out.append(
                f"HUBSPOT_WAIT_EXPIRATION {self.wait_expiration!r} is not an ISO 8601 duration "
                "such as P1D or PT12H"
            )
        if not self.oauth:
            return out
        if not self.token_key:
            out.append(
                "HUBSPOT_CLIENT_ID is set but CONNECTOR_TOKEN_KEY is not: HubSpot tokens are "
                f"stored encrypted with it ({KEY_HINT})"
            )
        else:
            try:
                self.fernet()
            except ValueError:
                out.append(f"CONNECTOR_TOKEN_KEY is not a Fernet key ({KEY_HINT})")
        if not client_secret:
            out.append("HUBSPOT_CLIENT_ID is set but HUBSPOT_CLIENT_SECRET is not")
        if not public_url:
            out.append(
                "HUBSPOT_CLIENT_ID is set but CONNECTOR_PUBLIC_URL is not: HubSpot redirects "
                f"installs to <CONNECTOR_PUBLIC_URL>{CALLBACK_PATH}"
            )
        for name, url in (("HUBSPOT_API_BASE", self.api_base),
                          ("HUBSPOT_AUTHORIZE_URL", self.authorize_url)):  # fmt: skip
            if not url.startswith(("https://", "http://")):
                out.append(f"{name} must be an http(s) URL")
        return out


def hubspot_app_from_env(env: Mapping[str, str]) -> HubSpotApp:
    def text(name: str) -> str | None:
        return env.get(name, "").strip() or None

    return HubSpotApp(
        client_id=text("HUBSPOT_CLIENT_ID"),
        api_base=(text("HUBSPOT_API_BASE") or API_BASE).rstrip("/"),
        authorize_url=text("HUBSPOT_AUTHORIZE_URL") or AUTHORIZE_URL,
        scopes=" ".join((text("HUBSPOT_SCOPES") or SCOPES).replace(",", " ").split()),
        wait_expiration=(text("HUBSPOT_WAIT_EXPIRATION") or WAIT_EXPIRATION).upper(),
        token_key=text("CONNECTOR_TOKEN_KEY"),
    )
