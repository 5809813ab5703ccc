"""Which merged reward checkpoints the torch-only pass runs (the rest load through transformers)."""

from __future__ import annotations

import json
from pathlib import Path

from flowloop.models.llama_classifier import supports

LLAMA = {"model_type": "llama", "architectures": ["LlamaForSequenceClassification"], "hidden_act": "silu",
         "attention_bias": False, "mlp_bias": False, "pad_token_id": 2, "rope_parameters": {"rope_theta": 1e5}}


def checkpoint(folder: Path, **changes: object) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**LLAMA, **changes}), encoding="utf-8")
    for name in ("model.safetensors", "tokenizer.json"):
        (folder / name).write_bytes(b"")
    return folder


def test_a_plain_llama_classifier_is_run_by_the_torch_pass(tmp_path: Path) -> None:
    assert supports(checkpoint(tmp_path / "llama"))
    assert supports(checkpoint(tmp_path / "old-spelling", rope_parameters=None, rope_theta=1e4))


def test_anything_it_would_not_compute_exactly_goes_to_transformers(tmp_path: Path) -> None:
    assert not supports(checkpoint(tmp_path / "qwen", model_type="qwen2", architectures=["Qwen2ForSequenceClassification"]))
    assert not supports(checkpoint(tmp_path / "biased", attention_bias=True))
    assert not supports(checkpoint(tmp_path / "scaled", rope_parameters={"rope_type": "llama3", "rope_theta": 5e5}))
    assert not supports(checkpoint(tmp_path / "no-pad", pad_token_id=None))
    missing = checkpoint(tmp_path / "no-weights")
    (missing / "model.safetensors").unlink()
    assert not supports(missing)
    assert not supports(tmp_path / "nothing-here")
