"""Per-account state: a Kaleyra account whose credentials, sender or balance failed is paused;
its messages wait in the queue (workers do not claim them) until it is resumed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from .events import EventStore, now_ms
from .queue import pause_account
from .schema import accounts


class AccountStore:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def pause(self, name: str, reason: str) -> bool:
        """Pause ``name``; False when it was already paused."""
        return self.store.writer.submit(lambda conn: pause_account(conn, name, reason, now_ms()))

    def resume(self, name: str) -> bool:
        """Resume ``name``: the workers claim its waiting messages again. False if not paused."""

        def unit(conn: Connection) -> bool:
            resumed = conn.execute(
                update(accounts)
                .where(accounts.c.name == name, accounts.c.paused.is_(True))
                .values(paused=False, updated_ms=now_ms())
            ).rowcount
            return bool(resumed)

        return self.store.writer.submit(unit)

    def paused(self) -> dict[str, dict[str, Any]]:
        query = select(accounts).where(accounts.c.paused.is_(True))
        with self.store.db.read() as conn:
            return {row["name"]: dict(row) for row in conn.execute(query).mappings()}

    def all(self) -> list[dict[str, Any]]:
        with self.store.db.read() as conn:
            return [dict(row) for row in conn.execute(select(accounts)).mappings()]
