"""Evaluation asks its models through the backend registry (``[eval] backend``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowloop.errors import InferenceError
from flowloop.inference.fake import TableScorer
from flowloop.evaluate.runner import evaluate_model
from flowloop.inference import register_backend, unregister_backend
from flowloop.repo import FlowRepo, find_repo

from evalkit import pair, write_dataset


@pytest.fixture
def prefers_good() -> Iterator[str]:
    register_backend("prefers-good", lambda repo, which: TableScorer(which, scores={"good": -1.0, "bad": -2.0}))
    yield "prefers-good"
    unregister_backend("prefers-good")


def test_eval_scores_with_the_configured_backend(flow_repo: FlowRepo, prefers_good: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_dataset(flow_repo, 1, dpo_heldout=[pair(i, f"T-{i}") for i in range(4)])
    monkeypatch.setenv("FLOW_EVAL__BACKEND", prefers_good)
    result = evaluate_model(find_repo(flow_repo.root), "base", ["preference"])
    # the configured backend's scores (3 words of -1 and -2); against itself the base ties
    assert [(d["chosen"], d["rejected"]) for d in result.suites["preference"].details] == [(-3.0, -6.0)] * 4
    assert result.suites["preference"].metrics["win_rate"] == 0.5
    assert result.settings["backend"] == prefers_good
    # The registered fake (empty tables) scores every word -5; its result is stored apart from the other's.
    monkeypatch.setenv("FLOW_EVAL__BACKEND", "fake")
    other = evaluate_model(find_repo(flow_repo.root), "base", ["preference"])
    assert [(d["chosen"], d["rejected"]) for d in other.suites["preference"].details] == [(-15.0, -15.0)] * 4


def test_an_unknown_eval_backend_names_its_setting(flow_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    write_dataset(flow_repo, 1, dpo_heldout=[pair(1, "T-1")])
    monkeypatch.setenv("FLOW_EVAL__BACKEND", "nope")
    with pytest.raises(InferenceError, match="unknown inference backend 'nope'") as info:
        evaluate_model(find_repo(flow_repo.root), "base", ["preference"])
    assert info.value.field == "eval.backend" and "transformers" in (info.value.hint or "")
