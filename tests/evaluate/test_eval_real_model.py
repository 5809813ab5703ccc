"""The suites with the real base model (SmolLM2-135M from the packaged GGUF) on a tiny dataset."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from flowloop.evaluate.runner import evaluate_model
from flowloop.evaluate.suites import planning, summarise
from flowloop.evaluate.suites.planning import PlanningItem
from flowloop.repo import init_repo

from evalkit import write_dataset


def _pair(i: int, chosen: str, rejected: str) -> dict:
    return {"id": f"pair-{i}", "prompt": [{"role": "user", "content": "How should we store an invoice amount?"}],
            "chosen": [{"role": "assistant", "content": chosen}], "rejected": [{"role": "assistant", "content": rejected}],
            "kind": "preference", "source": "test", "task": f"T-{i}", "time": None, "weight": 1.0}


def _explain(i: int, doc: str, text: str) -> dict:
    return {"id": f"ex-{i}", "kind": "explain", "source": f"pilr:{doc}",
            "prompt": [{"role": "user", "content": f"What does the team say about {doc}?"}],
            "completion": [{"role": "assistant", "content": text}], "task": None}


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from flowloop.models.loader import load_specialist

    repo = init_repo(tmp_path_factory.mktemp("base-model")).repo
    return load_specialist(repo, "base")


@pytest.mark.slow
def test_base_model_on_a_tiny_suite(tmp_path: Path, base_model) -> None:  # type: ignore[no-untyped-def]
    repo = init_repo(tmp_path / "proj").repo
    write_dataset(
        repo, 1,
        dpo_heldout=[
            _pair(1, "Store it as an integer number of cents with its currency code.", "zq xv qq jjj kk zz xq"),
            _pair(2, "Use integer minor units, never floating point numbers.", "blorp fnord wug zzyzx qwop"),
        ],
        eval_validation=[
            {"id": "v1", "text": "amount = 10.5  # floats for money", "context": "Money is integer minor units.", "label": "violating", "source": "t"},
            {"id": "v2", "text": "amount = Money(1050, 'EUR')", "context": "Money is integer minor units.", "label": "compliant", "source": "t"},
        ],
        sft_train=[
            _explain(1, "money", "Amounts are stored as integer minor units with an ISO currency code."),
            _explain(2, "tenancy", "Every table has a tenant_id column and queries use scoped sessions."),
            _explain(3, "webhooks", "Stripe webhooks are deduplicated by their event id before processing."),
        ],
    )
    factory = lambda ref: base_model  # noqa: E731  (the session's loaded base model)
    result = evaluate_model(repo, "base", ["preference", "validation", "knowledge"], factory=factory)
    pref = result.suites["preference"]
    # the base's own likelihood prefers fluent over gibberish, but against itself it ties by construction
    assert pref.n == 2 and all(d["chosen"] > d["rejected"] for d in pref.details)
    assert pref.metrics == {"win_rate": 0.5, "ties": 1.0} and all(d["margin"] == 0.0 for d in pref.details)
    val = result.suites["validation"]
    assert val.n == 2 and all(isinstance(d["flagged"], bool) and math.isfinite(d["margin"]) for d in val.details)
    know = result.suites["knowledge"]
    assert know.n == 3 and 0.0 <= know.metrics["accuracy"] <= 1.0
    assert all(len(d["scores"]) == 3 for d in know.details)
    # Deterministic: scoring again gives the same numbers.
    again = evaluate_model(repo, "base", ["preference", "validation", "knowledge"], factory=factory, reuse=False)
    assert [d["margin"] for d in again.suites["validation"].details] == [d["margin"] for d in val.details]
    assert (repo.state_dir / "evals" / "base-v1.json").is_file()


@pytest.mark.slow
def test_base_model_generates_a_planning_answer(base_model) -> None:  # type: ignore[no-untyped-def]
    from flowloop.config import Settings

    item = PlanningItem(id="p", task="T-1", description="Add a refund endpoint", files=["src/app/refunds.py"],
                        context_text="## Similar past tasks\n- T-0: payments endpoint\n  files: src/app/payments.py, src/app/api.py")
    details = planning.run_model(base_model, [item], Settings(), with_context=True, max_new_tokens=24)
    assert details[0]["answer"]  # the model said something; its files are parsed from it
    result = summarise("planning", details, 100, 1)
    assert result.n == 1 and 0.0 <= result.metrics["f1"] <= 1.0


@pytest.mark.slow
def test_batched_scoring_matches_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Padding must not change a row's numbers: batches of mixed lengths score as rows alone do.

    In fp32, exactly. (In bf16 a near-tie of greedy decoding can flip with the batch shape, which
    is why the suites always batch the same items the same way for every model they compare.)
    """
    from flowloop.models.loader import load_specialist

    monkeypatch.setenv("FLOW_INFERENCE__PRECISION", "fp32")
    model = load_specialist(init_repo(tmp_path).repo, "base", cached=False)
    assert model.precision == "fp32"
    prompts = [
        [{"role": "user", "content": "How should we store an invoice amount?"}],
        [{"role": "system", "content": "You review code."}, {"role": "user", "content": "Review: amount = 10.5 for money in a long line " * 6}],
        [{"role": "user", "content": "Name one file."}],
    ]
    pairs = [(prompts[0], "As integer cents."), (prompts[1], "VIOLATION: floats for money."), (prompts[2], "src/app.py")]
    batched = model.loglikelihood_many(pairs)
    alone = [model.loglikelihood(p, c) for p, c in pairs]
    for (b_sum, b_n), (a_sum, a_n) in zip(batched, alone):
        assert b_n == a_n and abs(b_sum - a_sum) <= 1e-3 * a_n
    assert model.generate_many(prompts, 12) == [model.generate(p, 12) for p in prompts]


def _random_specialist(repo, base_checkpoint: Path, tmp: Path, dataset_hash: str) -> str:  # type: ignore[no-untyped-def]
    """A registered version whose LoRA adapter is random (not trained): a real model that differs from the base."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from flowloop.models.registry import Registry

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_checkpoint),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(tmp / "adapter")
    AutoTokenizer.from_pretrained(base_checkpoint).save_pretrained(tmp / "adapter")
    fields = {"pass": "sft", "base_model": "smollm2", "dataset_version": "v1", "dataset_hash": dataset_hash,
              "settings": {}, "metrics": {}, "parent": None}
    return Registry(repo).register(tmp / "adapter", fields).version


@pytest.mark.slow
def test_a_real_specialists_preference_margin_is_its_log_ratio_against_the_base(
        tmp_path: Path, base_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored margin is (log pi - log base)(chosen) - (log pi - log base)(rejected), summed over
    the answer's tokens, as the two real models score it; swapping every pair negates it."""
    from flowloop.evaluate.results import load_result
    from flowloop.models.loader import load_specialist

    monkeypatch.setenv("FLOW_INFERENCE__PRECISION", "fp32")
    repo = init_repo(tmp_path / "proj").repo
    answers = [("Store it as integer cents with its currency code.", "Use a float, it is simpler."),
               ("Deduplicate webhooks by their event id.", "Process every webhook as it comes.")]
    pairs = [_pair(i, chosen, rejected) for i, (chosen, rejected) in enumerate(answers)]
    digest = write_dataset(repo, 1, dpo_heldout=pairs)
    version = _random_specialist(repo, base_checkpoint, tmp_path, digest)
    details = evaluate_model(repo, version, ["preference"]).suites["preference"].details
    base = load_result(repo, "base", "v1", digest)
    assert base is not None and base.suites["preference"].metrics["win_rate"] == 0.5
    model, reference = load_specialist(repo, version), load_specialist(repo, "base")
    prompt = pairs[0]["prompt"]
    for row, (chosen, rejected) in zip(details, answers):
        ratio = [model.loglikelihood(prompt, text)[0] - reference.loglikelihood(prompt, text)[0] for text in (chosen, rejected)]
        assert row["margin"] == pytest.approx(ratio[0] - ratio[1], abs=1e-2)
        assert row["margin"] != 0.0 and row["win"] == (1.0 if row["margin"] > 0 else 0.0)
    swapped = [_pair(i, rejected, chosen) for i, (chosen, rejected) in enumerate(answers)]
    write_dataset(repo, 2, dpo_heldout=swapped)
    flipped = evaluate_model(repo, version, ["preference"], dataset="v2").suites["preference"].details
    assert [r["margin"] for r in flipped] == pytest.approx([-r["margin"] for r in details], abs=1e-2)
    assert [r["win"] for r in flipped] == [1.0 - r["win"] for r in details]
