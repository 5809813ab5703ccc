"""Preference suite: on held-out preference pairs, does the model favour what the team chose?

Each pair (from ``dpo_heldout.jsonl``: preference events, rewrites, corrections of held-out
tasks) is a win when the chosen completion gets the higher length-normalised log-likelihood
under the pair's prompt, a tie counts half. The win rate is what DPO is meant to move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.evaluate.scorer import loglik_all, per_token
from flowloop.evaluate.stats import mean
from flowloop.inference.model import Model
from flowloop.types import Message, Progress


@dataclass
class PreferenceItem:
    id: str
    prompt: list[Message]
    chosen: str
    rejected: str


def run(scorer: Model, items: Sequence[PreferenceItem], progress: Progress | None = None) -> list[dict[str, Any]]:
    pairs = [pair for item in items for pair in ((item.prompt, item.chosen), (item.prompt, item.rejected))]
    scored = iter(loglik_all(scorer, pairs, progress=progress, unit=2))
    details = []
    for item in items:
        chosen, rejected = per_token(next(scored)), per_token(next(scored))
        win = 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0
        details.append({"id": item.id, "win": win, "chosen": round(chosen, 4), "rejected": round(rejected, 4)})
    return details


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    return {"win_rate": mean([details[i]["win"] for i in idx])}
