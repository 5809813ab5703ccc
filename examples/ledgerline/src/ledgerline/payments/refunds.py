"""Full and partial refunds (LED-136, LED-148, LED-196, LED-201).

Flow: lock the invoice and check the refundable amount (paid - refunded - pending refunds),
insert a pending Refund and commit; then call Stripe outside the transaction with an
idempotency key; then record the Stripe id and publish ``refund.created`` via the outbox
(LED-149). Refunds never exceed what was paid.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from ledgerline.api.errors import ProblemError
from ledgerline.billing.invoices import get as get_invoice
from ledgerline.core import clock
from ledgerline.db.models import Refund
from ledgerline.events import outbox
from ledgerline.payments import stripe_client
from ledgerline.tenancy.isolation import tenant_session


def refundable(session, invoice) -> int:
    taken = session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.invoice_id == invoice.id, Refund.status.in_(("pending", "succeeded"))))
    return invoice.amount_paid_minor - taken


def request_refund(invoice_id: uuid.UUID, amount_minor: int | None, reason: str | None, idempotency_key: str) -> Refund:
    with tenant_session() as session:
        invoice = get_invoice(session, invoice_id, for_update=True)
        available = refundable(session, invoice)
        amount = available if amount_minor is None else amount_minor
        if amount <= 0 or amount > available:
            raise ProblemError("refund.exceeds_refundable", detail=f"refundable is {available}", refundable=available)
        refund = Refund(invoice_id=invoice.id, amount_minor=amount, currency=invoice.currency,
                        reason=reason, status="pending", created_at=clock.now())
        session.add(refund)
        session.commit()
        payment_intent = invoice.number  # looked up from the payment record in the real code
    stripe_refund = stripe_client.create_refund(payment_intent, amount, idempotency_key=f"refund:{refund.id}")
    with tenant_session() as session:
        refund = session.get(Refund, refund.id)
        refund.stripe_refund_id, refund.status = stripe_refund["id"], "succeeded"
        outbox.add(session, "refund", refund.id, "refund.created", to_json(refund))
        session.commit()
    return refund


def to_json(refund: Refund) -> dict:
    return {"id": str(refund.id), "invoice_id": str(refund.invoice_id), "amount": refund.amount_minor,
            "currency": refund.currency, "status": refund.status, "reason": refund.reason}
