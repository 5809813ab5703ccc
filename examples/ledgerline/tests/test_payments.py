import pytest

from ledgerline.workers.retry import RetryPolicy, retry_call


def test_payment_intent_for_finalized_invoice(api, invoice_factory, stripe_fake):
    invoice = invoice_factory()
    response = api.post("/payments/intents", params={"invoice_id": invoice["id"]}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201
    assert stripe_fake.last_request.headers["Idempotency-Key"] == f"pi:{invoice['id']}"


def test_stripe_timeout_is_a_503_problem(api, invoice_factory, stripe_fake):
    stripe_fake.timeout_next("/v1/payment_intents", times=3)
    response = api.post("/payments/intents", params={"invoice_id": invoice_factory()["id"]}, headers={"Idempotency-Key": "k2"})
    assert response.status_code == 503
    assert response.json()["code"] == "payment.provider_unavailable"


def test_card_declined_maps_to_402(api, invoice_factory, stripe_fake):
    stripe_fake.decline_next("card_declined")
    response = api.post("/payments/intents", params={"invoice_id": invoice_factory()["id"]}, headers={"Idempotency-Key": "k3"})
    assert response.json()["code"] == "payment.card_declined"


def test_retry_is_bounded_and_jittered():
    calls, sleeps = [], []
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.5, max_delay_s=4.0)

    def flaky():
        calls.append(1)
        raise TimeoutError

    with pytest.raises(TimeoutError):
        retry_call(flaky, policy, sleep=sleeps.append)
    assert len(calls) == 3 and len(sleeps) == 2
    assert all(0 <= s <= 4.0 for s in sleeps)


def test_payment_link(api, invoice_factory, stripe_fake):
    response = api.post("/payments/links", params={"invoice_id": invoice_factory()["id"]}, headers={"Idempotency-Key": "k4"})
    assert response.json()["url"].startswith("https://")
