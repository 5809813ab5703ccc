"""Index outbox rows on published_at so the retention task stops scanning the table (LED-217).

Revision ID: 0009_outbox_published_index
"""

from alembic import op

revision = "0009_outbox_published_index"
down_revision = "0008_refund_reason"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_outbox_published_at",
            "outbox_events",
            ["published_at"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_outbox_published_at", table_name="outbox_events", postgresql_concurrently=True)
