"""Credit notes table (LED-114). Finalized invoices are corrected by credit notes, not edits.

Revision ID: 0002_credit_notes
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_credit_notes"
down_revision = "0001_initial"


def upgrade() -> None:
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name="credit_note_positive"),
    )
    op.create_index("ix_credit_notes_invoice", "credit_notes", ["tenant_id", "invoice_id"])


def downgrade() -> None:
    op.drop_table("credit_notes")
