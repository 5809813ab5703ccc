"""Packed SFT batches: loss only on completions, and no example attends to another (slow).

The batches come from TRL's own preparation with ``sft_batching_args("packed")`` (the
arguments ``flow train sft`` uses), taken from the trainer's dataloader; the model is the
packaged SmolLM2 with its default (SDPA) attention.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from helpers_train import sft_row

from flowloop.train.packing import dpo_batching_args, group_pairs, sft_batching_args

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_and_tokenizer(base_checkpoint: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base_checkpoint, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(base_checkpoint)
    return model, tokenizer


def rows(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        row = sft_row(i)
        # different lengths, so best-fit packing puts several examples in one row
        row["prompt"][1]["content"] += " Context: " + "ledger posting " * (i * 7 % 23)
        out.append(row)
    return out


def packed_batch(tmp_path: Path, model: Any, tokenizer: Any, examples: list[dict[str, Any]],
                 max_length: int = 256) -> dict[str, torch.Tensor]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=1, max_length=max_length,
                       completion_only_loss=True, report_to="none", use_cpu=True, disable_tqdm=True,
                       **sft_batching_args("packed"))
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(examples),
                         processing_class=tokenizer)
    assert trainer.model.config._attn_implementation == "sdpa"
    batch = next(iter(trainer.get_train_dataloader()))
    return {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def segments(position_ids: torch.Tensor) -> list[tuple[int, int]]:
    starts = (position_ids == 0).nonzero().flatten().tolist() + [position_ids.numel()]
    return [(a, b) for a, b in zip(starts, starts[1:]) if b > a]


def test_a_packed_row_holds_several_examples_without_padding(tmp_path: Path, model_and_tokenizer: Any) -> None:
    model, tokenizer = model_and_tokenizer
    batch = packed_batch(tmp_path, model, tokenizer, rows(6))
    assert "attention_mask" not in batch  # padding-free: the boundaries are in the position ids
    assert len(segments(batch["position_ids"][0])) >= 2


def test_loss_falls_on_completion_tokens_only(tmp_path: Path, model_and_tokenizer: Any) -> None:
    model, tokenizer = model_and_tokenizer
    examples = rows(6)
    batch = packed_batch(tmp_path, model, tokenizer, examples)
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    completions = {r["completion"][0]["content"] for r in examples}
    found = 0
    for start, end in segments(batch["position_ids"][0]):
        trained = labels[start:end][labels[start:end] != -100]
        prompt_len = (labels[start:end] != -100).nonzero().flatten()[0].item()
        text = tokenizer.decode(trained)
        # exactly one example's completion (plus the end-of-turn token), nothing of its prompt
        assert text.replace("<|im_end|>", "").strip() in completions
        assert torch.equal(trained, ids[start + prompt_len:end][labels[start + prompt_len:end] != -100])
        assert "Which files and areas" not in text and "Task:" not in text
        found += 1
    assert found >= 2


def test_packed_examples_do_not_attend_to_each_other(tmp_path: Path, model_and_tokenizer: Any) -> None:
    model, tokenizer = model_and_tokenizer
    batch = packed_batch(tmp_path, model, tokenizer, rows(6))
    ids, positions = batch["input_ids"], batch["position_ids"]
    spans = segments(positions[0])
    assert len(spans) >= 2
    with torch.no_grad():
        packed = model(input_ids=ids, position_ids=positions).logits[0]
        for start, end in spans:
            alone = model(input_ids=ids[:, start:end]).logits[0]
            # equal up to float noise; attending across the boundary changes them by whole units
            torch.testing.assert_close(packed[start:end], alone, atol=2e-3, rtol=1e-3)
        # the check has teeth: the same row as one causal sequence gives other logits after the first example
        causal = model(input_ids=ids).logits[0]
        second = slice(*spans[1])
        assert (causal[second] - packed[second]).abs().max() > 0.1


def test_grouped_pairs_come_in_batches_of_similar_length(model_and_tokenizer: Any) -> None:
    from helpers_train import dpo_row

    _model, tokenizer = model_and_tokenizer
    pairs = []
    for i in range(12):
        row = dpo_row(i)
        row["chosen"][0]["content"] = "VIOLATION: " + "money is integer cents. " * (i * 5 % 12)
        pairs.append(row)
    grouped = group_pairs(pairs, tokenizer, batch_size=4, seed=1)
    assert sorted(r["id"] for r in grouped) == sorted(r["id"] for r in pairs)  # same rows, reordered

    def spread(order: list[dict[str, Any]]) -> int:
        size = [len(r["chosen"][0]["content"]) for r in order]
        return sum(max(size[i:i + 4]) - min(size[i:i + 4]) for i in range(0, len(size), 4))

    assert spread(grouped) < spread(pairs)
    assert dpo_batching_args("packed") == dpo_batching_args("grouped")  # TRL 1.16: no padding-free DPO
    assert dpo_batching_args("padded") == {}


@pytest.mark.parametrize("batching", ["packed", "grouped"])
def test_both_passes_train_with_each_batching(tmp_path: Path, base_checkpoint: Path, batching: str) -> None:
    from helpers_train import small_repo, write_dataset

    from flowloop.train.api import train, train_settings

    repo = small_repo(tmp_path / "repo")
    write_dataset(repo)
    settings = train_settings(repo, batching=batching)
    sft = train(repo, "sft", max_steps=1, settings=settings)
    assert sft.version == "v1" and sft.metrics["tokens"] > 0
    dpo = train(repo, "dpo", max_steps=1, settings=settings)
    assert dpo.version == "v2" and dpo.model.manifest["settings"]["batching"] == batching
