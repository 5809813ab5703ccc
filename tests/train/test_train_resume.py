"""An interrupted run resumes from its last checkpoint: the step counter continues (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_train import small_repo, write_dataset
from transformers import TrainerCallback

from flowloop.errors import TrainingError
from flowloop.models.registry import Registry
from flowloop.train.api import train

pytestmark = pytest.mark.slow


class InterruptAfterSave(TrainerCallback):
    """Ctrl-C right after the checkpoint of ``step`` is written (deterministic)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if state.global_step >= self.step:
            raise KeyboardInterrupt


def test_interrupted_run_resumes_where_it_stopped(tmp_path: Path, base_checkpoint: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    write_dataset(repo)
    seen: list[tuple[int, int]] = []
    with pytest.raises(TrainingError) as err:
        train(repo, "sft", max_steps=3, callbacks=[InterruptAfterSave(2)],
              progress=lambda step, total: seen.append((step, total)))
    assert "interrupted at step 2" in err.value.message and "resume" in err.value.hint
    runs = list((repo.state_dir / "runs").iterdir())
    assert len(runs) == 1
    state = json.loads((runs[0] / "run.json").read_text())
    assert state["status"] == "interrupted" and state["checkpoint_step"] == 2
    assert Registry(repo).versions() == []  # nothing registered from a half run
    assert seen[-1] == (2, 3)

    steps: list[int] = []
    result = train(repo, "sft", max_steps=3, progress=lambda step, total: steps.append(step))
    assert result.run_id == runs[0].name  # the same run, not a new one
    assert result.metrics["resumed_from_step"] == 2
    assert result.metrics["session_steps"] == 1 and result.metrics["steps"] == 3
    assert steps[0] == 2 and steps[-1] == 3 and 1 not in steps  # continued, not restarted
    assert result.version == "v1" and result.model.metrics["steps"] == 3

    # --resume with nothing unfinished is an error; a finished job trains anew as a new run
    with pytest.raises(TrainingError, match="no unfinished SFT run"):
        train(repo, "sft", max_steps=1, resume="require")


def test_the_accelerate_entry_runs_as_a_single_process(tmp_path: Path, base_checkpoint: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    write_dataset(repo)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "flowloop.cli.train_entry", "sft", "-C", str(repo.root), "--max-steps", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["version"] == "v1"
    printed = subprocess.run(
        [str(Path(sys.executable).with_name("flow")), "-C", str(repo.root), "train", "sft", "--launcher",
         "accelerate", "--max-steps", "3", "--print-only"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert printed.returncode == 0, printed.stderr
    assert "launch --config_file" in printed.stdout and "-m flowloop.cli.train_entry sft" in printed.stdout
    assert "--max-steps 3" in printed.stdout
    assert (repo.state_dir / "runs" / "accelerate.yaml").is_file()
