"""The store as release 0.1.0 created it (before migrations): events, attempts, rate slots,
accounts. A database that release filled is stamped at this revision by ``db upgrade``.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lto_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("wa_source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("dedupe_key", sa.String(512), nullable=False, unique=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("offer", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("error_kind", sa.String(40)),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_message", sa.Text),
        sa.Column("upstream_status", sa.Integer),
        sa.Column("retry_after", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sandbox", sa.Boolean, nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger),
        sa.Column("lease_until_ms", sa.BigInteger),
        sa.Column("enqueued_ms", sa.BigInteger),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_lto_events_created", "lto_events", ["created_ms"])
    op.create_index("ix_lto_events_due", "lto_events", ["status", "next_attempt_ms"])
    op.create_table(
        "lto_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), sa.ForeignKey("lto_events.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("latency_ms", sa.Float),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("kaleyra_code", sa.String(40)),
        sa.Column("error_kind", sa.String(40)),
    )
    op.create_index("ix_lto_attempts_event_id", "lto_attempts", ["event_id"])
    op.create_table(
        "lto_rate_slots",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("next_ms", sa.Float, nullable=False),
    )
    op.create_table(
        "lto_accounts",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("paused_ms", sa.BigInteger),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("lto_accounts", "lto_rate_slots", "lto_attempts", "lto_events"):
        op.drop_table(table)
