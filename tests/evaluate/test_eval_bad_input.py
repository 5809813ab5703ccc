"""Bad input to `flow eval`: each a clear message and a non-zero exit; nothing partial stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import EvaluationError
from flowloop.inference.fake import TableScorer
from flowloop.evaluate.runner import evaluate_model
from flowloop.repo import FlowRepo

from evalkit import pair, register_model, store_known_result, write_dataset


def flow(repo: FlowRepo, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["-C", str(repo.root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_no_dataset_yet(flow_repo: FlowRepo) -> None:
    code, _, err = flow(flow_repo, "eval", "--model", "base")
    assert code == 1
    assert "no dataset has been built yet" in err and "flow dataset build" in err


def test_no_held_out_data(flow_repo: FlowRepo) -> None:
    write_dataset(flow_repo, 1, sft_train=[{"id": "s", "task": "T-1"}])
    code, _, err = flow(flow_repo, "eval", "--model", "base", "--suite", "planning", "--suite", "preference")
    assert code == 1
    assert "has no held-out data for planning, preference" in err
    assert not (flow_repo.state_dir / "evals").exists() or not list((flow_repo.state_dir / "evals").glob("base-*"))


def test_unknown_model_version(flow_repo: FlowRepo) -> None:
    write_dataset(flow_repo, 1, dpo_heldout=[pair(1, "T-9")])
    code, _, err = flow(flow_repo, "eval", "--model", "v9")
    assert code == 1 and "no model version v9" in err
    code, _, err = flow(flow_repo, "eval", "--model", "newest")
    assert code == 1 and "unknown model 'newest'" in err


def test_unknown_suite(flow_repo: FlowRepo) -> None:
    write_dataset(flow_repo, 1, dpo_heldout=[pair(1, "T-9")])
    code, _, err = flow(flow_repo, "eval", "--model", "base", "--suite", "speed")
    assert code == 1 and "unknown suite 'speed'" in err and "planning" in err


def test_model_trained_on_a_dataset_that_changed_since(flow_repo: FlowRepo, tmp_path: Path) -> None:
    digest = write_dataset(flow_repo, 1, dpo_heldout=[pair(1, "T-9")])
    version = register_model(flow_repo, tmp_path, "v1", digest)
    # The dataset folder is rewritten with other content after training.
    write_dataset(flow_repo, 1, dpo_heldout=[pair(2, "T-10")])
    code, _, err = flow(flow_repo, "eval", "--model", version)
    assert code == 1
    assert "dataset and model do not match" in err and digest[:12] in err and "retrain" in err


def test_model_trained_on_tasks_that_the_dataset_holds_out(flow_repo: FlowRepo, tmp_path: Path) -> None:
    old = write_dataset(flow_repo, 1, eval_planning=[{"id": "p", "task": "T-5", "description": "d", "files": ["a.py"]}])
    newer = write_dataset(flow_repo, 2, sft_train=[{"id": "s", "task": "T-5"}], dpo_heldout=[pair(1, "T-9")])
    version = register_model(flow_repo, tmp_path, "v2", newer)
    with pytest.raises(EvaluationError, match=r"trained on 1 task\(s\) held out in dataset v1: T-5"):
        evaluate_model(flow_repo, version, dataset="v1", factory=lambda ref: TableScorer(ref.version))
    assert old != newer


def test_interrupted_eval_stores_nothing(flow_repo: FlowRepo) -> None:
    write_dataset(flow_repo, 1, dpo_heldout=[pair(i, f"T-{i}") for i in range(6)])

    class Interrupted(TableScorer):
        def loglikelihood(self, prompt_messages, completion_text, **kw):  # type: ignore[no-untyped-def]
            if self.calls >= 5:
                raise KeyboardInterrupt
            return super().loglikelihood(prompt_messages, completion_text, **kw)

    with pytest.raises(KeyboardInterrupt):
        evaluate_model(flow_repo, "base", factory=lambda ref: Interrupted(ref.version))
    evals = flow_repo.state_dir / "evals"
    assert not evals.exists() or list(evals.iterdir()) == []
    # Run again uninterrupted: one complete result.
    done = evaluate_model(flow_repo, "base", factory=lambda ref: TableScorer(ref.version, scores={"good": -1.0}))
    assert done.suites["preference"].n == 6 and done.suites["preference"].metrics["win_rate"] == 0.5  # base vs itself
    assert [p.name for p in evals.iterdir()] == ["base-v1.json"]


def test_json_output_shape(flow_repo: FlowRepo, tmp_path: Path) -> None:
    rows = [{"id": f"t{i}", "task": f"T-{i}", "description": "d", "files": ["a.py"]} for i in range(4)]
    digest = write_dataset(flow_repo, 1, eval_planning=rows, dpo_heldout=[pair(1, "T-1")])
    version = register_model(flow_repo, tmp_path, "v1", digest)
    store_known_result(flow_repo, version, ("v1", digest), [0.5, 0.6, 0.7, 0.8])
    code, out, err = flow(flow_repo, "eval", "--model", version, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"model", "dataset", "suites", "baselines"}
    assert data["model"] == version and data["dataset"] == "v1"
    assert set(data["suites"]["planning"]) == {"f1", "precision", "recall", "n", "ci"}
    assert data["suites"]["planning"]["f1"] == pytest.approx(0.65) and data["suites"]["planning"]["n"] == 4
    assert set(data["suites"]["preference"]) == {"win_rate", "ties", "n", "ci"}
    assert set(data["suites"]["validation"]) == {"precision", "recall", "f1", "auroc", "n", "ci"}
    lo, hi = data["suites"]["planning"]["ci"]["f1"]
    assert lo <= 0.65 <= hi
    assert set(data["baselines"]) == {"base", "retrieval_only", "alone"}
    assert set(data["baselines"]["retrieval_only"]["planning"]) == {"f1", "precision", "recall", "n", "ci"}
    # The human table renders the same numbers side by side.
    code, out, _ = flow(flow_repo, "eval", "--model", version)
    assert code == 0 and "retrieval only" in out and "with context" in out
    # both reviewers' table, here with the generative one only (no reward model promoted)
    assert "Validation: catching violations" in out and "generative v1" in out and "reward model" not in out
