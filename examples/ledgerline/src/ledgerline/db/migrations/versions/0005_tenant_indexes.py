"""Composite (tenant_id, created_at, id) indexes for the keyset-paginated lists (LED-134).

Built CONCURRENTLY outside the migration transaction: the first attempt without it locked
``invoices`` for writes during the deploy (see the cumulative note on migration locks).

Revision ID: 0005_tenant_indexes
"""

from alembic import op

revision = "0005_tenant_indexes"
down_revision = "0004_dunning_schedule"

INDEXES = {
    "ix_invoices_tenant_page": ("invoices", ["tenant_id", "created_at", "id"]),
    "ix_customers_tenant_page": ("customers", ["tenant_id", "created_at", "id"]),
    "ix_credit_notes_tenant_page": ("credit_notes", ["tenant_id", "created_at", "id"]),
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, (table, columns) in INDEXES.items():
            op.create_index(name, table, columns, postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, (table, _) in INDEXES.items():
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
