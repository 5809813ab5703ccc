"""Dunning: scheduled charge retries and reminder emails for unpaid invoices (LED-131).

Steps are rows in ``dunning_schedule``; a beat task claims due rows with a conditional UPDATE
(pending -> claimed) so a restarted worker cannot send the same reminder twice (LED-176).
Stripe is called after the claim commits, with an idempotency key per (invoice, step)
(LED-174, LED-187). Days are counted in UTC from ``due_at`` (LED-204).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from ledgerline.core import clock
from ledgerline.db.models import Customer, DunningStep, Invoice

# (days after due, kind). Charges retry on day 3, 7 and 14; reminders precede them.
SCHEDULE: list[tuple[int, str]] = [(1, "reminder"), (3, "charge"), (6, "reminder"), (7, "charge"), (13, "reminder"), (14, "charge")]


def plan(invoice: Invoice) -> list[DunningStep]:
    assert invoice.due_at is not None
    return [
        DunningStep(invoice_id=invoice.id, tenant_id=invoice.tenant_id, step=i, kind=kind,
                    due_at=invoice.due_at + dt.timedelta(days=days), created_at=clock.now())
        for i, (days, kind) in enumerate(SCHEDULE)
    ]


def claim(session: Session, step_id: uuid.UUID) -> bool:
    """True if this worker won the step; commit before doing anything external."""
    result = session.execute(
        update(DunningStep).where(DunningStep.id == step_id, DunningStep.status == "pending").values(status="claimed")
    )
    session.commit()
    return result.rowcount == 1


def should_skip(invoice: Invoice, customer: Customer) -> bool:
    """Voided, paid or written-off invoices and paused customers get no more dunning (LED-183, LED-147)."""
    return invoice.status != "finalized" or customer.dunning_paused


def charge_idempotency_key(invoice_id: uuid.UUID, step: int) -> str:
    return f"dunning:{invoice_id}:{step}"
