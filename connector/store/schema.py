"""The connector's tables (SQLAlchemy Core; SQLite by default, PostgreSQL when configured).

``lto_events`` is the truth about every message and, through its status and due time, the
delivery queue itself; ``lto_attempts`` records each try at Kaleyra; ``lto_accounts`` holds
per-account state (paused, and why); ``lto_rate_slots`` each account's next free send slot.
These definitions are the schema at the newest migration (``migrations/versions/``): change
them only together with a new migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

events = Table(
    "lto_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("platform", String(40), nullable=False),
    Column("wa_source", String(16), nullable=False),
    Column("account", String(64), nullable=False, default="default"),
    Column("mode", String(8), nullable=False, default="sync"),  # sync | async
    Column("dedupe_key", String(512), nullable=False, unique=True),
    Column("fingerprint", String(64), nullable=False),
    Column("offer", JSON, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("message_id", String(128)),
    Column("error_kind", String(40)),
    Column("error_code", String(40)),
    Column("error_message", Text),
    Column("upstream_status", Integer),
    Column("retry_after", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sandbox", Boolean, nullable=False, default=False),
    Column("next_attempt_ms", BigInteger),  # queued: not before this time
    Column("lease_until_ms", BigInteger),  # leased/sending: the holder's lease
    Column("lease_owner", String(64)),  # leased/sending: the worker holding it
    Column("expires_ms", BigInteger),  # the offer's own end: never sent after it
    Column("platform_ref", String(512)),  # the platform's id for this delivery, as it sent it
    Column("recipient_last4", String(4)),  # the recipient's last four digits (search)
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

Index("ix_lto_events_created", events.c.created_ms)
# the queue: an account's due events in order (claimed in batches by the workers)
Index("ix_lto_events_queue", events.c.status, events.c.account, events.c.next_attempt_ms)
Index("ix_lto_events_last4", events.c.recipient_last4, events.c.created_ms)

attempts = Table(
    "lto_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), ForeignKey("lto_events.id"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("latency_ms", Float),
    Column("outcome", String(16), nullable=False),  # accepted | failed | uncertain
    Column("http_status", Integer),
    Column("kaleyra_code", String(40)),
    Column("error_kind", String(40)),
)

rate_slots = Table(
    "lto_rate_slots",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("next_ms", Float, nullable=False),  # the account's next free send slot
)

accounts = Table(
    "lto_accounts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("reason", Text),
    Column("paused_ms", BigInteger),
    Column("updated_ms", BigInteger, nullable=False),
)

# --- the operator console (connector/web/console) -------------------------------------------
# the key signing console sessions when CONNECTOR_SECRET_KEY is not set (one row, shared)
console_secrets = Table(
    "lto_console_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# failed sign-ins per client address: the limit holds across processes and hosts
console_failures = Table(
    "lto_console_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)
Index("ix_lto_console_failures_client", console_failures.c.client, console_failures.c.at_ms)

# a previewed offer kept server-side for an hour, so no page carries the recipient's number
console_drafts = Table(
    "lto_console_drafts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)
