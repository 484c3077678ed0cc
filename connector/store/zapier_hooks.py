"""Zapier's REST hooks in the store: each "Message status changed" trigger a Zap subscribed.

A Zap turned on POSTs its hook URL (``performSubscribe``); the connector keeps it in
``lto_zapier_hooks`` under the caller's connection (its Kaleyra account name, which is what
``lto_events.account`` holds) and posts every status change of that connection's messages to it
until the Zap is turned off (``performUnsubscribe``) or Zapier answers 410. The Zap editor's
sample list (``performList``) reads the connection's recent status changes from
``lto_statuses`` joined with ``lto_events``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from .engine import Database
from .events import Event, now_ms
from .schema import events, statuses, zapier_hooks

HOOK_ID = re.compile(r"hk_[0-9a-f]{32}")  # what ``add`` issues; nothing else is looked up


def new_hook_id() -> str:
    return "hk_" + uuid.uuid4().hex


def is_hook_id(text: str) -> bool:
    """An id this store could have issued: anything else (a NUL PostgreSQL refuses in a
    query, 300 characters ...) is unknown without a query."""
    return HOOK_ID.fullmatch(text) is not None


def hooks_by_account(db: Database | Engine) -> dict[str, list[str]]:
    """Every subscription's id, by account, oldest first: ``FanOut.zapier_hooks``. One small
    query over a table with a row per active Zap. Give the store's ``Database`` (its reader:
    on SQLite the writer engine would begin an IMMEDIATE transaction) or any engine."""
    query = select(zapier_hooks.c.account, zapier_hooks.c.id).order_by(
        zapier_hooks.c.created_ms, zapier_hooks.c.id
    )
    out: dict[str, list[str]] = {}
    with db.read() if isinstance(db, Database) else db.connect() as conn:
        for account, hook_id in conn.execute(query):
            out.setdefault(str(account), []).append(str(hook_id))
    return out


class ZapierHooks:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, account: str, target_url: str) -> str:
        hook_id = new_hook_id()
        with self.db.write() as conn:
            conn.execute(
                insert(zapier_hooks).values(
                    id=hook_id, account=account, target_url=target_url, created_ms=now_ms()
                )
            )
        return hook_id

    def remove(self, hook_id: str, account: str | None = None) -> bool:
        """Delete the subscription (only ``account``'s, when given); False when there was none."""
        if not is_hook_id(hook_id):
            return False
        query = delete(zapier_hooks).where(zapier_hooks.c.id == hook_id)
        if account is not None:
            query = query.where(zapier_hooks.c.account == account)
        with self.db.write() as conn:
            return bool(conn.execute(query).rowcount)

    def target_url(self, hook_id: str) -> str | None:
        """Where the subscription posts, or None once it was deleted."""
        if not is_hook_id(hook_id):
            return None
        query = select(zapier_hooks.c.target_url).where(zapier_hooks.c.id == hook_id)
        with self.db.read() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def recent_changes(self, account: str, limit: int) -> list[tuple[Event, dict[str, Any]]]:
        """The account's latest status changes (those that moved a message on), newest first:
        each as its event and its ``lto_statuses`` row."""
        query = (
            select(
                events,
                statuses.c.status.label("s_status"),
                statuses.c.at_ms.label("s_at_ms"),
                statuses.c.error_code.label("s_error_code"),
                statuses.c.error_reason.label("s_error_reason"),
            )
            .join(statuses, statuses.c.event_id == events.c.id)
            .where(events.c.account == account, statuses.c.forward.is_(True))
            .order_by(statuses.c.at_ms.desc(), statuses.c.id.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            (
                Event.from_row(row),
                {
                    "status": row["s_status"],
                    "at_ms": int(row["s_at_ms"]),
                    "error_code": row["s_error_code"],
                    "error_reason": row["s_error_reason"],
                },
            )
            for row in rows
        ]
