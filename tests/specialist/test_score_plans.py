"""score_plans: plan texts scored by the promoted reward model, as `flow validate --plan` does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowloop.errors import ValidateError
from flowloop.repo import FlowRepo
from flowloop.specialist.units import plan_units
from flowloop.specialist.validate import score_plans, validate


def test_no_plans_load_nothing_and_require_model_fails_without_one(flow_repo: FlowRepo) -> None:
    assert score_plans(flow_repo, []).scores == []
    with pytest.raises(ValidateError, match="no reward model has been promoted yet") as err:
        score_plans(flow_repo, ["Use Money."], require_model=True)
    assert err.value.exit_code == 2


@pytest.mark.slow
def test_plans_score_as_flow_validate_scores_them_and_rank_best_first(reward_trained: FlowRepo, tmp_path: Path) -> None:
    plans = ["Store the refund amount as a float in dollars.", "Keep the refund in integer cents with Money."]
    found = score_plans(reward_trained, plans)
    assert found.scorer == "reward v1" and found.notes == [] and len(found.scores) == 2
    alone = validate(reward_trained, plan_units(plans[1], "plan.md"), cite=0)
    assert abs(alone.results[0].score - found.scores[1]) < 1e-6 and alone.threshold == found.threshold
    assert found.ranking == sorted(range(2), key=lambda i: -found.scores[i])
