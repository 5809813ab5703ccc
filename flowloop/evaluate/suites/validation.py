"""Validation suite: can the specialist, in its review role, catch work that breaks a convention?

Held-out items (``eval_validation.jsonl``) are texts labelled ``violating`` or ``compliant``
(from corrections, rejected options and reverted work). The review prompt is the one the
specialist is trained with; its decision is read from the probabilities of its first words,
``VIOLATION`` against ``OK`` (the two answers the review role is trained to start with), not from
sampled text, so it is deterministic and cheap. Precision, recall and F1 of catching violations
at the reviewer's natural threshold (VIOLATION more likely than OK, i.e. P(OK) below 0.5), and
AUROC across thresholds from each item's ``score`` = P(OK) / (P(OK) + P(VIOLATION)).

The same details and statistic serve the reward model's row of this suite (the runner's
``reward`` baseline, :func:`flowloop.evaluate.reward.reward_details`): there ``score`` is the
head's P(compliant) and ``flagged`` is the score below the threshold recorded with its version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.evaluate.scorer import loglik_all
from flowloop.evaluate.stats import auroc, binary_detection
from flowloop.inference.model import Model
from flowloop.pipeline.prompts import p_ok
from flowloop.types import Progress


@dataclass
class ValidationItem:
    id: str
    text: str
    context: str
    violating: bool


def run(scorer: Model, items: Sequence[ValidationItem], settings: Any, progress: Progress | None = None) -> list[dict[str, Any]]:
    from flowloop.pipeline.prompts import OK, VIOLATION, review_messages

    pairs = []
    for item in items:
        prompt = review_messages(settings, item.text, item.context)
        pairs += [(prompt, VIOLATION), (prompt, OK)]
    # Sums, not per-token means: this is P(the reply starts with that word); the later
    # sub-tokens of a multi-token word are near-certain and barely change the sum.
    scored = iter(loglik_all(scorer, pairs, end_of_turn=False, progress=progress, unit=2))
    details = []
    for item in items:
        violation, ok = next(scored)[0], next(scored)[0]
        details.append(
            {
                "id": item.id,
                "violating": item.violating,
                "flagged": violation > ok,
                "margin": round(violation - ok, 4),
                "score": round(p_ok(violation - ok), 6),
            }
        )
    return details


def score_of(detail: dict[str, Any]) -> float:
    """An item's P(compliant); results stored before scores were kept have only the margin."""
    return float(detail["score"]) if "score" in detail else p_ok(float(detail.get("margin", 0.0)))


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    picked = [details[i] for i in idx]
    found = binary_detection([d["flagged"] for d in picked], [d["violating"] for d in picked])
    found["auroc"] = auroc([score_of(d) for d in picked], [not d["violating"] for d in picked])
    return found
