"""Alembic environment: runs on the connection ``flowloop.signals.migrate`` hands over.

That connection is already inside a transaction holding the store's write lock (SQLite
``BEGIN IMMEDIATE``, PostgreSQL advisory lock), so concurrent first opens never race; Alembic
joins the transaction instead of opening its own.
"""

from __future__ import annotations

from alembic import context

from flowloop.signals.schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table=VERSION_TABLE,
    # SQLite DDL is transactional too; Alembic's default for it is off.
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
