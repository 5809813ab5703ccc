"""Streaming CSV exports (LED-127, LED-155, LED-210, LED-213).

A streamed response runs after the middleware has returned, so the generator re-enters the
tenant scope it was given and opens its own tenant session that lives until the last row
(the synchronous first version used a raw session and leaked other tenants' rows, LED-170).
Rows are fetched with ``yield_per`` so memory stays flat for large tenants.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from sqlalchemy import select

from ledgerline.core.clock import start_of_day_utc
from ledgerline.core.money import Money, format_money
from ledgerline.db.models import Invoice
from ledgerline.reporting.ledger_report import ledger_rows
from ledgerline.tenancy.context import TenantContext, tenant_scope
from ledgerline.tenancy.isolation import tenant_session

HEADER = ["number", "status", "currency", "subtotal", "tax", "total", "finalized_at"]


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def stream_invoices_csv(tenant: TenantContext, start: dt.date, end: dt.date) -> Iterator[str]:
    with tenant_scope(tenant), tenant_session() as session:
        yield _csv_line(HEADER)
        stmt = (select(Invoice)
                .where(Invoice.finalized_at >= start_of_day_utc(start), Invoice.finalized_at < start_of_day_utc(end))
                .order_by(Invoice.finalized_at, Invoice.id)
                .execution_options(yield_per=500))
        for inv in session.scalars(stmt):
            money = lambda amount: format_money(Money(amount, inv.currency)).split(" ")[1]  # noqa: E731
            yield _csv_line([inv.number, inv.status, inv.currency, money(inv.subtotal_minor),
                             money(inv.tax_minor), money(inv.total_minor), inv.finalized_at.isoformat()])


def stream_ledger_csv(tenant: TenantContext, start: dt.date, end: dt.date) -> Iterator[str]:
    with tenant_scope(tenant), tenant_session() as session:
        yield _csv_line(["day", "currency", "invoiced", "credited", "refunded", "written_off"])
        for row in ledger_rows(session, start, end):
            yield _csv_line(list(row))
