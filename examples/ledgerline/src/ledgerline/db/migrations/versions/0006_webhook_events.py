"""processed_webhook_events: webhook deduplication moves from Redis to Postgres (LED-181, ADR 0008).

Revision ID: 0006_webhook_events
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_webhook_events"
down_revision = "0005_tenant_indexes"


def upgrade() -> None:
    op.create_table(
        "processed_webhook_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("tenant_id", sa.Uuid),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "event_id", name="uq_processed_webhook_event"),
    )


def downgrade() -> None:
    op.drop_table("processed_webhook_events")
