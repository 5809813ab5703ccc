"""Refund reason and free-form metadata (LED-201).

Revision ID: 0008_refund_reason
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_refund_reason"
down_revision = "0007_refunds"


def upgrade() -> None:
    # Nullable with no default: adding the column is a catalog-only change, no table rewrite.
    op.add_column("refunds", sa.Column("reason", sa.String(64)))
    op.add_column("refunds", sa.Column("metadata_json", sa.JSON))


def downgrade() -> None:
    op.drop_column("refunds", "metadata_json")
    op.drop_column("refunds", "reason")
