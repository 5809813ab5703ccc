"""The reward model kept warm in `flow serve`: `flow validate` asks it, and falls back without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowloop.index.api import build_index
from flowloop.index.warm import state_file
from flowloop.models.registry import Registry
from flowloop.models.reward import FAMILY, load_reward, reward_input
from flowloop.repo import FlowRepo
from flowloop.specialist.units import plan_units
from flowloop.specialist.validate import validate
from flowloop.specialist.warm_scoring import warm_scores
from helpers_serving import start_flow_serve, stop_flow_serve


def test_without_a_server_or_with_a_dead_one_there_are_no_warm_scores(flow_repo: FlowRepo) -> None:
    assert warm_scores(flow_repo, "v1", ["Work:\nx"]) is None
    state_file(flow_repo).parent.mkdir(parents=True, exist_ok=True)
    state_file(flow_repo).write_text(json.dumps({"pid": 999999, "url": "unix:///nonexistent.sock"}))
    assert warm_scores(flow_repo, "v1", ["Work:\nx"], timeout_s=1.0) is None


@pytest.mark.slow
def test_flow_serve_scores_as_the_process_itself_would(reward_trained: FlowRepo, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(reward_trained.root, root)
    repo = FlowRepo(root)
    build_index(repo)
    texts = [reward_input("Keep amounts in integer cents with Money."), reward_input("amount = float(x)", "money rules")]
    here = load_reward(repo, Registry(repo, FAMILY).get("v1")).score(texts)
    proc = start_flow_serve(repo)
    try:
        warm = warm_scores(repo, "v1", texts)
        assert warm is not None and max(abs(a - b) for a, b in zip(warm, here)) < 1e-6
        assert warm_scores(repo, "v9", texts) is None  # an unknown version: the server says 400
        report = validate(repo, plan_units("Store money as a float.", "plan.md"), cite=0)
        assert "scored by the warm server (`flow serve`)" in report.notes and report.scorer == "reward v1"
    finally:
        stop_flow_serve(proc)
    cold = validate(repo, plan_units("Store money as a float.", "plan.md"), cite=0)
    assert cold.notes == [] and abs(cold.results[0].score - report.results[0].score) < 1e-6
