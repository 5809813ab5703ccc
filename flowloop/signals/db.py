"""Connections to the signals database: which URL, how SQLite is tuned, when to retry.

SQLite (the default, ``.flow/state/signals.db``) runs in WAL mode with a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock up
front instead of failing when they upgrade a read lock. PostgreSQL goes through psycopg 3. A
write that still loses a lock race (SQLite busy, PostgreSQL deadlock or serialization failure)
is retried: each batch is one transaction, so a retry can never store half of it twice.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url

from flowloop.errors import StoreError

T = TypeVar("T")

# Execution option that makes the SQLite "begin" hook emit BEGIN IMMEDIATE.
WRITE = {"flowloop_write": True}
# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock.
_PG_RETRY = {"40001", "40P01"}


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 (psycopg2 is not a dependency)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages and stats."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


def create_engine(url: str, busy_timeout_ms: int = 30_000) -> sa.Engine:
    """An engine for ``url`` (SQLite file or PostgreSQL), tuned for concurrent writers."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(
            f"cannot parse the database URL {url!r}",
            field="database_url",
            hint="use postgresql+psycopg://user:pass@host/db or sqlite:///path/signals.db",
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, busy_timeout_ms)
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg_async"):
            raise StoreError(
                f"PostgreSQL driver {parsed.get_driver_name()!r} is not supported",
                field="database_url",
                hint="use a postgresql+psycopg:// URL (psycopg 3)",
            )
        return sa.create_engine(url, pool_size=2, max_overflow=2)
    raise StoreError(
        f"unsupported database {backend!r} in {redact_url(url)}",
        field="database_url",
        hint="the signals store supports SQLite and PostgreSQL",
    )


def _sqlite_engine(url: str, busy_timeout_ms: int) -> sa.Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver must not open transactions by itself: the "begin" hook below does.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("flowloop_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def is_transient(exc: sa.exc.DBAPIError) -> bool:
    """A lock race another attempt can win (not a constraint or syntax problem)."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_RETRY:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def with_retries(work: Callable[[], T], attempts: int = 20) -> T:
    """Run ``work`` (one whole transaction), retrying transient lock failures with backoff."""
    delay = 0.005
    for attempt in range(attempts):
        try:
            return work()
        except sa.exc.DBAPIError as exc:
            if not is_transient(exc) or attempt == attempts - 1:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")
