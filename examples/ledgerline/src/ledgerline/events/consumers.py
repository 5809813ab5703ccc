"""Outbox consumers (LED-120). Delivery is at-least-once: each consumer records
(consumer, event_id) in ``consumed_events`` in the same transaction as its effect and skips
events it has seen (LED-212 fixed the refund email consumer that did not)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledgerline.core import clock
from ledgerline.notifications import email, templates

CONSUMERS: dict[str, list[str]] = {
    "invoice.finalized": ["send_invoice_email", "analytics"],
    "credit_note.issued": ["send_credit_note_email"],
    "refund.created": ["send_refund_email", "analytics"],
    "dunning.reminder_due": ["send_reminder_email"],
    "email.bounced": ["flag_customer_email"],
}


def first_time(session: Session, consumer: str, event_id: uuid.UUID) -> bool:
    inserted = session.execute(
        text("INSERT INTO consumed_events (consumer, event_id, consumed_at) VALUES (:c, :e, :t) ON CONFLICT DO NOTHING"),
        {"c": consumer, "e": event_id, "t": clock.now()},
    )
    return inserted.rowcount == 1


def dispatch(session: Session, event_id: uuid.UUID, event_type: str, payload: dict) -> None:
    for consumer in CONSUMERS.get(event_type, []):
        if not first_time(session, consumer, event_id):
            continue
        if consumer.startswith("send_"):
            kind = consumer.removeprefix("send_").removesuffix("_email")
            # The email itself is sent by a task after commit, keyed by event id (provider dedup).
            email.enqueue(session, templates.render(kind, payload), idempotency_key=f"{consumer}:{event_id}")
    session.commit()
