"""Proration for mid-period plan changes (LED-130).

Credit for the unused part of the old plan and a charge for the rest of the period on the new
one, both by whole seconds of the period, both rounded once with ``Money.from_decimal``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledgerline.core.money import Money


def _fraction_left(start: dt.datetime, end: dt.datetime, change_at: dt.datetime) -> Decimal:
    if not start <= change_at <= end:
        raise ValueError("change_at must fall inside the billing period")
    total = Decimal((end - start).total_seconds())
    left = Decimal((end - change_at).total_seconds())
    return left / total


def prorate(
    old_price: Money, new_price: Money, start: dt.datetime, end: dt.datetime, change_at: dt.datetime
) -> tuple[Money, Money]:
    """(credit for the old plan as a negative amount, charge for the new plan)."""
    if old_price.currency != new_price.currency:
        raise ValueError("plan change across currencies is not supported")
    fraction = _fraction_left(start, end, change_at)
    credit = Money.from_decimal(old_price.to_decimal() * fraction, old_price.currency)
    charge = Money.from_decimal(new_price.to_decimal() * fraction, new_price.currency)
    return -credit, charge
