"""Rank a task's drafts: by the promoted reward model, else by the specialist's own score.

The reward model (Step 3, ``flow train reward``) is exactly what ``flow validate --plan`` runs:
:func:`flowloop.specialist.validate.score_plans` scores each plan as one unit, P(it follows the
team's conventions). Before
one is promoted, each draft is scored by the model that wrote it: its mean log-likelihood per
token given the prompt (length-normalised, so a short draft does not win by being short).
``scored_by`` says which, and it is shown beside the scores.
"""

from __future__ import annotations

from collections.abc import Sequence

from flowloop.inference.model import Model
from flowloop.planner.shape import Plan
from flowloop.repo import FlowRepo
from flowloop.types import Message


def score_drafts(repo: FlowRepo, plans: Sequence[Plan], messages: list[Message], model: Model) -> str:
    """Set each plan's ``score``; returns what scored them."""
    from flowloop.models.reward import resolve_version

    if resolve_version(repo, "current") is not None:
        from flowloop.specialist.validate import score_plans

        found = score_plans(repo, [plan.markdown() for plan in plans], require_model=True)
        for plan, score in zip(plans, found.scores):
            plan.score = score
        return f"{found.scorer}: P(follows the conventions)"
    scored = model.loglikelihood_many([(messages, plan.text) for plan in plans])
    for plan, (total, tokens) in zip(plans, scored):
        plan.score = total / max(1, tokens)
    return f"mean log-likelihood per token ({model.version})"


def ranked(plans: Sequence[Plan]) -> list[Plan]:
    """Best score first; ties keep the order drawn."""
    return sorted(plans, key=lambda p: -p.score)
