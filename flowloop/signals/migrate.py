"""Bring a signals database to the newest schema, cheaply when it already is.

Opening the store sits on agent hook paths, so the common case is one small query: read the
version row and compare it with ``migrations.HEAD``. Alembic is imported and run only when the
database is behind, under the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL
advisory lock) so that two processes opening a fresh store at once migrate it exactly once.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from flowloop.errors import StoreError
from flowloop.signals import migrations
from flowloop.signals.db import WRITE, redact_url, with_retries
from flowloop.signals.schema import VERSION_TABLE

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
# Any constant works; it only has to be the same in every process that migrates.
_PG_LOCK_KEY = 0x666C6F77  # "flow"


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    row = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return row[0] if row else None


def ensure_schema(engine: sa.Engine) -> None:
    """Migrate ``engine``'s database to ``migrations.HEAD`` if it is behind."""
    try:
        with engine.connect() as conn:
            if current_revision(conn) == migrations.HEAD:
                return
        with_retries(lambda: _upgrade(engine))
    except sa.exc.OperationalError as exc:
        raise StoreError(
            f"cannot open the signals database {redact_url(str(engine.url))}: {exc.orig}",
            hint="check database_url / FLOW_DATABASE_URL and that the server is running",
        ) from exc


def _upgrade(engine: sa.Engine) -> None:
    from alembic import command
    from alembic.config import Config

    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        found = current_revision(conn)
        if found == migrations.HEAD:
            return  # another process migrated while we waited for the lock
        if found is not None and not _known(found):
            raise StoreError(
                f"the signals database is at schema revision {found!r}, newer than this flowloop knows",
                hint="upgrade flowloop (pip install -U flowloop) before using this database",
            )
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return any(rev.revision == revision for rev in script.walk_revisions())
