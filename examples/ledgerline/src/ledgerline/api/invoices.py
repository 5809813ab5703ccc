"""/invoices: create drafts, list, finalize, void, mark uncollectible (LED-101, LED-132)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field
from sqlalchemy import select

from ledgerline.api.pagination import paginate
from ledgerline.billing import invoices as billing
from ledgerline.db.models import Invoice
from ledgerline.payments.idempotency import idempotent
from ledgerline.tenancy.isolation import tenant_session

router = APIRouter(prefix="/invoices", tags=["invoices"])


class LineItemIn(BaseModel):
    description: str = Field(max_length=500)
    quantity: int = Field(gt=0)
    unit_amount: int = Field(description="minor units")
    tax_rate_bp: int = Field(0, ge=0, le=10_000)


class InvoiceIn(BaseModel):
    customer_id: uuid.UUID
    currency: str = Field(pattern="^[A-Z]{3}$")
    line_items: list[LineItemIn] = []


@router.post("", status_code=201)
@idempotent
def create_invoice(body: InvoiceIn, idempotency_key: str | None = Header(None)) -> dict:
    with tenant_session() as session:
        invoice = billing.create_draft(session, body.customer_id, body.currency, [i.model_dump() for i in body.line_items])
        return billing.to_json(invoice)


@router.get("")
def list_invoices(
    cursor: str | None = None, limit: int | None = None, status: str | None = None, customer_id: uuid.UUID | None = None
) -> dict:
    with tenant_session() as session:
        stmt = select(Invoice)
        if status:
            stmt = stmt.where(Invoice.status == status)
        if customer_id:
            stmt = stmt.where(Invoice.customer_id == customer_id)
        page = paginate(session, stmt, Invoice, cursor, limit)
        page.data = [billing.to_json(i) for i in page.data]
        return page.as_json()


@router.post("/{invoice_id}/finalize")
@idempotent
def finalize(invoice_id: uuid.UUID, idempotency_key: str | None = Header(None)) -> dict:
    with tenant_session() as session:
        return billing.to_json(billing.finalize(session, invoice_id))


@router.post("/{invoice_id}/void")
def void(invoice_id: uuid.UUID) -> dict:
    with tenant_session() as session:
        return billing.to_json(billing.transition(session, invoice_id, "void"))


@router.post("/{invoice_id}/mark-uncollectible")
def mark_uncollectible(invoice_id: uuid.UUID) -> dict:
    with tenant_session() as session:
        return billing.to_json(billing.transition(session, invoice_id, "uncollectible"))
