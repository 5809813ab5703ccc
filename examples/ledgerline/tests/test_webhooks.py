"""Webhook delivery is at-least-once; these tests pin down exactly-once effects."""

import threading


def _paid(invoice):
    return {"id": "pi_1", "metadata": {"invoice_id": invoice["id"], "tenant_id": "00000000-0000-0000-0000-00000000000a"}}


def test_bad_signature_is_a_400_problem(api, signed_event, invoice_factory):
    payload, header = signed_event("invoice.paid", _paid(invoice_factory()), secret="whsec_wrong")
    response = api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert response.json()["code"] == "webhook.invalid_signature"


def test_previous_secret_still_accepted_during_rotation(api, signed_event, invoice_factory):
    payload, header = signed_event("invoice.paid", _paid(invoice_factory()), secret="whsec_test_previous")
    assert api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}).status_code == 200


def test_redelivered_event_is_processed_once(api, signed_event, invoice_factory, outbox_rows):
    payload, header = signed_event("charge.refunded", {**_paid(invoice_factory()), "amount_refunded": 500})
    first = api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}).json()
    second = api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}).json()
    assert (first["outcome"], second["outcome"]) == ("processed", "duplicate")
    assert [r.event_type for r in outbox_rows()].count("payment.refunded") == 1


def test_concurrent_deliveries_are_processed_once(api, signed_event, invoice_factory):
    payload, header = signed_event("invoice.paid", _paid(invoice_factory()))
    outcomes = []

    def deliver():
        outcomes.append(api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}).json()["outcome"])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "processed"]


def test_unknown_event_types_are_ignored(api, signed_event):
    payload, header = signed_event("customer.created", {"id": "cus_1"})
    assert api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}).json()["outcome"] == "ignored"


def test_signature_tolerance_uses_the_utc_clock(api, signed_event, invoice_factory, clock):
    payload, header = signed_event("invoice.paid", _paid(invoice_factory()))
    clock.advance(minutes=6)
    assert api.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}).status_code == 400
