"""Credit notes: corrections to finalized invoices without editing them (LED-126, LED-143).

A credit note never exceeds the invoice's remaining balance (total - credited - refunded,
LED-169). It reduces what the customer owes; if the invoice was paid it becomes customer
balance, or a card refund when requested (LED-148).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerline.api.errors import ProblemError
from ledgerline.billing.invoices import get as get_invoice
from ledgerline.core import clock
from ledgerline.db.models import CreditNote, Refund
from ledgerline.events import outbox

CREDITABLE = {"finalized", "paid", "uncollectible"}


def remaining_balance(session: Session, invoice_id: uuid.UUID, total_minor: int) -> int:
    credited = session.scalar(select(func.coalesce(func.sum(CreditNote.amount_minor), 0)).where(CreditNote.invoice_id == invoice_id))
    refunded = session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(Refund.invoice_id == invoice_id, Refund.status != "failed"))
    return total_minor - credited - refunded


def issue(session: Session, invoice_id: uuid.UUID, amount_minor: int, reason: str) -> CreditNote:
    invoice = get_invoice(session, invoice_id, for_update=True)
    if invoice.status not in CREDITABLE:
        raise ProblemError("credit_note.invoice_not_creditable", detail=f"status is {invoice.status}")
    if amount_minor > remaining_balance(session, invoice.id, invoice.total_minor):
        raise ProblemError("credit_note.exceeds_balance", detail="see remaining balance on the invoice")
    note = CreditNote(invoice_id=invoice.id, amount_minor=amount_minor, currency=invoice.currency,
                      reason=reason, created_at=clock.now())
    session.add(note)
    session.flush()
    outbox.add(session, "credit_note", note.id, "credit_note.issued", to_json(note))
    session.commit()
    return note


def refund_to_card(note: CreditNote, idempotency_key: str) -> None:
    from ledgerline.payments.refunds import request_refund  # avoid an import cycle

    request_refund(note.invoice_id, note.amount_minor, "credit_note", idempotency_key)


def to_json(note: CreditNote) -> dict:
    return {"id": str(note.id), "invoice_id": str(note.invoice_id),
            "amount": note.amount_minor, "currency": note.currency, "reason": note.reason}
