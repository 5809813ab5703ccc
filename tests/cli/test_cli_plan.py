"""``flow plan "TASK" --files-only`` through the real Typer app, on the example's history, and the
interactive pick on a real terminal (a pty)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.localize.api import fit
from flowloop.localize.service import MAX_TASK_CHARS
from flowloop.models.registry import Registry
from flowloop.pipeline.inputs import load_work_history
from flowloop.repo import FlowRepo
from flowloop.signals.store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ledgerline"
TASK = "Add partial refunds to the payments API"
runner = CliRunner()


@pytest.fixture
def repo(tmp_path: Path) -> FlowRepo:
    root = tmp_path / "ledgerline"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("state"))
    found = FlowRepo(root)
    with open_store(found) as store:
        store.import_jsonl(root / ".flow" / "signals" / "events.jsonl")
    return found


def flow(repo: FlowRepo, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["-C", str(repo.root), *args])


def test_before_a_localizer_is_promoted_it_is_retrieval_only_and_says_so(repo: FlowRepo) -> None:
    out = flow(repo, "plan", TASK, "--files-only", "--json")
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert answer["method"] == "retrieval-only" and answer["files"] and answer["version"] is None
    assert "no trained localizer yet" in answer["note"]


def test_the_promoted_localizer_answers(repo: FlowRepo) -> None:
    work = [w for w in load_work_history(repo) if w.files]
    model, _ = fit(work, work)
    registry = Registry(repo, "localizer")
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        registry.register(Path(tmp), {"pass": "localizer", "base_model": "logistic-regression", "dataset_version": 1})
    registry.promote("v1", "test")
    out = flow(repo, "plan", TASK, "--files-only")
    assert out.exit_code == 0, out.output
    assert "src/ledgerline/payments/refunds.py" in out.stdout
    assert "by localizer v1" in out.stderr


@pytest.mark.parametrize("args, message", [
    (["   ", "--files-only"], "task description is empty"),
    (["x" * (MAX_TASK_CHARS + 1), "--files-only"], f"the limit is {MAX_TASK_CHARS}"),
    ([TASK, "--n", "0"], "N must be from 1 to 8"),
    ([TASK, "--files-only", "--model", "v7"], "no model version v7"),
])
def test_bad_input_is_a_clear_message(repo: FlowRepo, args: list[str], message: str) -> None:
    out = flow(repo, "plan", *args)
    assert out.exit_code != 0 and message in out.stderr, out.output
    assert not (repo.state_dir / "models" / "localizer").exists() or message.startswith("no model")


def test_on_a_terminal_flow_plan_asks_which_plan_to_take(repo: FlowRepo) -> None:
    """A real pseudo-terminal: the drafts are shown, the prompt asks, the answer records the pick."""
    import os
    import pty
    import select
    import subprocess
    import sys

    from flowloop.signals.api import list_events

    flow_bin = str(Path(sys.executable).with_name("flow"))
    env = {**os.environ, "FLOW_INFERENCE__BACKEND": "fake", "COLUMNS": "120", "TERM": "xterm"}
    master, slave = pty.openpty()
    proc = subprocess.Popen([flow_bin, "-C", str(repo.root), "plan", TASK, "--n", "1", "--task", "LED-950"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while b"take which plan?" not in seen:
            ready, _, _ = select.select([master], [], [], 120)
            assert ready, seen.decode(errors="replace")
            seen += os.read(master, 65536)
        os.write(master, b"1\n")
        while proc.poll() is None or select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = seen.decode(errors="replace")
    assert "plan 1" in text and "chose plan 1" in text
    assert [e.kind for e in list_events(repo, task="LED-950")] == ["approval"]
