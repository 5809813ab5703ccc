"""/customers: CRUD, balance, dunning pause (LED-107, LED-143, LED-147).

Another tenant's customer is a 404 ``customer.not_found``, never a 403: a 403 would confirm
the id exists (LED-168). Archived customers are excluded from lists (LED-208).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Header
from pydantic import BaseModel, EmailStr
from sqlalchemy import select

from ledgerline.api.errors import ProblemError
from ledgerline.api.pagination import paginate
from ledgerline.db.models import Customer
from ledgerline.payments.idempotency import idempotent
from ledgerline.tenancy.isolation import tenant_session

router = APIRouter(prefix="/customers", tags=["customers"])


class CustomerIn(BaseModel):
    email: EmailStr
    name: str


def _json(c: Customer) -> dict:
    return {
        "id": str(c.id), "email": c.email, "name": c.name,
        "balance": {"amount": c.balance_minor, "currency": None}, "dunning_paused": c.dunning_paused,
    }


def _get(session, customer_id: uuid.UUID) -> Customer:
    customer = session.scalars(select(Customer).where(Customer.id == customer_id)).one_or_none()
    if customer is None:
        raise ProblemError("customer.not_found", detail=str(customer_id))
    return customer


@router.post("", status_code=201)
@idempotent
def create_customer(body: CustomerIn, idempotency_key: str | None = Header(None)) -> dict:
    with tenant_session() as session:
        customer = Customer(email=body.email, name=body.name)
        session.add(customer)
        session.commit()
        return _json(customer)


@router.get("")
def list_customers(cursor: str | None = None, limit: int | None = None) -> dict:
    with tenant_session() as session:
        stmt = select(Customer).where(Customer.archived_at.is_(None))
        page = paginate(session, stmt, Customer, cursor, limit)
        page.data = [_json(c) for c in page.data]
        return page.as_json()


@router.post("/{customer_id}/dunning/pause")
def pause_dunning(customer_id: uuid.UUID) -> dict:
    with tenant_session() as session:
        customer = _get(session, customer_id)
        customer.dunning_paused = True
        session.commit()
        return _json(customer)
