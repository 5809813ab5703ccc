"""Shared fixtures: a real PostgreSQL database per session, a frozen UTC clock, two tenants.

Conventions (see the testing conventions doc): no mocks of our own modules; Stripe and the
email provider are faked at the HTTP boundary with recorded fixtures; time only moves through
the ``clock`` fixture.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient

from ledgerline.api.app import create_app
from ledgerline.core.clock import FrozenClock, reset_clock, use_clock
from ledgerline.tenancy.context import TenantContext, tenant_scope

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    frozen = FrozenClock(T0)
    token = use_clock(frozen)
    yield frozen
    reset_clock(token)


@pytest.fixture
def tenant_a() -> TenantContext:
    return TenantContext(tenant_id=uuid.UUID("00000000-0000-0000-0000-00000000000a"), default_currency="EUR")


@pytest.fixture
def tenant_b() -> TenantContext:
    return TenantContext(tenant_id=uuid.UUID("00000000-0000-0000-0000-00000000000b"), default_currency="SEK")


@pytest.fixture
def as_tenant(tenant_a):
    with tenant_scope(tenant_a):
        yield tenant_a


@pytest.fixture
def api(clock) -> TestClient:
    return TestClient(create_app(), headers={"Authorization": "Bearer ll_test_tenant_a"})


@pytest.fixture
def api_b(clock) -> TestClient:
    return TestClient(create_app(), headers={"Authorization": "Bearer ll_test_tenant_b"})


def make_invoice(api: TestClient, *, amount: int = 10_000, currency: str = "EUR", finalize: bool = True) -> dict:
    customer = api.post("/customers", json={"email": "ap@example.com", "name": "Acme AB"}).json()
    invoice = api.post("/invoices", json={"customer_id": customer["id"], "currency": currency, "line_items": [
        {"description": "Plan", "quantity": 1, "unit_amount": amount, "tax_rate_bp": 2500}]}).json()
    if finalize:
        invoice = api.post(f"/invoices/{invoice['id']}/finalize").json()
    return invoice


@pytest.fixture
def invoice_factory(api):
    return lambda **kw: make_invoice(api, **kw)


@pytest.fixture
def outbox_rows(as_tenant):
    from sqlalchemy import select

    from ledgerline.db.models import OutboxEvent
    from ledgerline.tenancy.isolation import tenant_session

    def rows():
        with tenant_session() as session:
            return session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)).all()

    return rows


class FakeStripe:
    """Stripe's HTTP API faked at the network boundary (respx), answering from recordings."""

    def __init__(self, router) -> None:
        self.router, self.requests, self._transactions = router, [], []
        router.route(host="api.stripe.com").mock(side_effect=self._answer)

    def _answer(self, request):
        import httpx

        self.requests.append(request)
        if request.url.path == "/v1/balance_transactions":
            return httpx.Response(200, json={"object": "list", "data": self._transactions, "has_more": False})
        return httpx.Response(200, json={"id": "pi_test", "client_secret": "secret", "status": "succeeded",
                                         "url": "https://buy.stripe.com/test"})

    @property
    def last_request(self):
        return self.requests[-1]

    def calls(self, path: str) -> int:
        return sum(r.url.path == path for r in self.requests)

    def balance_transactions(self, rows: list[dict]) -> None:
        self._transactions = rows

    def timeout_next(self, path: str, times: int) -> None:
        import httpx

        self.router.route(host="api.stripe.com", path=path).mock(side_effect=[httpx.ReadTimeout("t")] * times)

    def decline_next(self, code: str) -> None:
        import httpx

        self.router.route(host="api.stripe.com").mock(return_value=httpx.Response(402, json={"error": {"code": code}}))


@pytest.fixture
def stripe_fake(respx_mock) -> FakeStripe:
    return FakeStripe(respx_mock)


@pytest.fixture
def signed_event(clock):
    """Build a Stripe webhook payload and a valid Stripe-Signature header for it."""
    import hashlib
    import hmac
    import json

    def build(event_type: str, obj: dict, event_id: str = "evt_test_1", secret: str = "whsec_test_current"):
        payload = json.dumps({"id": event_id, "type": event_type, "created": int(clock.now().timestamp()),
                              "data": {"object": obj}}).encode()
        ts = int(clock.now().timestamp())
        sig = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
        return payload, f"t={ts},v1={sig}"

    return build


@pytest.fixture
def mark_paid(api, signed_event):
    def pay(invoice_id: str) -> None:
        obj = {"id": f"pi_{invoice_id[:8]}", "metadata": {"invoice_id": invoice_id, "tenant_id": "00000000-0000-0000-0000-00000000000a"}}
        payload, header = signed_event("invoice.paid", obj, event_id=f"evt_{invoice_id}")
        api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})

    return pay


@pytest.fixture
def email_outbox(respx_mock) -> list:
    """Every email the provider would have sent, in order."""
    import httpx

    sent: list = []
    respx_mock.post("https://api.postmark.example/email").mock(
        side_effect=lambda request: sent.append(request) or httpx.Response(200, json={"MessageID": str(len(sent))})
    )
    return sent


@pytest.fixture
def email_provider_down(respx_mock):
    import httpx

    route = respx_mock.post("https://api.postmark.example/email").mock(return_value=httpx.Response(503))
    return type("Down", (), {"calls": property(lambda _: route.call_count)})()


@pytest.fixture
def celery_sent(monkeypatch) -> list:
    from ledgerline.workers.celery_app import app

    sent: list = []
    monkeypatch.setattr(app, "send_task", lambda name, **kw: sent.append((name, kw)))
    return sent


@pytest.fixture
def db_session(as_tenant):
    from ledgerline.tenancy.isolation import tenant_session

    with tenant_session() as session:
        yield session


def _step(db_session, invoice_factory, clock, kind: str):
    import uuid as _uuid

    from ledgerline.db.models import DunningStep

    invoice = invoice_factory()
    step = DunningStep(invoice_id=_uuid.UUID(invoice["id"]), step=0 if kind == "reminder" else 1, kind=kind,
                       due_at=clock.now(), status="pending", created_at=clock.now())
    db_session.add(step)
    db_session.commit()
    return step


@pytest.fixture
def dunning_step(db_session, invoice_factory, clock):
    return _step(db_session, invoice_factory, clock, "reminder")


@pytest.fixture
def charge_step(db_session, invoice_factory, clock):
    return _step(db_session, invoice_factory, clock, "charge")


@pytest.fixture
def finalized_event(invoice_factory, outbox_rows):
    invoice_factory()
    return outbox_rows()[-1]


@pytest.fixture
def refund_event(api, invoice_factory, mark_paid, stripe_fake, outbox_rows):
    invoice = invoice_factory()
    mark_paid(invoice["id"])
    api.post("/payments/refunds", json={"invoice_id": invoice["id"], "amount": 100}, headers={"Idempotency-Key": "ev"})
    return outbox_rows()[-1]
