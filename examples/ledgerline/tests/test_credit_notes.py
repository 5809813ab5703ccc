def test_credit_note_reduces_balance(api, invoice_factory):
    invoice = invoice_factory(amount=10_000)  # total 12_500 with tax
    response = api.post("/credit_notes", json={"invoice_id": invoice["id"], "amount": 2_500, "reason": "order_change"})
    assert response.status_code == 201
    assert response.json()["amount"] == 2_500


def test_credit_note_cannot_exceed_remaining_balance(api, invoice_factory):
    invoice = invoice_factory(amount=10_000)
    api.post("/credit_notes", json={"invoice_id": invoice["id"], "amount": 12_000, "reason": "other"})
    response = api.post("/credit_notes", json={"invoice_id": invoice["id"], "amount": 600, "reason": "other"})
    assert response.status_code == 422
    assert response.json()["code"] == "credit_note.exceeds_balance"


def test_draft_and_void_invoices_are_not_creditable(api, invoice_factory):
    draft = invoice_factory(finalize=False)
    response = api.post("/credit_notes", json={"invoice_id": draft["id"], "amount": 100, "reason": "other"})
    assert response.status_code == 409
    assert response.json()["code"] == "credit_note.invoice_not_creditable"
    voided = invoice_factory()
    api.post(f"/invoices/{voided['id']}/void")
    response = api.post("/credit_notes", json={"invoice_id": voided["id"], "amount": 100, "reason": "other"})
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "credit_note.invoice_not_creditable"


def test_finalized_invoice_is_never_edited(api, invoice_factory):
    invoice = invoice_factory()
    api.post("/credit_notes", json={"invoice_id": invoice["id"], "amount": 100, "reason": "other"})
    assert api.get("/invoices").json()["data"][0]["total"] == invoice["total"]


def test_credit_note_issued_event(api, invoice_factory, outbox_rows):
    invoice = invoice_factory()
    api.post("/credit_notes", json={"invoice_id": invoice["id"], "amount": 100, "reason": "other"})
    assert outbox_rows()[-1].event_type == "credit_note.issued"
