def _body(customer_id):
    return {"customer_id": customer_id, "currency": "EUR", "line_items": []}


def test_same_key_same_body_replays(api):
    customer = api.post("/customers", json={"email": "a@example.com", "name": "A"}).json()
    first = api.post("/invoices", json=_body(customer["id"]), headers={"Idempotency-Key": "k1"}).json()
    second = api.post("/invoices", json=_body(customer["id"]), headers={"Idempotency-Key": "k1"}).json()
    assert first["id"] == second["id"]


def test_same_key_different_body_is_422(api):
    customer = api.post("/customers", json={"email": "a@example.com", "name": "A"}).json()
    api.post("/invoices", json=_body(customer["id"]), headers={"Idempotency-Key": "k2"})
    response = api.post("/invoices", json={**_body(customer["id"]), "currency": "USD"}, headers={"Idempotency-Key": "k2"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency.key_reused"


def test_keys_expire_after_24_hours(api, clock):
    customer = api.post("/customers", json={"email": "a@example.com", "name": "A"}).json()
    first = api.post("/invoices", json=_body(customer["id"]), headers={"Idempotency-Key": "k3"}).json()
    clock.advance(hours=24, seconds=1)
    second = api.post("/invoices", json=_body(customer["id"]), headers={"Idempotency-Key": "k3"}).json()
    assert first["id"] != second["id"]


def test_keys_are_per_tenant(api, api_b):
    a = api.post("/customers", json={"email": "a@example.com", "name": "A"}, headers={"Idempotency-Key": "same"})
    b = api_b.post("/customers", json={"email": "b@example.com", "name": "B"}, headers={"Idempotency-Key": "same"})
    assert a.json()["id"] != b.json()["id"]


def test_refund_endpoint_is_idempotent(api, invoice_factory, mark_paid, stripe_fake):
    invoice = invoice_factory()
    mark_paid(invoice["id"])
    body = {"invoice_id": invoice["id"], "amount": 100}
    first = api.post("/payments/refunds", json=body, headers={"Idempotency-Key": "rk"}).json()
    second = api.post("/payments/refunds", json=body, headers={"Idempotency-Key": "rk"}).json()
    assert first["id"] == second["id"] and stripe_fake.calls("/v1/refunds") == 1
