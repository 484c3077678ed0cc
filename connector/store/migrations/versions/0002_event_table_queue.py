"""The event table is the delivery queue (no second queue): workers claim an account's due events
in batches by (status, account, next_attempt_ms) and hold them under a lease with an owner. Each
event keeps its offer's expiry (never sent after it), the platform's own delivery id and the
recipient's last four digits. ``enqueued_ms`` (the old queue's bookkeeping) goes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BACKFILL = {
    "sqlite": """
        UPDATE lto_events SET
          expires_ms = json_extract(offer, '$.expiration_ms'),
          recipient_last4 = substr(json_extract(offer, '$.to'), -4),
          platform_ref = CASE WHEN instr(dedupe_key, ':delivery:') > 0
                              THEN substr(dedupe_key, instr(dedupe_key, ':delivery:') + 10) END
    """,
    "postgresql": """
        UPDATE lto_events SET
          expires_ms = (offer->>'expiration_ms')::bigint,
          recipient_last4 = right(offer->>'to', 4),
          platform_ref = CASE WHEN strpos(dedupe_key, ':delivery:') > 0
                              THEN substr(dedupe_key, strpos(dedupe_key, ':delivery:') + 10) END
    """,
}


def upgrade() -> None:
    with op.batch_alter_table("lto_events") as table:
        table.add_column(sa.Column("lease_owner", sa.String(64)))
        table.add_column(sa.Column("expires_ms", sa.BigInteger))
        table.add_column(sa.Column("platform_ref", sa.String(512)))
        table.add_column(sa.Column("recipient_last4", sa.String(4)))
        table.drop_column("enqueued_ms")
        table.drop_index("ix_lto_events_due")
        table.create_index(
            "ix_lto_events_queue", ["status", "account", "next_attempt_ms"], unique=False
        )
        table.create_index("ix_lto_events_last4", ["recipient_last4", "created_ms"], unique=False)
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("lto_events") as table:
        table.drop_index("ix_lto_events_last4")
        table.drop_index("ix_lto_events_queue")
        table.create_index("ix_lto_events_due", ["status", "next_attempt_ms"], unique=False)
        table.add_column(sa.Column("enqueued_ms", sa.BigInteger))
        for name in ("recipient_last4", "platform_ref", "expires_ms", "lease_owner"):
            table.drop_column(name)
