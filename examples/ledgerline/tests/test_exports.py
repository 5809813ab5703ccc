import csv
import io


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_invoice_csv_streams_header_and_rows(api, invoice_factory):
    invoice_factory(amount=10_000)
    rows = _rows(api.get("/reports/invoices.csv", params={"start": "2025-03-01", "end": "2025-04-01"}).text)
    assert rows[0][0] == "number" and rows[1][5] == "125.00"


def test_export_only_contains_own_tenant(api, api_b, invoice_factory):
    invoice_factory()
    rows = _rows(api_b.get("/reports/invoices.csv", params={"start": "2025-03-01", "end": "2025-04-01"}).text)
    assert len(rows) == 1


def test_streaming_session_lives_until_the_last_row(api, invoice_factory):
    for _ in range(1200):  # more than two yield_per batches
        invoice_factory(finalize=True)
    rows = _rows(api.get("/reports/invoices.csv", params={"start": "2025-03-01", "end": "2025-04-01"}).text)
    assert len(rows) == 1201


def test_ledger_report_totals_per_currency(api, invoice_factory):
    invoice_factory(currency="EUR")
    invoice_factory(currency="SEK")
    totals = api.get("/reports/ledger", params={"day": "2025-03-03"}).json()["totals"]
    assert set(totals) == {"EUR", "SEK"}


def test_ledger_csv_has_tax_and_write_off_columns(api, invoice_factory):
    invoice_factory()
    header = _rows(api.get("/reports/ledger.csv", params={"start": "2025-03-03", "end": "2025-03-04"}).text)[0]
    assert "written_off" in header
