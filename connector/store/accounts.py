"""Per-account state: a Kaleyra account whose credentials, sender or balance failed is paused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .events import now_ms
from .schema import accounts, events


class AccountStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pause(self, name: str, reason: str) -> bool:
        """Pause ``name``; False when it was already paused."""
        stamp = now_ms()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(accounts)
                .where(accounts.c.name == name, accounts.c.paused.is_(False))
                .values(paused=True, reason=reason, paused_ms=stamp, updated_ms=stamp)
            ).rowcount
        if changed:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    accounts.insert().values(
                        name=name, paused=True, reason=reason, paused_ms=stamp, updated_ms=stamp
                    )
                )
        except IntegrityError:
            return False  # the row exists and is paused already
        return True

    def resume(self, name: str) -> bool:
        """Resume ``name``; its waiting events are nudged by the next sweep. False if not paused."""
        with self.engine.begin() as conn:
            resumed = conn.execute(
                update(accounts)
                .where(accounts.c.name == name, accounts.c.paused.is_(True))
                .values(paused=False, updated_ms=now_ms())
            ).rowcount
            if resumed:  # queue tasks refused while paused are gone: let the sweeper re-send
                conn.execute(
                    update(events)
                    .where(events.c.account == name, events.c.status == "queued")
                    .values(enqueued_ms=None)
                )
        return bool(resumed)

    def paused(self) -> dict[str, dict[str, Any]]:
        query = select(accounts).where(accounts.c.paused.is_(True))
        with self.engine.connect() as conn:
            return {row["name"]: dict(row) for row in conn.execute(query).mappings()}

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(select(accounts)).mappings()]
