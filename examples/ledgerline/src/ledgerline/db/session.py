"""Engine and the raw session factory.

Application code does not call ``SessionLocal`` directly: it uses
``tenancy.isolation.tenant_session()`` which applies the tenant filter. ``SessionLocal`` is for
migrations, the outbox publisher (which works across tenants on purpose) and admin scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from ledgerline.core.config import get_settings

engine = create_engine(
    get_settings().database_url,
    pool_size=10,
    max_overflow=5,
    pool_pre_ping=True,
    # Short server-side limits: a request must never wait minutes on a lock (LED-174).
    connect_args={"options": "-c lock_timeout=5000 -c idle_in_transaction_session_timeout=30000"},
)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit on success, roll back on error. Keep the block free of network calls."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def streaming_session() -> Iterator[Session]:
    """A session that outlives the request for streamed responses (LED-210).

    The caller owns it and closes it when the generator is exhausted or abandoned.
    """
    session = SessionLocal()
    try:
        yield session
    finally:
        session.close()
