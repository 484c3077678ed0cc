"""Each HubSpot portal's OAuth tokens (``lto_hubspot_tokens``), encrypted at rest with Fernet.

The database never holds a token in the clear: both columns are Fernet tokens of the value, so
a copy of the database (a backup, a replica) is no use without ``CONNECTOR_TOKEN_KEY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .engine import Database
from .events import now_ms
from .schema import hubspot_tokens as table


@dataclass(frozen=True)
class PortalTokens:
    portal_id: int
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_ms: int


class TokenKeyMismatch(Exception):
    """The stored tokens were encrypted with a key that is not among CONNECTOR_TOKEN_KEY's."""


class HubSpotTokens:
    def __init__(self, db: Database, cipher: MultiFernet) -> None:
        self.db = db
        self.cipher = cipher

    def save(self, tokens: PortalTokens) -> None:
        """Store (or replace) the portal's tokens."""
        values = {
            "access_token": self.cipher.encrypt(tokens.access_token.encode()).decode(),
            "refresh_token": self.cipher.encrypt(tokens.refresh_token.encode()).decode(),
            "expires_ms": tokens.expires_ms,
            "updated_ms": now_ms(),
        }
        where = table.c.portal_id == tokens.portal_id
        for _ in range(2):  # a concurrent first install of the same portal: update its row
            try:
                with self.db.write() as conn:
                    if conn.execute(update(table).where(where).values(**values)).rowcount:
                        return
                    conn.execute(insert(table).values(portal_id=tokens.portal_id, **values))
                    return
            except IntegrityError:
                continue

    def get(self, portal_id: int) -> PortalTokens | None:
        """The portal's tokens, decrypted; None when the portal never installed the app."""
        with self.db.read() as conn:
            row = conn.execute(select(table).where(table.c.portal_id == portal_id)).mappings()
            found = row.first()
        if found is None:
            return None
        try:
            access = self.cipher.decrypt(found["access_token"].encode()).decode()
            refresh = self.cipher.decrypt(found["refresh_token"].encode()).decode()
        except InvalidToken:
            raise TokenKeyMismatch(
                f"The tokens of HubSpot portal {portal_id} cannot be decrypted with "
                "CONNECTOR_TOKEN_KEY: restore the key they were stored with, or install the "
                "app in the portal again"
            ) from None
        return PortalTokens(portal_id, access, refresh, int(found["expires_ms"]))
