"""Invoice lifecycle: draft -> finalized -> paid | void | uncollectible (ADR and LED-184).

Finalized invoices are immutable; corrections are credit notes (billing/credit_notes.py).
Every transition writes an outbox event in the same transaction (events/outbox.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerline.api.errors import ProblemError
from ledgerline.billing.line_items import build_line_items, invoice_totals
from ledgerline.core import clock
from ledgerline.db.models import Invoice, InvoiceSequence, LineItem
from ledgerline.events import outbox
from ledgerline.tenancy.context import current_tenant

TRANSITIONS: dict[str, set[str]] = {
    "draft": {"finalized", "void"},
    "finalized": {"paid", "void", "uncollectible"},
    "uncollectible": {"paid", "void"},
    "paid": set(),
    "void": set(),
}


def get(session: Session, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice:
    stmt = select(Invoice).where(Invoice.id == invoice_id)
    invoice = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if invoice is None:
        raise ProblemError("invoice.not_found", detail=str(invoice_id))
    return invoice


def create_draft(session: Session, customer_id: uuid.UUID, currency: str, items: list[dict]) -> Invoice:
    invoice = Invoice(customer_id=customer_id, currency=currency, status="draft", created_at=clock.now())
    session.add(invoice)
    session.flush()
    session.add_all(build_line_items(invoice, items))
    session.commit()
    return invoice


def next_invoice_number(session: Session) -> str:
    """Per-tenant gapless sequence row, locked through the tenant session (LED-135, LED-182)."""
    ctx = current_tenant()
    seq = session.get(InvoiceSequence, ctx.tenant_id, with_for_update=True)
    if seq is None:
        seq = InvoiceSequence(tenant_id=ctx.tenant_id, next_number=1)
        session.add(seq)
    number = seq.next_number
    seq.next_number += 1
    return f"{ctx.invoice_prefix}-{number:06d}"


def finalize(session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = get(session, invoice_id, for_update=True)
    if invoice.status != "draft":
        raise ProblemError("invoice.already_finalized", detail=f"status is {invoice.status}")
    items = session.scalars(select(LineItem).where(LineItem.invoice_id == invoice.id)).all()
    if not items:
        raise ProblemError("invoice.empty", detail="add a line item first")  # LED-156
    totals = invoice_totals(items, invoice.currency)
    invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor = (
        totals.subtotal.amount, totals.tax.amount, totals.total.amount,
    )
    invoice.number = next_invoice_number(session)
    invoice.status, invoice.finalized_at = "finalized", clock.now()
    outbox.add(session, "invoice", invoice.id, "invoice.finalized", to_json(invoice))
    session.commit()
    return invoice


def transition(session: Session, invoice_id: uuid.UUID, target: str) -> Invoice:
    invoice = get(session, invoice_id, for_update=True)
    if target not in TRANSITIONS[invoice.status]:
        raise ProblemError("invoice.invalid_transition", detail=f"{invoice.status} -> {target}")
    invoice.status = target
    # Every transition is an event, void included (LED-216).
    outbox.add(session, "invoice", invoice.id, f"invoice.{target}", to_json(invoice))
    session.commit()
    return invoice


def to_json(invoice: Invoice) -> dict:
    return {
        "id": str(invoice.id), "number": invoice.number, "status": invoice.status,
        "currency": invoice.currency,
        "subtotal": invoice.subtotal_minor, "tax": invoice.tax_minor, "total": invoice.total_minor,
        "amount_paid": invoice.amount_paid_minor,
    }
