"""Thin wrapper over the Stripe SDK (LED-111).

Every call has a timeout (10 s), an Idempotency-Key on POSTs and bounded, jittered retries
through ``workers.retry.STRIPE_POLICY`` (LED-209). Callers must not hold a DB transaction
open while calling these functions (ADR 0007, LED-174).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import stripe

from ledgerline.api.errors import stripe_problem
from ledgerline.core.config import get_settings
from ledgerline.db.models import Customer, Invoice
from ledgerline.workers.retry import STRIPE_POLICY, retry_call

_client = stripe.StripeClient(get_settings().stripe_api_key, http_client=stripe.HTTPXClient(timeout=get_settings().stripe_timeout_s), max_network_retries=0)


@dataclass(frozen=True)
class IntentRequest:
    amount_minor: int
    currency: str
    stripe_customer_id: str
    invoice_id: uuid.UUID
    tenant_id: uuid.UUID


def intent_request_for_invoice(session, invoice_id: uuid.UUID) -> IntentRequest:
    """Read what Stripe needs while the session is open; the call happens after."""
    invoice = session.get(Invoice, invoice_id)
    customer = session.get(Customer, invoice.customer_id)
    due = invoice.total_minor - invoice.amount_paid_minor
    return IntentRequest(due, invoice.currency.lower(), customer.stripe_customer_id, invoice.id, invoice.tenant_id)


def _post(fn, params: dict, idempotency_key: str) -> dict:
    try:
        return retry_call(lambda: fn(params=params, options={"idempotency_key": idempotency_key}), STRIPE_POLICY)
    except stripe.StripeError as exc:
        raise stripe_problem(getattr(exc, "code", None)) from exc


def create_payment_intent(req: IntentRequest, idempotency_key: str) -> dict:
    params = {"amount": req.amount_minor, "currency": req.currency, "customer": req.stripe_customer_id,
              "metadata": {"invoice_id": str(req.invoice_id), "tenant_id": str(req.tenant_id)}}
    return _post(_client.payment_intents.create, params, idempotency_key)


def charge_off_session(req: IntentRequest, idempotency_key: str) -> dict:
    params = {"amount": req.amount_minor, "currency": req.currency, "customer": req.stripe_customer_id,
              "off_session": True, "confirm": True,
              "metadata": {"invoice_id": str(req.invoice_id), "tenant_id": str(req.tenant_id)}}
    return _post(_client.payment_intents.create, params, idempotency_key)


def create_payment_link(req: IntentRequest, idempotency_key: str) -> dict:
    params = {"line_items": [{"price_data": {"currency": req.currency, "unit_amount": req.amount_minor,
              "product_data": {"name": f"Invoice {req.invoice_id}"}}, "quantity": 1}],
              "metadata": {"invoice_id": str(req.invoice_id), "tenant_id": str(req.tenant_id)}}
    return _post(_client.payment_links.create, params, idempotency_key)


def create_refund(payment_intent_id: str, amount_minor: int, idempotency_key: str) -> dict:
    return _post(_client.refunds.create, {"payment_intent": payment_intent_id, "amount": amount_minor}, idempotency_key)


def list_balance_transactions(created_gte: int, created_lt: int) -> list[dict]:
    params = {"created": {"gte": created_gte, "lt": created_lt}, "limit": 100}
    return list(retry_call(lambda: _client.balance_transactions.list(params=params), STRIPE_POLICY).auto_paging_iter())
