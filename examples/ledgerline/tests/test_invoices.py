import pytest

from ledgerline.billing.invoices import TRANSITIONS


def test_draft_finalize_assigns_number_and_totals(api, invoice_factory):
    invoice = invoice_factory(amount=10_000)
    assert invoice["status"] == "finalized"
    assert invoice["number"].startswith("INV-")
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (10_000, 2_500, 12_500)


def test_finalize_without_line_items_is_a_problem_not_a_500(api):
    customer = api.post("/customers", json={"email": "a@example.com", "name": "A"}).json()
    draft = api.post("/invoices", json={"customer_id": customer["id"], "currency": "EUR"}).json()
    response = api.post(f"/invoices/{draft['id']}/finalize")
    assert response.status_code == 422
    assert response.json()["code"] == "invoice.empty"


def test_finalized_invoice_cannot_be_finalized_again(api, invoice_factory):
    invoice = invoice_factory()
    response = api.post(f"/invoices/{invoice['id']}/finalize")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice.already_finalized"


@pytest.mark.parametrize("source,target", [("paid", "void"), ("void", "paid"), ("draft", "paid")])
def test_illegal_transitions(source, target):
    assert target not in TRANSITIONS[source]


def test_void_emits_an_outbox_event(api, invoice_factory, outbox_rows):
    invoice = invoice_factory()
    api.post(f"/invoices/{invoice['id']}/void")
    assert "invoice.void" in [row.event_type for row in outbox_rows()]


@pytest.mark.parametrize("unit,rate_bp,expected_tax", [(999, 1900, 190), (1, 2500, 0), (2, 2500, 1), (333, 700, 23)])
def test_tax_is_rounded_per_line_half_up(api, unit, rate_bp, expected_tax):
    customer = api.post("/customers", json={"email": "t@example.com", "name": "T"}).json()
    draft = api.post("/invoices", json={"customer_id": customer["id"], "currency": "EUR", "line_items": [
        {"description": "x", "quantity": 1, "unit_amount": unit, "tax_rate_bp": rate_bp}]}).json()
    assert api.post(f"/invoices/{draft['id']}/finalize").json()["tax"] == expected_tax
