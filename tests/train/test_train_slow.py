"""The whole training path on the real SmolLM2, a few steps each (marked slow).

The session's ``trained`` repository (``tests/conftest.py``): `flow train sft` registers v1,
`flow train dpo` continues it as v2. How the versions load and answer is tested beside the code
that does it: ``tests/models`` (loading) and ``tests/specialist`` (`flow ask`, serving).
"""

from __future__ import annotations

import json

import pytest

from flowloop.models.registry import Registry
from flowloop.repo import FlowRepo

pytestmark = pytest.mark.slow


def test_sft_registers_v1_with_its_lineage_and_metrics(trained: FlowRepo) -> None:
    v1 = Registry(trained).get("v1")
    m = v1.manifest
    assert (m["pass"], m["parent"], m["base_model"], m["dataset_version"]) == ("sft", None, "smollm2", 1)
    assert len(m["dataset_hash"]) == 64 and m["settings"]["lora_r"] == 4 and m["settings"]["max_steps"] == 2
    assert m["metrics"]["steps"] == 2 and m["metrics"]["tokens"] > 0 and m["metrics"]["loss"] > 0
    assert m["metrics"]["tokens_per_second"] > 0 and m["hardware"]["device"] in ("cpu", "cuda")
    adapter = v1.adapter_dir
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "adapter_config.json").is_file()
    # The exported adapter carries the chat template and EOS token it was trained with.
    config = json.loads((adapter / "tokenizer_config.json").read_text())
    assert config["eos_token"] == "<|im_end|>"
    assert (adapter / "chat_template.jinja").is_file() or config.get("chat_template")
    run = json.loads((trained.state_dir / "runs" / m["run_id"] / "run.json").read_text())
    assert run["status"] == "done" and run["version"] == "v1"
    assert not (trained.state_dir / "runs" / m["run_id"] / "checkpoints").exists()


def test_dpo_continues_from_the_sft_version(trained: FlowRepo) -> None:
    v2 = Registry(trained).get("v2")
    assert (v2.pass_name, v2.parent) == ("dpo", "v1")
    assert v2.metrics["steps"] == 2
    assert "rewards/accuracies" in v2.metrics["last_log"]
    assert not (v2.adapter_dir / "ref").exists()  # the frozen reference copy is not exported
