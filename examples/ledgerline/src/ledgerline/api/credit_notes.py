"""/credit_notes: the only way to change what a finalized invoice is worth (LED-126)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from ledgerline.billing import credit_notes
from ledgerline.payments.idempotency import idempotent
from ledgerline.tenancy.isolation import tenant_session

router = APIRouter(prefix="/credit_notes", tags=["credit notes"])


class CreditNoteIn(BaseModel):
    invoice_id: uuid.UUID
    amount: int = Field(gt=0, description="minor units, in the invoice currency")
    reason: str = Field(pattern="^(duplicate|fraudulent|order_change|product_unsatisfactory|other)$")
    refund_to_card: bool = False


@router.post("", status_code=201)
@idempotent
def issue(body: CreditNoteIn, idempotency_key: str | None = Header(None)) -> dict:
    with tenant_session() as session:
        note = credit_notes.issue(session, body.invoice_id, body.amount, body.reason)
        result = credit_notes.to_json(note)
    if body.refund_to_card:
        # After commit: the refund calls Stripe (LED-148).
        credit_notes.refund_to_card(note, idempotency_key=f"cn-refund:{note.id}")
    return result
