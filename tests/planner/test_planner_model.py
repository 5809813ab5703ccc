"""``flow plan`` with the real packaged base model (a few tokens per draft): N sampled drafts,
ranked by the model's own mean log-likelihood, reproducible from the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.models.loader import load_specialist
from flowloop.pipeline.prompts import planner_messages
from flowloop.repo import FlowRepo
from helpers_planner import TASK

pytestmark = pytest.mark.slow


def test_the_base_model_drafts_and_ranks_three_plans(example: FlowRepo, base_checkpoint: Path) -> None:
    out = CliRunner().invoke(app, ["-C", str(example.root), "plan", TASK, "--n", "3", "--max-new-tokens", "8",
                                   "--task", "LED-970", "--json"])
    assert out.exit_code == 0, out.output
    plan_set = json.loads(out.stdout)
    assert plan_set["model"] == "base" and plan_set["drawn"] == 3 and 1 <= len(plan_set["plans"]) <= 3
    assert plan_set["scored_by"] == "mean log-likelihood per token (base)"
    scores = [p["score"] for p in plan_set["plans"]]
    assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)
    assert len({p["text"] for p in plan_set["plans"]}) == len(plan_set["plans"])  # different drafts
    assert any("no promoted specialist yet" in n for n in plan_set["notes"])
    assert all(p["files"][: len(plan_set["localization"]["files"])] == plan_set["localization"]["files"]
               for p in plan_set["plans"])


def test_the_same_seed_draws_the_same_plans(example: FlowRepo, base_checkpoint: Path) -> None:
    model = load_specialist(example, "base")
    messages = planner_messages(example.settings, TASK, "", ["src/ledgerline/payments/refunds.py"])
    first = model.sample(messages, 6, 2, seed=7)
    assert model.sample(messages, 6, 2, seed=7) == first and len(first) == 2


def test_a_promoted_reward_model_ranks_the_drafts(reward_trained: FlowRepo) -> None:
    from flowloop.planner.draft import draft_plans
    from helpers_planner import fake

    plan_set = draft_plans(reward_trained, TASK, 3, task="LED-971", backend=fake())
    assert plan_set.scored_by == "reward v1: P(follows the conventions)"
    scores = [p.score for p in plan_set.plans]
    assert all(0 <= s <= 1 for s in scores) and scores == sorted(scores, reverse=True)
