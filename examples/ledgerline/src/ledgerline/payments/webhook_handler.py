"""Stripe webhook verification and handling (LED-108, LED-167, LED-181, LED-198).

Exactly-once effect on at-least-once delivery:
1. verify the signature against every configured secret (rotation, LED-151/LED-205) with the
   tolerance measured on the injected UTC clock (LED-160);
2. in ONE transaction: insert (provider, event_id) into processed_webhook_events (unique),
   apply the state change, and write any follow-up work to the outbox;
3. a unique violation means the event was already handled: return "duplicate" with 200.
Nothing leaves the process before that transaction commits (no direct Celery ``delay``).
"""

from __future__ import annotations

import uuid

import stripe
from sqlalchemy.exc import IntegrityError

from ledgerline.api.errors import ProblemError
from ledgerline.core import clock
from ledgerline.core.config import get_settings
from ledgerline.db.models import ProcessedWebhookEvent
from ledgerline.events import outbox
from ledgerline.tenancy.context import TenantContext, tenant_scope
from ledgerline.tenancy.isolation import tenant_session

HANDLED = {"invoice.paid", "payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}


def _signed_at(header: str) -> int:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    return int(parts.get("t", "0"))


def verify_signature(payload: bytes, header: str) -> dict:
    settings = get_settings()
    # Tolerance on our injected UTC clock, not the SDK's time.time() default (LED-160).
    if abs(clock.now().timestamp() - _signed_at(header)) > settings.webhook_tolerance_s:
        raise ProblemError("webhook.invalid_signature", detail="timestamp outside tolerance")
    for secret in settings.stripe_webhook_secrets:  # newest first; the previous one stays during rotation
        try:
            return stripe.Webhook.construct_event(payload, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
    raise ProblemError("webhook.invalid_signature", detail="no configured secret matches")


def handle_stripe_event(event: dict) -> str:
    if event["type"] not in HANDLED:
        return "ignored"
    tenant_id = (event["data"]["object"].get("metadata") or {}).get("tenant_id")
    if tenant_id is None:
        return "ignored"  # not ours, or a tenant deleted since (LED-191)
    with tenant_scope(TenantContext(tenant_id=uuid.UUID(tenant_id))), tenant_session() as session:
        try:
            session.add(ProcessedWebhookEvent(provider="stripe", event_id=event["id"],
                                              tenant_id=uuid.UUID(tenant_id), processed_at=clock.now()))
            session.flush()
        except IntegrityError:
            session.rollback()
            return "duplicate"
        _apply(session, event)
        session.commit()
    return "processed"


def _apply(session, event: dict) -> None:
    obj = event["data"]["object"]
    invoice_id = uuid.UUID(obj["metadata"]["invoice_id"])
    if event["type"] in {"invoice.paid", "payment_intent.succeeded"}:
        from ledgerline.billing.invoices import transition

        transition(session, invoice_id, "paid")
    elif event["type"] == "charge.refunded":
        # Follow-ups (emails, ledger entries) go through the outbox, in this transaction.
        outbox.add(session, "invoice", invoice_id, "payment.refunded", {"stripe_charge": obj["id"], "amount": obj["amount_refunded"]})
    elif event["type"] == "payment_intent.payment_failed":
        outbox.add(session, "invoice", invoice_id, "payment.failed", {"stripe_intent": obj["id"]})
