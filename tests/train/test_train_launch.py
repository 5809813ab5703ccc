"""The multi-process path runs: `accelerate launch` with two CPU processes (DDP over gloo) (slow).

The launch line is the one ``flow train --launcher accelerate`` runs (``flowloop.train.launch``),
with the config written for two processes. The adapter it registers must load and match a
single-process run's: same tensors and shapes, same kind of registry entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_train import small_repo, write_dataset

from flowloop.models.registry import Registry
from flowloop.train.api import train
from flowloop.train.launch import accelerate_command, write_accelerate_config

pytestmark = pytest.mark.slow


def adapter_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    with safe_open(str(folder / "adapter_model.safetensors"), framework="pt") as f:
        return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}


def test_two_cpu_processes_train_and_register_one_adapter(tmp_path: Path, base_checkpoint: Path) -> None:
    repo = small_repo(tmp_path / "multi")
    write_dataset(repo)
    config = write_accelerate_config(repo, num_processes=2)
    assert "distributed_type: MULTI_CPU" in config.read_text()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = accelerate_command(config, repo, "sft", ["--max-steps", "2", "--json"])
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count('"version"') == 1  # the main process alone registers and reports
    assert json.loads(done.stdout[done.stdout.index("{"):])["version"] == "v1"
    multi = Registry(repo).get("v1")
    assert multi.manifest["metrics"]["steps"] == 2
    runs = [p for p in (repo.state_dir / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1 and json.loads((runs[0] / "run.json").read_text())["status"] == "done"

    single_repo = small_repo(tmp_path / "single")
    write_dataset(single_repo)
    single = train(single_repo, "sft", max_steps=2).model
    assert single is not None
    assert adapter_shapes(multi.adapter_dir) == adapter_shapes(single.adapter_dir)
    # both ranks trained: a step saw two per-device batches (tokens are gathered over processes)
    assert multi.manifest["metrics"]["tokens"] > 1.5 * single.manifest["metrics"]["tokens"]
    assert set(multi.manifest) == set(single.manifest)
    for key in ("pass", "base_model", "dataset_hash", "settings", "parent"):
        assert multi.manifest[key] == single.manifest[key], key

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_checkpoint), multi.adapter_dir)
    assert model.active_adapter == "default"
