"""Dunning schedule rows, one per planned charge retry or reminder (LED-128).

Revision ID: 0004_dunning_schedule
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_dunning_schedule"
down_revision = "0003_outbox"


def upgrade() -> None:
    op.create_table(
        "dunning_schedule",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("invoice_id", "step", "kind"),
    )
    op.create_index(
        "ix_dunning_due", "dunning_schedule", ["due_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.add_column("invoices", sa.Column("due_at", sa.DateTime(timezone=True)))
    op.add_column(
        "invoices", sa.Column("amount_paid_minor", sa.BigInteger, nullable=False, server_default="0")
    )


def downgrade() -> None:
    op.drop_column("invoices", "amount_paid_minor")
    op.drop_column("invoices", "due_at")
    op.drop_table("dunning_schedule")
