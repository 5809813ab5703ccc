"""Transactional email through the provider's HTTP API (LED-118).

Sending happens in a Celery task after the triggering transaction commits, with a 5 s timeout
(LED-194), EMAIL_POLICY retries (LED-154) and the provider's idempotency header set from the
outbox event id, so a retried task never mails twice.
"""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from ledgerline.core.config import get_settings
from ledgerline.db.models import Customer
from ledgerline.notifications.templates import RenderedEmail
from ledgerline.workers.retry import EMAIL_POLICY, retry_call


class EmailRejected(Exception):
    """The provider refused the message (4xx other than 429); retrying will not help."""


def send(message: RenderedEmail, idempotency_key: str) -> str:
    settings = get_settings()

    def _post() -> str:
        response = httpx.post(
            settings.email_api_url,
            json={"To": message.to, "Subject": message.subject, "HtmlBody": message.html, "TextBody": message.text},
            headers={"X-Postmark-Server-Token": settings.email_api_token, "Idempotency-Key": idempotency_key},
            timeout=settings.email_timeout_s,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise ConnectionError(f"email provider answered {response.status_code}")
        if response.status_code >= 400:
            raise EmailRejected(response.text[:200])
        return response.json()["MessageID"]

    return retry_call(_post, EMAIL_POLICY)


def enqueue(session: Session, message: RenderedEmail, idempotency_key: str) -> None:
    """Schedule ``send`` to run after the caller's commit."""
    from ledgerline.workers.celery_app import app

    session.info.setdefault("after_commit", []).append(
        lambda: app.send_task("ledgerline.email.send", kwargs={"message": message.__dict__, "key": idempotency_key})
    )


def handle_bounce(body: dict, token: str) -> None:
    """Hard bounces mark the customer's email undeliverable; reminders stop (LED-146)."""
    if body.get("Type") != "HardBounce":
        return
    from ledgerline.db.session import SessionLocal

    with SessionLocal() as session:  # provider webhook: tenant found from the customer row
        session.execute(update(Customer).where(Customer.email == body["Email"]).values(dunning_paused=True))
        session.commit()
