def _paid_invoice(api, invoice_factory, mark_paid):
    invoice = invoice_factory(amount=10_000)
    mark_paid(invoice["id"])
    return invoice


def test_full_refund_by_default(api, invoice_factory, mark_paid, stripe_fake):
    invoice = _paid_invoice(api, invoice_factory, mark_paid)
    refund = api.post("/payments/refunds", json={"invoice_id": invoice["id"]}, headers={"Idempotency-Key": "r1"}).json()
    assert refund["amount"] == 12_500 and refund["status"] == "succeeded"


def test_partial_refunds_up_to_the_paid_amount(api, invoice_factory, mark_paid, stripe_fake):
    invoice = _paid_invoice(api, invoice_factory, mark_paid)
    api.post("/payments/refunds", json={"invoice_id": invoice["id"], "amount": 10_000}, headers={"Idempotency-Key": "r2"})
    response = api.post("/payments/refunds", json={"invoice_id": invoice["id"], "amount": 2_501}, headers={"Idempotency-Key": "r3"})
    assert response.status_code == 422
    assert response.json()["code"] == "refund.exceeds_refundable"
    assert response.json()["refundable"] == 2_500


def test_refund_reason_is_stored(api, invoice_factory, mark_paid, stripe_fake):
    invoice = _paid_invoice(api, invoice_factory, mark_paid)
    refund = api.post("/payments/refunds", json={"invoice_id": invoice["id"], "amount": 100, "reason": "duplicate"},
                      headers={"Idempotency-Key": "r4"}).json()
    assert refund["reason"] == "duplicate"


def test_refund_publishes_event(api, invoice_factory, mark_paid, stripe_fake, outbox_rows):
    invoice = _paid_invoice(api, invoice_factory, mark_paid)
    api.post("/payments/refunds", json={"invoice_id": invoice["id"], "amount": 100}, headers={"Idempotency-Key": "r5"})
    assert outbox_rows()[-1].event_type == "refund.created"
