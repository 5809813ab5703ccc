"""Email templates (LED-119, LED-129, LED-150). Amounts are formatted with
``core.money.format_money`` (LED-211); never format minor units by hand."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from ledgerline.core.money import Money, format_money


@dataclass(frozen=True)
class RenderedEmail:
    to: str
    subject: str
    html: str
    text: str


SUBJECTS = {
    "invoice": Template("Invoice $number from $tenant"),
    "reminder": Template("Reminder: invoice $number is overdue"),
    "credit_note": Template("Credit note for invoice $number"),
    "refund": Template("Refund of $amount for invoice $number"),
}

BODIES = {
    "invoice": Template("Your invoice $number for $amount is ready: $link"),
    "reminder": Template("Invoice $number for $amount was due on $due_date. Pay here: $link"),
    "credit_note": Template("We issued a credit note of $amount against invoice $number."),
    "refund": Template("We refunded $amount to your card for invoice $number."),
}


def render(kind: str, payload: dict) -> RenderedEmail:
    amount = Money(payload.get("amount", payload.get("total", 0)), payload.get("currency", "EUR"))
    values = {**payload, "amount": format_money(amount)}
    text = BODIES[kind].safe_substitute(values)
    return RenderedEmail(
        to=payload.get("customer_email", ""),
        subject=SUBJECTS[kind].safe_substitute(values),
        html=f"<p>{text}</p>",
        text=text,
    )
