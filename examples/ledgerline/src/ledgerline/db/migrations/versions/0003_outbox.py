"""Transactional outbox table (LED-117, ADR 0005).

Revision ID: 0003_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_outbox"
down_revision = "0002_credit_notes"


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("aggregate", sa.String(32), nullable=False),
        sa.Column("aggregate_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    # The publisher scans unpublished rows in creation order.
    op.create_index(
        "ix_outbox_unpublished",
        "outbox_events",
        ["created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "consumed_events",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consumed_events")
    op.drop_table("outbox_events")
