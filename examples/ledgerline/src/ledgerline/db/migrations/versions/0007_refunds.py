"""Refunds table (LED-136).

Revision ID: 0007_refunds
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_refunds"
down_revision = "0006_webhook_events"


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("stripe_refund_id", sa.String(64), unique=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name="refund_positive"),
    )
    op.create_index("ix_refunds_invoice", "refunds", ["tenant_id", "invoice_id"])


def downgrade() -> None:
    op.drop_table("refunds")
