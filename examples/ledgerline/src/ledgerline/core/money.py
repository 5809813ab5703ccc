"""Money as integer minor units plus an ISO 4217 currency. Never floats (ADR 0002).

Rounding happens once, half-up, at the edge where a decimal becomes minor units
(``Money.from_decimal``). Splitting an amount uses ``allocate`` (largest remainder) so the
parts always sum to the whole; that is what fixed the one-minor-unit drift of LED-180.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Exponent per currency; anything not listed has two decimals.
MINOR_UNIT_EXPONENT = {"JPY": 0, "KRW": 0, "CLP": 0, "KWD": 3, "BHD": 3, "JOD": 3}


def exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENT.get(currency, 2)


class CurrencyMismatch(ValueError):
    """Arithmetic between two currencies; convert through billing.currency first."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units (cents, yen, fils)
    currency: str  # ISO 4217, upper case

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units, never a float")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        quantum = Decimal(1).scaleb(-exponent(currency))
        rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
        return cls(int(rounded.scaleb(exponent(currency))), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split by integer weights; remainders go to the largest fractional parts first."""
        total = sum(weights)
        raw = [self.amount * w / total for w in weights]
        parts = [int(r) for r in raw]
        order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
        for i in order[: self.amount - sum(parts)]:
            parts[i] += 1
        return [Money(p, self.currency) for p in parts]


def format_money(money: Money, locale_symbol: str | None = None) -> str:
    """Display string for emails and CSV ("EUR 1,234.50"); never parse this back."""
    value = money.to_decimal()
    digits = exponent(money.currency)
    text = f"{value:,.{digits}f}"
    return f"{locale_symbol}{text}" if locale_symbol else f"{money.currency} {text}"
