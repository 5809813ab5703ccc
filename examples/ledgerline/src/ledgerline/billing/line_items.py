"""Line items and invoice totals (LED-109).

Tax is computed and rounded per line (half-up), then lines are summed: the invoice total is
always the sum of what the customer sees on each line (LED-199 tests this table-style).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerline.billing.tax import line_tax
from ledgerline.core.money import Money
from ledgerline.db.models import Invoice, LineItem


@dataclass(frozen=True)
class Totals:
    subtotal: Money
    tax: Money
    total: Money


def build_line_items(invoice: Invoice, items: list[dict]) -> list[LineItem]:
    return [
        LineItem(
            invoice_id=invoice.id,
            description=item["description"],
            quantity=item["quantity"],
            unit_amount_minor=item["unit_amount"],
            tax_rate_bp=item.get("tax_rate_bp", 0),
            created_at=invoice.created_at,
        )
        for item in items
    ]


def line_net(item: LineItem, currency: str) -> Money:
    return Money(item.quantity * item.unit_amount_minor, currency)


def invoice_totals(items: list[LineItem], currency: str) -> Totals:
    subtotal, tax = Money.zero(currency), Money.zero(currency)
    for item in items:
        net = line_net(item, currency)
        subtotal += net
        tax += line_tax(net, item.tax_rate_bp)
    return Totals(subtotal=subtotal, tax=tax, total=subtotal + tax)
