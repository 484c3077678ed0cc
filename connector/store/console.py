"""What the operator console keeps in the store, so every gunicorn worker and host agrees.

``lto_console_secrets`` holds the key that signs console sessions when ``CONNECTOR_SECRET_KEY`` is
not set: the first process to start creates it, every other one reads the same row.
``lto_console_failures`` counts failed sign-ins per client address (the limit holds across
processes); ``lto_console_drafts`` keeps a previewed offer server-side, so the page that asks
"send this?" never carries the recipient's number.

The tables are part of the store's schema (``schema.py``; migration 0003).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import (
    delete,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from .engine import Database
from .events import now_ms
from .schema import console_drafts as drafts
from .schema import console_failures as failures
from .schema import console_secrets as secrets_table

KEEP_FAILURES_MS = 3_600_000
KEEP_DRAFTS_MS = 3_600_000


class ConsoleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def prune(self) -> None:
        with self.db.write() as conn:  # drafts hold numbers: none outlives its hour
            conn.execute(delete(drafts).where(drafts.c.created_ms < now_ms() - KEEP_DRAFTS_MS))

    # --- the session key ----------------------------------------------------------------------
    def secret(self, name: str = "session") -> str:
        """The shared secret ``name``, created once (by whichever process asks first)."""
        query = select(secrets_table.c.value).where(secrets_table.c.name == name)
        with self.db.read() as conn:
            found = conn.execute(query).scalar()
        if found:
            return str(found)
        try:
            with self.db.write() as conn:
                conn.execute(
                    insert(secrets_table).values(
                        name=name, value=secrets.token_hex(32), created_ms=now_ms()
                    )
                )
        except IntegrityError:
            pass  # another process won the race: read its value
        with self.db.read() as conn:
            return str(conn.execute(query).scalar_one())

    # --- failed sign-ins ------------------------------------------------------------------------
    def failures_since(self, client: str, since_ms: int) -> list[int]:
        """When ``client``'s failed sign-ins since ``since_ms`` happened, oldest first."""
        query = (
            select(failures.c.at_ms)
            .where(failures.c.client == client, failures.c.at_ms >= since_ms)
            .order_by(failures.c.at_ms)
        )
        with self.db.read() as conn:
            return [int(at) for at in conn.execute(query).scalars()]

    def record_failure(self, client: str, at_ms: int) -> None:
        with self.db.write() as conn:
            conn.execute(insert(failures).values(client=client[:64], at_ms=at_ms))
            conn.execute(delete(failures).where(failures.c.at_ms < at_ms - KEEP_FAILURES_MS))

    # --- previewed offers -------------------------------------------------------------------------
    def save_draft(self, owner: str, data: dict[str, Any]) -> str:
        draft_id = "drf_" + uuid.uuid4().hex
        stamp = now_ms()
        with self.db.write() as conn:
            conn.execute(delete(drafts).where(drafts.c.created_ms < stamp - KEEP_DRAFTS_MS))
            conn.execute(
                insert(drafts).values(id=draft_id, owner=owner, data=data, created_ms=stamp)
            )
        return draft_id

    def draft(self, draft_id: str, owner: str) -> dict[str, Any] | None:
        """The draft, if it is ``owner``'s and not older than an hour."""
        query = select(drafts.c.data).where(
            drafts.c.id == draft_id,
            drafts.c.owner == owner,
            drafts.c.created_ms >= now_ms() - KEEP_DRAFTS_MS,
        )
        with self.db.read() as conn:
            data = conn.execute(query).scalar()
        return dict(data) if data else None

    def drop_draft(self, draft_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(drafts).where(drafts.c.id == draft_id))
