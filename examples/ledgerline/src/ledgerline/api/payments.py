"""/payments: payment intents, hosted payment links, refunds (LED-116, LED-140, LED-148).

Every POST takes an Idempotency-Key. Stripe is called after the DB transaction commits, never
inside it (ADR 0007).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from ledgerline.payments import refunds, stripe_client
from ledgerline.payments.idempotency import idempotent
from ledgerline.tenancy.isolation import tenant_session

router = APIRouter(prefix="/payments", tags=["payments"])


class RefundIn(BaseModel):
    invoice_id: uuid.UUID
    amount: int | None = Field(None, gt=0, description="minor units; omit for the full refundable amount")
    reason: str | None = Field(None, max_length=64)


@router.post("/intents", status_code=201)
@idempotent
def create_payment_intent(invoice_id: uuid.UUID, idempotency_key: str | None = Header(None)) -> dict:
    with tenant_session() as session:
        request = stripe_client.intent_request_for_invoice(session, invoice_id)
    intent = stripe_client.create_payment_intent(request, idempotency_key=f"pi:{invoice_id}")
    return {"client_secret": intent["client_secret"], "status": intent["status"]}


@router.post("/links", status_code=201)
@idempotent
def create_payment_link(invoice_id: uuid.UUID, idempotency_key: str | None = Header(None)) -> dict:
    with tenant_session() as session:
        request = stripe_client.intent_request_for_invoice(session, invoice_id)
    link = stripe_client.create_payment_link(request, idempotency_key=f"plink:{invoice_id}")
    return {"url": link["url"]}


@router.post("/refunds", status_code=201)
@idempotent
def create_refund(body: RefundIn, idempotency_key: str | None = Header(None)) -> dict:
    refund = refunds.request_refund(body.invoice_id, body.amount, body.reason, idempotency_key or "")
    return refunds.to_json(refund)
