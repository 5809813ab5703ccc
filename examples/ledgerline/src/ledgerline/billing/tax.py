"""Tax per line in basis points, exclusive or inclusive (LED-109, LED-125).

Rates are integers in basis points (1900 = 19 %). Rounding is half-up once per line, on the
tax amount. The per-line rounding helper used to live in its own module and is now part of
core/money.py (``Money.from_decimal``).
"""

from __future__ import annotations

from decimal import Decimal

from ledgerline.core.money import Money

# Region -> standard rate in basis points; tenants override per line item.
STANDARD_RATES_BP = {"DE": 1900, "FR": 2000, "NL": 2100, "SE": 2500, "GB": 2000, "US-CA": 725}


def line_tax(net: Money, rate_bp: int) -> Money:
    """Tax on a tax-exclusive net amount."""
    value = net.to_decimal() * Decimal(rate_bp) / Decimal(10_000)
    return Money.from_decimal(value, net.currency)


def split_inclusive(gross: Money, rate_bp: int) -> tuple[Money, Money]:
    """(net, tax) of a tax-inclusive amount; net + tax == gross exactly."""
    net_value = gross.to_decimal() * Decimal(10_000) / Decimal(10_000 + rate_bp)
    net = Money.from_decimal(net_value, gross.currency)
    return net, gross - net


def tax_summary(lines: list[tuple[Money, int]]) -> dict[int, Money]:
    """Tax per rate for the ledger report's tax section (LED-153)."""
    summary: dict[int, Money] = {}
    for net, rate_bp in lines:
        tax = line_tax(net, rate_bp)
        summary[rate_bp] = summary.get(rate_bp, Money.zero(net.currency)) + tax
    return summary
