"""Loading a registered version on the real SmolLM2 (marked slow): scoring and greedy generation."""

from __future__ import annotations

import pytest

from flowloop.repo import FlowRepo

pytestmark = pytest.mark.slow


def test_loaded_model_scores_and_generates(trained: FlowRepo) -> None:
    from flowloop.models.loader import load_specialist

    v2 = load_specialist(trained, "v2")
    prompt = [{"role": "system", "content": "You review work."}, {"role": "user", "content": "Review: x = 1.5 dollars"}]
    total, n = v2.loglikelihood(prompt, "VIOLATION: money is integer cents.")
    assert total < 0 and n > 3
    bare, n_bare = v2.loglikelihood(prompt, "VIOLATION", end_of_turn=False)
    assert n_bare == len(v2.tokenizer("VIOLATION", add_special_tokens=False)["input_ids"]) and bare < 0
    assert v2.generate(prompt, 6) == v2.generate(prompt, 6)  # greedy: reproducible
    assert v2.version == "v2" and load_specialist(trained, "current").version == "base"
