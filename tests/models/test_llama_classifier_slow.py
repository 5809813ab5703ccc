"""The torch-only reward forward pass agrees with transformers on a real merged checkpoint (slow)."""

from __future__ import annotations

import pytest

from flowloop.models.llama_classifier import LlamaClassifier
from flowloop.models.registry import Registry
from flowloop.models.reward import FAMILY, RewardModel, _transformers_classifier, load_reward, merged_checkpoint, reward_input
from flowloop.repo import FlowRepo

pytestmark = pytest.mark.slow

TEXTS = [
    reward_input("Use Money for amounts."),
    reward_input("amount = float(x)", "File: src/fees.py"),
    reward_input("def f(x):\n    return float(x) * 3  # change\n" * 60, "File: src/long.py"),  # cut to max_length
    reward_input("x"),
]


def test_the_torch_pass_matches_transformers_token_for_token_and_in_scores(reward_trained: FlowRepo) -> None:
    import torch

    version = Registry(reward_trained, FAMILY).get("v1")
    merged = merged_checkpoint(reward_trained, version, torch.float32)
    ours = RewardModel(LlamaClassifier(merged, torch.float32), None, "v1", 0.5, 128)
    reference = RewardModel(*_transformers_classifier(merged, torch.float32), "v1", 0.5, 128)
    assert ours.model.token_ids(TEXTS, 128) == [reference.tokenizer(t, truncation=True, max_length=128)["input_ids"]
                                                 for t in TEXTS]
    assert max(abs(a - b) for a, b in zip(ours.score(TEXTS), reference.score(TEXTS))) < 1e-4


def test_flow_validate_loads_the_torch_pass_on_a_cpu_and_scores_alike_in_parallel(reward_trained: FlowRepo) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("on a GPU the reward model loads through transformers")
    model = load_reward(reward_trained, Registry(reward_trained, FAMILY).get("v1"))
    assert isinstance(model.model, LlamaClassifier) and model.tokenizer is None
    threads = torch.get_num_threads()
    side_by_side = RewardModel(model.model, None, "v1", 0.5, model.max_length, workers=2).score(TEXTS)
    assert torch.get_num_threads() == threads  # the workers' single thread is not left behind
    one_by_one = RewardModel(model.model, None, "v1", 0.5, model.max_length, workers=1).score(TEXTS)
    assert side_by_side == pytest.approx(one_by_one, abs=1e-3)
