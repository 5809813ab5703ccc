"""`flow loop` scheduling safety: one run at a time, resume after a failure, nothing new -> exit 0.

Real git repositories, the real signals store and dataset build; training is not reached here
(the data stays below the thresholds), so these run in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowloop.errors import DocumentError, LockError
from flowloop.loop import LoopLock, run_loop
from flowloop.loop.state import load_state, state_path
from flowloop.repo import FlowRepo, init_repo

FLOW = Path(sys.executable).parent / "flow"


def _commit(repo: Path, name: str, message: str) -> None:
    (repo / name).write_text(f"# {message}\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)})


@pytest.fixture
def loop_repo(git_repo: Path) -> FlowRepo:
    repo = init_repo(git_repo).repo
    _commit(git_repo, "parser.py", "Add the invoice parser")
    return repo


def test_second_loop_while_one_runs_is_refused(loop_repo: FlowRepo) -> None:
    lock_path = loop_repo.state_dir / "loop.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from flowloop.loop import LoopLock\n"
         f"with LoopLock(Path({str(lock_path)!r})):\n    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match="another `flow loop` is running"):
            run_loop(loop_repo)
        out = subprocess.run([str(FLOW), "-C", str(loop_repo.root), "loop"], capture_output=True, text=True)
        assert out.returncode != 0
        assert "another `flow loop` is running" in out.stderr and f"pid {holder.pid}" in out.stderr
    finally:
        holder.communicate("", timeout=30)
    # Released when the holder exits: the next run goes ahead.
    assert run_loop(loop_repo).run == 1


def test_lock_is_exclusive_within_a_process_too(tmp_path: Path) -> None:
    with LoopLock(tmp_path / "loop.lock"):
        with pytest.raises(LockError):
            with LoopLock(tmp_path / "loop.lock"):
                pass
    with LoopLock(tmp_path / "loop.lock"):  # released
        pass


def test_interrupted_run_resumes_at_the_failed_stage(loop_repo: FlowRepo) -> None:
    broken = loop_repo.pilr_dir("evergreen") / "broken.md"
    broken.write_text("---\nid: broken\ntype: evergreen\n---\nno title\n", encoding="utf-8")
    with pytest.raises(DocumentError):
        run_loop(loop_repo)
    state = load_state(loop_repo)
    assert state is not None and state.status == "failed"
    assert state.done("collect") and not state.done("dataset")
    collected_at = state.stages["collect"]["finished_at"]
    assert state.result("collect")["added"] >= 1

    broken.unlink()
    time.sleep(1.1)  # stage timestamps have one-second resolution
    summary = run_loop(loop_repo)
    assert summary.resumed and summary.run == state.run
    after = load_state(loop_repo)
    assert after is not None and after.status == "done" and after.resumed == 1
    assert after.stages["collect"]["finished_at"] == collected_at  # not redone
    assert all(after.done(stage) for stage in ("dataset", "train_sft", "train_dpo", "evaluate", "promote", "report"))
    assert summary.dataset == "v1"
    assert (loop_repo.state_dir / "loop" / "runs" / f"run-{after.run}.json").is_file()


def test_nothing_new_says_so_and_exits_zero(loop_repo: FlowRepo) -> None:
    first = run_loop(loop_repo)
    assert not first.trained and first.report and Path(first.report).is_file()
    assert any("below threshold" in m for m in first.messages)
    out = subprocess.run([str(FLOW), "-C", str(loop_repo.root), "loop"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "nothing new" in out.stdout
    again = json.loads(subprocess.run([str(FLOW), "-C", str(loop_repo.root), "loop", "--json"],
                                      capture_output=True, text=True, check=True).stdout)
    assert again["nothing_new"] is True and again["run"] == 3
    # New work arrives: the next run collects it and builds a new dataset.
    _commit(loop_repo.root, "tax.py", "Add tax rounding")
    later = run_loop(loop_repo)
    assert not later.nothing_new and later.dataset == "v2"
    assert json.loads(state_path(loop_repo).read_text())["stages"]["collect"]["result"]["added"] >= 1


def test_a_folder_that_is_not_a_git_work_tree_skips_collection(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "plain").repo
    meta = "---\nid: evg-money\ntype: evergreen\ntitle: Money\ncreated: 2025-01-02\nupdated: 2025-01-02\n---\n"
    (repo.pilr_dir("evergreen") / "evg-money.md").write_text(meta + "## Rule\n\nMoney is integer minor units always.\n")
    summary = run_loop(repo)
    assert load_state(repo).result("collect")["git"] is False  # type: ignore[union-attr]
    assert summary.dataset == "v1"


def test_a_pass_counts_only_examples_its_last_model_never_saw(flow_repo: FlowRepo, tmp_path: Path) -> None:
    from evalkit import pair, register_model, write_dataset

    from flowloop.loop.policy import new_examples

    sft = lambda ids: [{"id": i, "task": "T-1"} for i in ids]  # noqa: E731
    first = write_dataset(flow_repo, 1, sft_train=sft(["a", "b"]), dpo_train=[pair(1, "T-1")])
    write_dataset(flow_repo, 2, sft_train=sft(["a", "b", "c", "d", "e"]), dpo_train=[pair(1, "T-1"), pair(2, "T-2")])
    assert new_examples(flow_repo, "sft", "v2") == (5, None)  # no SFT model yet: everything is new
    version = register_model(flow_repo, tmp_path, "v1", first, "sft")
    assert new_examples(flow_repo, "sft", "v2") == (3, version)
    assert new_examples(flow_repo, "dpo", "v2") == (2, None)
    dpo = register_model(flow_repo, tmp_path, "v1", first, "dpo")
    assert new_examples(flow_repo, "dpo", "v2") == (1, dpo)


def test_a_log_gets_one_line_per_stage_with_counts_and_times(loop_repo: FlowRepo) -> None:
    # subprocess stderr is a pipe, not a terminal: what a CI log or cron mail receives
    out = subprocess.run([str(FLOW), "-C", str(loop_repo.root), "loop"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    for stage in ("collect", "dataset", "train_sft", "train_dpo", "report"):
        assert f"[loop] {stage}: started" in lines
        assert any(line.startswith(f"[loop] {stage}: done in ") for line in lines), out.stderr
    assert any(line.startswith("[loop] collect: done in") and "new events" in line for line in lines)
    assert any("[loop] dataset: done in" in line and "sft 0/50" in line for line in lines)
    assert "[loop] evaluate: skipped (nothing trained)" in lines
    assert "[loop] promote: skipped (nothing trained)" in lines
    from flowloop.loop.stages import stage_names

    # every stage but evaluate and promote starts and ends, those two are skipped, and two more lines
    # (16 with the sft, dpo and reward passes)
    assert sum(1 for line in lines if line.startswith("[loop] ")) == 2 * (len(stage_names()) - 2) + 4


def test_a_config_with_old_keys_runs_and_names_the_new_ones(loop_repo: FlowRepo) -> None:
    text = loop_repo.config_path.read_text(encoding="utf-8").replace("[train.sft]\nthreshold = 50\n", "")
    loop_repo.config_path.write_text(text + "\n[loop]\nsft_max_steps = 5\n", encoding="utf-8")
    text = loop_repo.config_path.read_text(encoding="utf-8").replace(
        "[dataset]\nholdout_share = 0.2\n", "[dataset]\nholdout_share = 0.2\nsft_threshold = 40\n")
    loop_repo.config_path.write_text(text, encoding="utf-8")
    out = subprocess.run([str(FLOW), "-C", str(loop_repo.root), "loop", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "warning: config.toml: [dataset] sft_threshold is deprecated: use [train.sft] threshold" in out.stderr
    assert "[loop] sft_max_steps is deprecated: use [train.sft] loop_max_steps" in out.stderr
    summary = json.loads(out.stdout)
    assert "SFT: below threshold (0 of 40 documents)" in summary["stages"]["train_sft"]["result"]["message"]
