"""Preference suite: on held-out preference pairs, does the model favour what the team chose?

Each pair (from ``dpo_heldout.jsonl``: preference events, rewrites, corrections of held-out
tasks) is scored by DPO's implicit reward, relative to a reference model: the pair is a win when

    log pi(chosen) - log ref(chosen)  >  log pi(rejected) - log ref(rejected)

that is, when the model moved probability towards the chosen answer more than towards the
rejected one, compared with where the reference stood. The reference is always the base model,
so every version (SFT, a DPO child, the base itself) is on one scale: the gate's paired
difference of two versions and the report's chart across versions then mean one thing. The base
against itself ties every pair and scores 0.5 by construction; ties (a reward margin within
``TIE`` nats) count half, and their share is reported as ``ties``. The margin of a DPO child
against its SFT parent (what DPO itself optimises) is the same comparison with the parent's
details as the reference (:func:`against`).

Why this and not the model's own likelihood of each answer: the held-out chosen answers are
specific (code names, file paths), the rejected ones generic English, so even the base model
finds the rejected ones likelier (it scored 0.00 on the example's pairs): that measures fluency,
not preference. The reference cancels what the model found likely before it learned anything.

Why sums of token log-probabilities, not means: DPO's reward is the log-ratio of the whole
sequence, ``sum_t log pi(y_t) - log ref(y_t)``, which is what training moves; the model and the
reference score the same tokens, so length does not favour either side (a token both find
equally likely adds 0). A per-token mean would divide chosen and rejected by different lengths
and weight each token of the shorter answer more, which is not the quantity DPO optimises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowloop.errors import EvaluationError
from flowloop.evaluate.scorer import loglik_all
from flowloop.evaluate.stats import mean
from flowloop.inference.model import Model
from flowloop.types import Message, Progress

# Reward margins this close to 0 are ties: batching changes the last digits of a log-probability.
TIE = 1e-3


@dataclass
class PreferenceItem:
    id: str
    prompt: list[Message]
    chosen: str
    rejected: str


def run(scorer: Model, items: Sequence[PreferenceItem], progress: Progress | None = None) -> list[dict[str, Any]]:
    """The model's own summed log-likelihood of each pair's chosen and rejected answer.

    These details carry no ``win`` yet: :func:`against` compares them with a reference's."""
    pairs = [pair for item in items for pair in ((item.prompt, item.chosen), (item.prompt, item.rejected))]
    scored = iter(loglik_all(scorer, pairs, progress=progress, unit=2))
    details = []
    for item in items:
        (chosen, chosen_n), (rejected, rejected_n) = next(scored), next(scored)
        details.append({"id": item.id, "chosen": round(chosen, 4), "rejected": round(rejected, 4),
                        "tokens": [chosen_n, rejected_n]})
    return details


def against(details: list[dict[str, Any]], reference: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``details`` with each pair's implicit reward margin relative to ``reference`` and its win.

    ``reference``: the details of :func:`run` for the reference model on the same pairs (the
    model's own, for the base model)."""
    by_id = {row["id"]: row for row in reference}
    missing = [row["id"] for row in details if row["id"] not in by_id]
    if missing:
        raise EvaluationError(f"the reference was not scored on preference pair {missing[0]!r}",
                              hint="score both models on the same dataset")
    out = []
    for row in details:
        ref = by_id[row["id"]]
        margin = (row["chosen"] - ref["chosen"]) - (row["rejected"] - ref["rejected"])
        win = 0.5 if abs(margin) <= TIE else 1.0 if margin > 0 else 0.0
        out.append({**row, "ref_chosen": ref["chosen"], "ref_rejected": ref["rejected"],
                    "margin": round(margin, 4), "win": win})
    return out


def is_current(details: list[dict[str, Any]]) -> bool:
    """False for details stored by the earlier per-token metric (no margin): they are rescored."""
    return all("margin" in row for row in details)


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    wins = [details[i]["win"] for i in idx]
    return {"win_rate": mean(wins), "ties": mean([float(w == 0.5) for w in wins])}
