"""What the operator console keeps in the store, so every gunicorn worker and host agrees.

``lto_console_secrets`` holds the key that signs console sessions when ``CONNECTOR_SECRET_KEY`` is
not set: the first process to start creates it, every other one reads the same row.
``lto_console_failures`` counts failed sign-ins per client address (the limit holds across
processes); ``lto_console_drafts`` keeps a previewed offer server-side, so the page that asks
"send this?" never carries the recipient's number.

These tables have their own ``MetaData``: the console creates them, and they stay out of the
event store's schema.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from .events import now_ms

console_metadata = MetaData()

secrets_table = Table(
    "lto_console_secrets",
    console_metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

failures = Table(
    "lto_console_failures",
    console_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)
Index("ix_lto_console_failures_client", failures.c.client, failures.c.at_ms)

drafts = Table(
    "lto_console_drafts",
    console_metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

KEEP_FAILURES_MS = 3_600_000
KEEP_DRAFTS_MS = 3_600_000


class ConsoleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        try:
            console_metadata.create_all(self.engine)
        except (OperationalError, IntegrityError):
            console_metadata.create_all(self.engine)  # another process was creating it too
        with self.engine.begin() as conn:  # drafts hold numbers: none outlives its hour
            conn.execute(delete(drafts).where(drafts.c.created_ms < now_ms() - KEEP_DRAFTS_MS))

    # --- the session key ----------------------------------------------------------------------
    def secret(self, name: str = "session") -> str:
        """The shared secret ``name``, created once (by whichever process asks first)."""
        query = select(secrets_table.c.value).where(secrets_table.c.name == name)
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        if found:
            return str(found)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(secrets_table).values(
                        name=name, value=secrets.token_hex(32), created_ms=now_ms()
                    )
                )
        except IntegrityError:
            pass  # another process won the race: read its value
        with self.engine.connect() as conn:
            return str(conn.execute(query).scalar_one())

    # --- failed sign-ins ------------------------------------------------------------------------
    def failures_since(self, client: str, since_ms: int) -> list[int]:
        """When ``client``'s failed sign-ins since ``since_ms`` happened, oldest first."""
        query = (
            select(failures.c.at_ms)
            .where(failures.c.client == client, failures.c.at_ms >= since_ms)
            .order_by(failures.c.at_ms)
        )
        with self.engine.connect() as conn:
            return [int(at) for at in conn.execute(query).scalars()]

    def record_failure(self, client: str, at_ms: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(failures).values(client=client[:64], at_ms=at_ms))
            conn.execute(delete(failures).where(failures.c.at_ms < at_ms - KEEP_FAILURES_MS))

    # --- previewed offers -------------------------------------------------------------------------
    def save_draft(self, owner: str, data: dict[str, Any]) -> str:
        draft_id = "drf_" + uuid.uuid4().hex
        stamp = now_ms()
        with self.engine.begin() as conn:
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
        with self.engine.connect() as conn:
            data = conn.execute(query).scalar()
        return dict(data) if data else None

    def drop_draft(self, draft_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(drafts).where(drafts.c.id == draft_id))
