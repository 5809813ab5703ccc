"""Both reviewers on the same held-out items, with n and intervals (real models, slow)."""

from __future__ import annotations

import pytest

from flowloop.evaluate.reward import compare_reviewers
from flowloop.repo import FlowRepo

pytestmark = pytest.mark.slow


def test_the_reward_model_and_the_generative_reviewer_side_by_side(reward_trained: FlowRepo) -> None:
    found = compare_reviewers(reward_trained, reward="current", reviewer="base")
    assert (found["n"], found["violating"], found["dataset"]) == (8, 4, "v1")
    for side in ("reward_model", "generative_reviewer"):
        metrics, ci = found[side]["metrics"], found[side]["ci"]
        assert set(metrics) == {"precision", "recall", "f1", "auroc"}
        assert all(ci[k][0] <= metrics[k] + 1e-9 and metrics[k] <= ci[k][1] + 1e-9 for k in metrics)
        assert found[side]["curve"][-1]["recall"] == 1.0
    assert found["generative_reviewer"]["threshold"] == 0.5
    for metric, paired in found["paired"].items():  # reward minus reviewer, on the same items
        point = found["reward_model"]["metrics"][metric] - found["generative_reviewer"]["metrics"][metric]
        assert abs(paired["diff"] - point) < 1e-3 and paired["ci"][0] <= paired["diff"] + 1e-9 <= paired["ci"][1] + 2e-9
    assert len(found["items"]) == 8 and all(0 <= r["reward_score"] <= 1 and 0 <= r["reviewer_score"] <= 1 for r in found["items"])


def test_the_validation_suite_scores_the_promoted_reward_model_beside_the_reviewer(reward_trained: FlowRepo) -> None:
    from flowloop.evaluate import evaluate_model
    from flowloop.evaluate.results import load_result

    result = evaluate_model(reward_trained, "base", ["validation"], reuse=False)
    reviewer, reward = result.suites["validation"], result.baselines["reward"]["validation"]
    assert set(reviewer.metrics) == {"precision", "recall", "f1", "auroc"} and reviewer.n == reward.n == 8
    assert [d["id"] for d in reward.details] == [d["id"] for d in reviewer.details]  # the same items
    assert {d["version"] for d in reward.details} == {"v1"} and 0 <= reward.metrics["threshold"] <= 1
    assert all(d["flagged"] == (d["score"] < reward.metrics["threshold"]) for d in reward.details)
    stored = load_result(reward_trained, "base", result.dataset, result.dataset_hash)
    # stored metrics are rounded to 4 places
    assert stored is not None and stored.baselines["reward"]["validation"].metrics == pytest.approx(reward.metrics, abs=1e-4)
