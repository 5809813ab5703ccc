"""The ``events`` table as SQLAlchemy Core sees it at run time.

Migrations (``migrations/versions``) create and evolve the table; this module only describes
its current shape for queries and inserts. Common event fields are columns (filtered and
indexed); everything kind-specific lives in one JSON ``payload`` column, so a new event kind
needs no migration. Timestamps are stored in UTC: naive on SQLite (which sorts them as text)
and ``timestamptz`` on PostgreSQL; both come back as aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

VERSION_TABLE = "flowloop_alembic_version"


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every dialect."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(dt.timezone.utc)
        # SQLite keeps text; dropping the offset keeps every stored value in one sortable form.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("id", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("task", sa.Text()),
    sa.Column("session", sa.Text()),
    sa.Column("actor", sa.Text()),
    sa.Column("repo_commit", sa.Text()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("idempotency_key", sa.Text(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("schema_version", sa.Integer(), nullable=False),
    sa.Column("payload", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    sa.Column("stored_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("idempotency_key", name="uq_events_idempotency_key"),
)

# The common fields of an event that are columns (everything else goes to ``payload``).
COMMON_COLUMNS = (
    "id",
    "kind",
    "task",
    "session",
    "actor",
    "repo_commit",
    "created_at",
    "idempotency_key",
    "source",
    "schema_version",
)
