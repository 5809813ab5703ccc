"""Write domain events in the same transaction as the state change (LED-117).

``add`` never commits: the caller's commit makes the state change and the event durable
together. Delivery is at-least-once, so every consumer must be idempotent (events/consumers.py).
Payloads carry ``schema_version`` (LED-193). Published rows are deleted after 7 days (LED-141).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ledgerline.core import clock
from ledgerline.db.models import OutboxEvent
from ledgerline.tenancy.context import current_tenant

SCHEMA_VERSIONS = {
    "invoice.finalized": 2, "invoice.paid": 1, "invoice.void": 1, "invoice.uncollectible": 1,
    "credit_note.issued": 1, "payment.failed": 1, "payment.refunded": 1, "refund.created": 1,
    "dunning.reminder_due": 1, "email.bounced": 1,
}


def add(session: Session, aggregate: str, aggregate_id: uuid.UUID, event_type: str, payload: dict) -> OutboxEvent:
    if event_type not in SCHEMA_VERSIONS:
        raise ValueError(f"unknown event type {event_type!r}; register it in SCHEMA_VERSIONS")
    event = OutboxEvent(
        id=uuid.uuid4(),
        tenant_id=current_tenant().tenant_id,
        aggregate=aggregate,
        aggregate_id=aggregate_id,
        event_type=event_type,
        schema_version=SCHEMA_VERSIONS[event_type],
        payload=payload,
        created_at=clock.now(),
    )
    session.add(event)
    return event


def purge_published(session: Session, retention_days: int) -> int:
    """Delete published rows older than the retention; uses ix_outbox_published_at (LED-217)."""
    cutoff = clock.now() - dt.timedelta(days=retention_days)
    result = session.execute(delete(OutboxEvent).where(OutboxEvent.published_at < cutoff))
    session.commit()
    return result.rowcount
