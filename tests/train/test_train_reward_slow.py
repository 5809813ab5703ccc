"""The reward pass trained a few real steps on the packaged SmolLM2 (marked slow)."""

from __future__ import annotations

import pytest

from flowloop.models.registry import Registry
from flowloop.models.reward import FAMILY, load_reward, reward_input, threshold_of
from flowloop.repo import FlowRepo

pytestmark = pytest.mark.slow


def test_reward_v1_lands_in_its_own_family_with_lineage_and_a_threshold(reward_trained: FlowRepo) -> None:
    assert Registry(reward_trained).versions() == []  # the specialist's versions are untouched
    v1 = Registry(reward_trained, FAMILY).get("v1")
    m = v1.manifest
    assert (m["pass"], m["parent"], m["base_model"], m["dataset_version"]) == ("reward", None, "smollm2", 1)
    assert m["metrics"]["steps"] == 4 and m["metrics"]["loss"] > 0 and len(m["dataset_hash"]) == 64
    calibration = m["data"]["calibration"]
    # chosen on the newest 20% of the training tasks (3 of 16), held aside from fitting: not on
    # the 8 held-out items the validation suite and the gate score
    assert calibration["n"] == 3 and calibration["slice"] == "calibration" and calibration["target_precision"] == 0.8
    # tasks T-15..T-17 (hours 15-17 of 2024-01-01); the held-out tasks finished from hour 100 on
    assert (calibration["from"], calibration["to"]) == ("2024-01-01T15:00:00+00:00", "2024-01-01T17:00:00+00:00")
    assert 0.0 < calibration["threshold"] <= 1.0 + 1e-5
    assert Registry(reward_trained, FAMILY).current().version == "v1"


def test_a_loaded_reward_version_scores_probabilities(reward_trained: FlowRepo) -> None:
    version = Registry(reward_trained, FAMILY).get("v1")
    model = load_reward(reward_trained, version)
    scores = model.score([reward_input("Use Money for amounts."), reward_input("amount = float(x)", "money rules")])
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert model.threshold == threshold_of(version)
