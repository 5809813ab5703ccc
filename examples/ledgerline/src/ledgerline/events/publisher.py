"""Publish outbox rows to Celery, run every 2 s by beat (LED-117, LED-164, ADR 0009).

Rows are locked with ``FOR UPDATE SKIP LOCKED`` so two overlapping beat runs never publish the
same row (LED-164). This is the one cross-tenant reader besides migrations, so it uses
``SessionLocal`` directly. Polling stays: LISTEN/NOTIFY was tried and reverted (LED-189/190).
"""

from __future__ import annotations

from sqlalchemy import select

from ledgerline.core import clock
from ledgerline.core.config import get_settings
from ledgerline.db.models import OutboxEvent
from ledgerline.db.session import SessionLocal
from ledgerline.workers.celery_app import app


def publish_batch() -> int:
    batch = get_settings().outbox_batch_size
    with SessionLocal() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            # Broker send is local (Redis) and fast; the rows stay locked until commit.
            app.send_task(
                "ledgerline.events.consume",
                kwargs={"event_id": str(row.id), "tenant_id": str(row.tenant_id), "event_type": row.event_type,
                        "schema_version": row.schema_version, "payload": row.payload},
                queue="events",
            )
            row.published_at = clock.now()
        session.commit()
    return len(rows)
