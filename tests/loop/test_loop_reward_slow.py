"""`flow loop` trains the reward pass once its threshold is met (it is registered, nothing else
names it), and hands the version to the reward gate rather than the specialist's (slow)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flowloop.loop import run_loop
from flowloop.models.registry import Registry
from flowloop.repo import FlowRepo
from flowloop.signals.events import CorrectionEvent
from flowloop.signals.store import open_store
from helpers_reward import BAD, GOOD
from helpers_train import small_repo

pytestmark = pytest.mark.slow


def test_the_loop_trains_the_reward_model_when_its_threshold_is_met(tmp_path: Path, base_checkpoint: Path) -> None:
    repo = small_repo(tmp_path / "repo", sft_threshold=1000, dpo_threshold=1000)  # only the reward pass is ready
    text = repo.config_path.read_text(encoding="utf-8")
    repo.config_path.write_text(text + "\n[train.reward]\nthreshold = 6\nloop_max_steps = 2\n", encoding="utf-8")
    repo = FlowRepo(repo.root)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with open_store(repo) as store:
        # One task each: the newest tasks are held out, the slice the reward gate judges on.
        store.add([CorrectionEvent(context="Money is integer cents.", agent=bad, correction=good, task=f"task-{i}",
                                   created_at=start + dt.timedelta(days=i))
                   for i, (bad, good) in enumerate(zip(BAD, GOOD))])
    summary = run_loop(repo)
    reward = next(m for m in summary.messages if m.startswith("Reward:"))
    assert reward.startswith("Reward: trained v1 on 6 new labelled outputs (2 steps, cap 2)"), reward
    assert "reward v1" in reward  # the reward gate's verdict follows on the same line
    assert Registry(repo, "reward").get("v1").pass_name == "reward"
    assert Registry(repo).versions() == [] and summary.trained == []  # not a specialist candidate


def test_the_loop_does_not_train_a_pass_its_gate_cannot_judge(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo", sft_threshold=1000, dpo_threshold=1000)
    text = repo.config_path.read_text(encoding="utf-8")
    repo.config_path.write_text(text + "\n[train.reward]\nthreshold = 6\nloop_max_steps = 2\n", encoding="utf-8")
    repo = FlowRepo(repo.root)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)  # every correction before the held-out tasks
    with open_store(repo) as store:
        store.add([CorrectionEvent(context="Money is integer cents.", agent=bad, correction=good,
                                   created_at=start + dt.timedelta(days=i))
                   for i, (bad, good) in enumerate(zip(BAD, GOOD))])
    summary = run_loop(repo)
    reward = next(m for m in summary.messages if m.startswith("Reward:"))
    assert reward == ("Reward: no held-out rows (reward_heldout.jsonl) for its gate to judge a new version on; "
                      "not trained"), reward
    assert Registry(repo, "reward").versions() == []
