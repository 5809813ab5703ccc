"""Inbound webhooks: Stripe (LED-108) and email provider bounces (LED-146).

Public routes (no API key); authenticity comes from the signature. The handler records the
event and returns 2xx fast; slow work happens in consumers via the outbox.
"""

from __future__ import annotations

from fastapi import APIRouter, Header, Request

from ledgerline.notifications.email import handle_bounce
from ledgerline.payments.webhook_handler import handle_stripe_event, verify_signature

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("/stripe")
async def stripe_webhook(request: Request, stripe_signature: str = Header(..., alias="Stripe-Signature")) -> dict:
    payload = await request.body()
    event = verify_signature(payload, stripe_signature)  # ProblemError webhook.invalid_signature
    outcome = handle_stripe_event(event)
    return {"received": True, "outcome": outcome}


@router.post("/email")
async def email_webhook(request: Request, x_postmark_token: str = Header(...)) -> dict:
    body = await request.json()
    handle_bounce(body, token=x_postmark_token)
    return {"received": True}
