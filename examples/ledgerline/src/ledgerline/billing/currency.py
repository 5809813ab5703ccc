"""Currency conversion for reporting (LED-133, LED-137, LED-180).

Rates are Decimal strings snapshotted daily; never floats. Convert a *total* once and round
once; to show converted lines, allocate the converted total over the lines by their original
amounts so they sum exactly (the one-minor-unit drift of LED-180 came from converting and
rounding each line separately).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledgerline.core.money import Money

# (day, from, to) -> rate as a Decimal string; filled by the daily snapshot task.
RateTable = dict[tuple[dt.date, str, str], str]


def rate(rates: RateTable, day: dt.date, source: str, target: str) -> Decimal:
    if source == target:
        return Decimal(1)
    try:
        return Decimal(rates[(day, source, target)])
    except KeyError as exc:
        raise LookupError(f"no {source}->{target} rate snapshot for {day}") from exc


def convert_total(amount: Money, target: str, rates: RateTable, day: dt.date) -> Money:
    return Money.from_decimal(amount.to_decimal() * rate(rates, day, amount.currency, target), target)


def convert_lines(lines: list[Money], target: str, rates: RateTable, day: dt.date) -> list[Money]:
    if not lines:
        return []
    total = Money(sum(m.amount for m in lines), lines[0].currency)
    converted = convert_total(total, target, rates, day)
    return converted.allocate([max(m.amount, 0) or 1 for m in lines])
