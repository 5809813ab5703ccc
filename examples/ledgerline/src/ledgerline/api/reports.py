"""/reports: ledger report and CSV exports, streamed (LED-127, LED-155, LED-213)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ledgerline.reporting.exports import stream_invoices_csv, stream_ledger_csv
from ledgerline.reporting.ledger_report import daily_totals
from ledgerline.tenancy.context import current_tenant
from ledgerline.tenancy.isolation import tenant_session

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/ledger")
def ledger(day: dt.date) -> dict:
    with tenant_session() as session:
        return {"day": day.isoformat(), "totals": daily_totals(session, day)}


@router.get("/invoices.csv")
def invoices_csv(start: dt.date, end: dt.date) -> StreamingResponse:
    tenant = current_tenant()  # captured now: the generator runs after the middleware returns
    return StreamingResponse(stream_invoices_csv(tenant, start, end), media_type="text/csv")


@router.get("/ledger.csv")
def ledger_csv(start: dt.date, end: dt.date) -> StreamingResponse:
    tenant = current_tenant()
    return StreamingResponse(stream_ledger_csv(tenant, start, end), media_type="text/csv")
