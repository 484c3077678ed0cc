"""Delivery reports: Kaleyra's statuses per message, the reports that came before their message,
what each platform is owed (the outbox), Zapier's hook subscriptions and HubSpot portals' tokens.
Events gain the message's delivery status and whether the caller waits for it (HubSpot BLOCK).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lto_events") as batch:
        batch.add_column(sa.Column("delivery_status", sa.String(16)))
        batch.add_column(sa.Column("waits", sa.Boolean))
    op.create_index("ix_lto_events_message", "lto_events", ["message_id"])
    op.create_table(
        "lto_statuses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), sa.ForeignKey("lto_events.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_reason", sa.Text),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
        sa.Column("forward", sa.Boolean, nullable=False),
        sa.Column("fanned_out", sa.Boolean, nullable=False),
        sa.UniqueConstraint("event_id", "status", name="uq_lto_statuses_event_status"),
    )
    op.create_index("ix_lto_statuses_fan_out", "lto_statuses", ["fanned_out", "id"])
    op.create_index("ix_lto_statuses_at", "lto_statuses", ["at_ms"])
    op.create_table(
        "lto_early_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("message_key", sa.String(255), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_lto_early_reports_key", "lto_early_reports", ["message_key"])
    op.create_table(
        "lto_notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), sa.ForeignKey("lto_events.id"), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_ms", sa.BigInteger, nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("delivered_ms", sa.BigInteger),
        sa.UniqueConstraint("event_id", "target", "status", name="uq_lto_notifications_once"),
    )
    op.create_index("ix_lto_notifications_due", "lto_notifications", ["state", "next_ms"])
    op.create_index("ix_lto_notifications_event", "lto_notifications", ["event_id"])
    op.create_table(
        "lto_zapier_hooks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("target_url", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_lto_zapier_hooks_account", "lto_zapier_hooks", ["account"])
    op.create_table(
        "lto_hubspot_tokens",
        sa.Column("portal_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("access_token", sa.Text, nullable=False),  # encrypted (Fernet)
        sa.Column("refresh_token", sa.Text, nullable=False),  # encrypted (Fernet)
        sa.Column("expires_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "lto_hubspot_tokens",
        "lto_zapier_hooks",
        "lto_notifications",
        "lto_early_reports",
        "lto_statuses",
    ):
        op.drop_table(table)
    op.drop_index("ix_lto_events_message", "lto_events")
    with op.batch_alter_table("lto_events") as batch:
        batch.drop_column("waits")
        batch.drop_column("delivery_status")
