"""General instruction-following check: has fine-tuning made the model forget the basics?

A handful of fixed generic prompts with known answers (the forgetting watch recommended by TRL
users: a narrow LoRA can wreck general ability). Reported with every eval; the gate ignores it
unless it collapses (falls by ``eval.general_collapse`` or more against the reference).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.evaluate.scorer import generate_all
from flowloop.evaluate.stats import mean
from flowloop.inference.model import Model
from flowloop.types import Progress


@dataclass(frozen=True)
class GeneralItem:
    id: str
    prompt: str
    expected: tuple[str, ...]


ITEMS: tuple[GeneralItem, ...] = (
    GeneralItem("capital-france", "What is the capital of France? Answer in one word.", ("paris",)),
    GeneralItem("arithmetic", "What is 2 + 3? Answer with just the number.", ("5", "five")),
    GeneralItem("days-week", "How many days are there in a week?", ("7", "seven")),
    GeneralItem("sky-colour", "What colour is the sky on a clear day? Answer in one word.", ("blue",)),
    GeneralItem("opposite-hot", "What is the opposite of 'hot'? Answer in one word.", ("cold",)),
    GeneralItem("largest-planet", "Which is the largest planet in our solar system?", ("jupiter",)),
    GeneralItem("water-freezes", "At how many degrees Celsius does water freeze?", ("0", "zero")),
    GeneralItem("spanish-thanks", "How do you say 'thank you' in Spanish?", ("gracias",)),
)


def answered(answer: str, expected: Sequence[str]) -> bool:
    words = set(re.findall(r"[a-z0-9]+", answer.lower()))
    return any(e in words for e in expected)


def run(scorer: Model, max_new_tokens: int = 32, progress: Progress | None = None) -> list[dict[str, Any]]:
    answers = generate_all(scorer, [[{"role": "user", "content": item.prompt}] for item in ITEMS], max_new_tokens, progress)
    details = []
    for item, answer in zip(ITEMS, answers):
        ok = answered(answer, item.expected)
        details.append({"id": item.id, "correct": 1.0 if ok else 0.0, "answer": answer[:300]})
    return details


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    return {"accuracy": mean([details[i]["correct"] for i in idx])}
