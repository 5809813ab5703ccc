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
        assert set(metrics) == {"precision", "recall", "f1", "accuracy", "auroc"}
        assert all(ci[k][0] <= metrics[k] + 1e-9 and metrics[k] <= ci[k][1] + 1e-9 for k in metrics)
        assert found[side]["curve"][-1]["recall"] == 1.0
    assert found["generative_reviewer"]["threshold"] == 0.5
    assert len(found["items"]) == 8 and all(0 <= r["reward_score"] <= 1 and 0 <= r["reviewer_score"] <= 1 for r in found["items"])
