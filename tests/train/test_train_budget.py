"""A time budget stops a real run cleanly with a checkpoint; the next run resumes there (slow).

The budget is far below one step's time, so the run stops after its first step whatever the
machine's speed (the stop is decided by the budget, never asserted as a wall time).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_train import small_repo, write_dataset

from flowloop.models.registry import Registry
from flowloop.train.api import train, train_settings
from flowloop.train.callbacks import TimeBudget

pytestmark = pytest.mark.slow


def test_a_budget_stops_registers_and_the_next_run_resumes(tmp_path: Path, base_checkpoint: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    write_dataset(repo)
    settings = train_settings(repo, max_minutes=0.0001, save_steps=100)  # no step checkpoint of its own
    first = train(repo, "sft", max_steps=3, settings=settings)
    assert first.metrics["stopped_by"] == "time budget" and first.metrics["steps"] == 1
    assert first.version == "v1"  # tonight's progress is evaluable
    run = repo.state_dir / "runs" / first.run_id
    state = json.loads((run / "run.json").read_text())
    assert state["status"] == "paused" and state["checkpoint_step"] == 1
    assert (run / "checkpoints" / "checkpoint-1" / "trainer_state.json").is_file()

    second = train(repo, "sft", max_steps=3, settings=settings.model_copy(update={"max_minutes": 0.0}))
    assert second.run_id == first.run_id  # the same job, continued
    assert second.metrics["resumed_from_step"] == 1 and second.metrics["steps"] == 3
    assert "stopped_by" not in second.metrics
    assert second.version == "v2" and Registry(repo).get("v2").metrics["steps"] == 3
    assert json.loads((run / "run.json").read_text())["status"] == "done"
    assert not (run / "checkpoints").exists()


def test_the_budget_lets_the_last_step_finish_normally() -> None:
    from transformers import TrainerControl, TrainerState

    ticks = iter([0.0, 0.0, 100.0])
    budget = TimeBudget(0.5, clock=lambda: next(ticks))  # 30 s budget, a 100 s step
    state, control = TrainerState(global_step=0, max_steps=1), TrainerControl()
    budget.on_train_begin(None, state, control)  # type: ignore[arg-type]
    budget.on_step_begin(None, state, control)  # type: ignore[arg-type]
    state.global_step = 1
    budget.on_step_end(None, state, control)  # type: ignore[arg-type]
    assert not budget.stopped and not control.should_training_stop
