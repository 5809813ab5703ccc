"""Validation suite: can the specialist, in its review role, catch work that breaks a convention?

Held-out items (``eval_validation.jsonl``) are texts labelled ``violating`` or ``compliant``
(from corrections, rejected options and reverted work). The review prompt is the one the
specialist is trained with; its decision is read from the probabilities of its first words,
``VIOLATION`` against ``OK`` (the two answers the review role is trained to start with), not from
sampled text, so it is deterministic and cheap. Precision and recall of catching violations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.evaluate.scorer import loglik_all
from flowloop.evaluate.stats import binary_detection
from flowloop.inference.model import Model
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
            }
        )
    return details


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    picked = [details[i] for i in idx]
    return binary_detection([d["flagged"] for d in picked], [d["violating"] for d in picked])
