"""Preference suite: on held-out preference pairs, does the model favour what the team chose?

Each pair (from ``dpo_heldout.jsonl``: preference events, rewrites, corrections of held-out
tasks) is a win when the chosen completion gets the higher length-normalised log-likelihood
under the pair's prompt, a tie counts half. The win rate is what DPO is meant to move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.evaluate.scorer import Message, Scorer, normalised_loglik
from flowloop.evaluate.stats import mean

Progress = Callable[[int, int], None] | None


@dataclass
class PreferenceItem:
    id: str
    prompt: list[Message]
    chosen: str
    rejected: str


def run(scorer: Scorer, items: Sequence[PreferenceItem], progress: Progress = None) -> list[dict[str, Any]]:
    details = []
    for i, item in enumerate(items):
        chosen = normalised_loglik(scorer, item.prompt, item.chosen)
        rejected = normalised_loglik(scorer, item.prompt, item.rejected)
        win = 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0
        details.append({"id": item.id, "win": win, "chosen": round(chosen, 4), "rejected": round(rejected, 4)})
        if progress:
            progress(i + 1, len(items))
    return details


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    return {"win_rate": mean([details[i]["win"] for i in idx])}
