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
    UniqueConstraint,
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
    Column("delivery_status", String(16)),  # Kaleyra's furthest report: sent … read, failed
    Column("waits", Boolean),  # the caller waits for the delivery status (HubSpot BLOCK)
)

Index("ix_lto_events_created", events.c.created_ms)
# the queue: an account's due events in order (claimed in batches by the workers)
Index("ix_lto_events_queue", events.c.status, events.c.account, events.c.next_attempt_ms)
Index("ix_lto_events_last4", events.c.recipient_last4, events.c.created_ms)
Index("ix_lto_events_message", events.c.message_id)  # delivery reports find their message

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

# --- delivery reports (connector/reports, connector/notify) ---------------------------------
# every status Kaleyra reported for a message, once each; ``forward`` when it moved the message
# on (sent < delivered < read; failed), so the platforms hear of it; ``fanned_out`` once the
# notifications it owes exist
statuses = Table(
    "lto_statuses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), ForeignKey("lto_events.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at_ms", BigInteger, nullable=False),  # when it happened (Kaleyra's timestamp)
    Column("error_code", String(40)),
    Column("error_reason", Text),
    Column("received_ms", BigInteger, nullable=False),
    Column("forward", Boolean, nullable=False),
    Column("fanned_out", Boolean, nullable=False),
    UniqueConstraint("event_id", "status", name="uq_lto_statuses_event_status"),
)
Index("ix_lto_statuses_fan_out", statuses.c.fanned_out, statuses.c.id)
Index("ix_lto_statuses_at", statuses.c.at_ms)

# a report whose message is not known yet (it can beat the send's own commit): kept, matched
# by its message id once the event has it
early_reports = Table(
    "lto_early_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("message_key", String(255), nullable=False),
    Column("report", JSON, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
)
Index("ix_lto_early_reports_key", early_reports.c.message_key)

# the outbox: one row per (message, platform target, status), delivered by the workers' notifier
notifications = Table(
    "lto_notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), ForeignKey("lto_events.id"), nullable=False),
    Column(
        "target", String(80), nullable=False
    ),  # clevertap, webengage, hubspot, webhook, zapier:<id>
    Column("status", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | gone | failed
    Column("attempts", Integer, nullable=False),
    Column("next_ms", BigInteger, nullable=False),
    Column("lease_until_ms", BigInteger),
    Column("last_error", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    UniqueConstraint("event_id", "target", "status", name="uq_lto_notifications_once"),
)
Index("ix_lto_notifications_due", notifications.c.state, notifications.c.next_ms)
Index("ix_lto_notifications_event", notifications.c.event_id)

# Zapier's REST hooks: a Zap's "Message status changed" trigger subscribed to a connection
zapier_hooks = Table(
    "lto_zapier_hooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("target_url", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)
Index("ix_lto_zapier_hooks_account", zapier_hooks.c.account)

# the OAuth tokens of each HubSpot portal that installed the app, encrypted (Fernet)
hubspot_tokens = Table(
    "lto_hubspot_tokens",
    metadata,
    Column("portal_id", BigInteger, primary_key=True, autoincrement=False),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)
