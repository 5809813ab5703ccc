"""Celery tasks. Each is small: load ids, call a domain function, commit (LED-113).

Rules: tenant-scoped tasks use ``base=TenantTask``; external calls happen after the DB work
commits; tasks are safe to run twice (acks_late means a crash re-runs them).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ledgerline.billing import dunning
from ledgerline.core import clock
from ledgerline.core.config import get_settings
from ledgerline.db.models import Customer, DunningStep, IdempotencyKey, Invoice
from ledgerline.db.session import SessionLocal
from ledgerline.events import outbox, publisher
from ledgerline.payments import reconciliation, stripe_client
from ledgerline.tenancy.isolation import tenant_session
from ledgerline.workers.celery_app import TenantTask, app


@app.task(name="ledgerline.outbox.publish")
def publish_outbox() -> int:
    return publisher.publish_batch()


@app.task(name="ledgerline.outbox.purge")
def purge_outbox() -> int:
    with SessionLocal() as session:
        return outbox.purge_published(session, get_settings().outbox_retention_days)


@app.task(name="ledgerline.idempotency.purge")
def purge_idempotency_keys() -> int:
    with SessionLocal() as session:
        deleted = session.query(IdempotencyKey).filter(IdempotencyKey.expires_at < clock.now()).delete()
        session.commit()
        return deleted


@app.task(name="ledgerline.dunning.run_due")
def run_due_dunning() -> int:
    if not get_settings().dunning_enabled:
        return 0
    with SessionLocal() as session:
        due = session.execute(select(DunningStep.id, DunningStep.tenant_id).where(
            DunningStep.status == "pending", DunningStep.due_at <= clock.now()).limit(500)).all()
    for step_id, tenant_id in due:
        run_dunning_step.delay(step_id=str(step_id), tenant_id=str(tenant_id))
    return len(due)


@app.task(name="ledgerline.dunning.step", base=TenantTask, bind=True)
def run_dunning_step(self, step_id: str, tenant_id: str) -> str:
    with tenant_session() as session:
        if not dunning.claim(session, uuid.UUID(step_id)):
            return "already-claimed"
        step = session.get(DunningStep, uuid.UUID(step_id))
        invoice = session.get(Invoice, step.invoice_id)
        customer = session.get(Customer, invoice.customer_id)
        if dunning.should_skip(invoice, customer):
            step.status = "skipped"
            session.commit()
            return "skipped"
        if step.kind == "reminder":
            outbox.add(session, "invoice", invoice.id, "dunning.reminder_due", {"step": step.step, "invoice_id": str(invoice.id)})
            step.status = "done"
            session.commit()
            return "reminder"
        request = stripe_client.intent_request_for_invoice(session, invoice.id)
    # Outside the transaction, with a stable idempotency key per (invoice, step) (LED-174, LED-187).
    stripe_client.charge_off_session(request, idempotency_key=dunning.charge_idempotency_key(invoice.id, step.step))
    with tenant_session() as session:
        session.get(DunningStep, uuid.UUID(step_id)).status = "done"
        session.commit()
    return "charged"


@app.task(name="ledgerline.reconciliation.nightly")
def nightly_reconciliation() -> bool:
    day = clock.today_utc().fromordinal(clock.today_utc().toordinal() - 1)
    return reconciliation.reconcile(day, local={}).clean
