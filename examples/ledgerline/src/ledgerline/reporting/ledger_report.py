"""Daily ledger totals per currency (LED-138), tax section (LED-153), write-offs (LED-152).

Totals are summed in minor units per currency and never mixed; conversion to a reporting
currency happens once per total (billing/currency.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledgerline.core.clock import start_of_day_utc
from ledgerline.db.models import CreditNote, Invoice, Refund


def _sum_by_currency(session: Session, model, amount_col, time_col, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    rows = session.execute(
        select(model.currency, func.sum(amount_col)).where(time_col >= start, time_col < end).group_by(model.currency)
    ).all()
    return {currency: int(total) for currency, total in rows}


def daily_totals(session: Session, day: dt.date) -> dict[str, dict[str, int]]:
    start = start_of_day_utc(day)
    end = start + dt.timedelta(days=1)
    invoiced = _sum_by_currency(session, Invoice, Invoice.total_minor, Invoice.finalized_at, start, end)
    credited = _sum_by_currency(session, CreditNote, CreditNote.amount_minor, CreditNote.created_at, start, end)
    refunded = _sum_by_currency(session, Refund, Refund.amount_minor, Refund.created_at, start, end)
    written_off = session.execute(
        select(Invoice.currency, func.sum(Invoice.total_minor - Invoice.amount_paid_minor))
        .where(Invoice.status == "uncollectible", Invoice.finalized_at >= start, Invoice.finalized_at < end)
        .group_by(Invoice.currency)
    ).all()
    currencies = set(invoiced) | set(credited) | set(refunded)
    return {
        c: {"invoiced": invoiced.get(c, 0), "credited": credited.get(c, 0), "refunded": refunded.get(c, 0),
            "written_off": dict(written_off).get(c, 0)}
        for c in sorted(currencies)
    }


def ledger_rows(session: Session, start: dt.date, end: dt.date) -> Iterator[tuple]:
    day = start
    while day < end:
        for currency, t in daily_totals(session, day).items():
            yield (day.isoformat(), currency, t["invoiced"], t["credited"], t["refunded"], t["written_off"])
        day += dt.timedelta(days=1)
