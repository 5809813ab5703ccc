"""Context hooks with no server: the installed command, run as the agent runs it, injects the pack.

Real pieces throughout: a real index built from a PILR, the command string `flow hooks install`
wrote, `/bin/sh -c` with the system PATH only (an agent need not have the venv on its PATH), and
the recorded Claude Code payloads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowloop.cli.hook import budget_s
from flowloop.cli.main import app
from flowloop.index.api import build_index
from flowloop.integrations.hooks import handle_hook
from flowloop.integrations.hooks.install import install_hooks
from flowloop.pilr.model import PilrMeta, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo, init_repo

PAYLOADS = Path(__file__).parent / "payloads"
FLOW = Path(sys.executable).with_name("flow").absolute()
runner = CliRunner()


@pytest.fixture
def indexed(tmp_path: Path) -> FlowRepo:
    repo = init_repo(tmp_path / "ledger").repo
    config = repo.config_path.read_text().replace('description = ""', 'description = "Refunds and invoices: money amounts"')
    repo.config_path.write_text(config)  # what a new session is about (no branch: not in git)
    PilrStore(repo).create(
        PilrMeta(id="evg-money-decimal", type=PilrType("evergreen"), title="Money amounts are Decimal",
                 created=dt.date(2025, 1, 1), updated=dt.date(2025, 1, 1)),
        "## Decision\n\nRefund and invoice amounts are `decimal.Decimal`, never float; round half-even to cents.\n",
    )
    build_index(repo)
    return repo


def prompt_payload(repo: FlowRepo, prompt: str) -> dict[str, Any]:
    data = json.loads((PAYLOADS / "user_prompt_submit.json").read_text())
    data.update(cwd=str(repo.root), transcript_path=str(repo.root / "transcript.jsonl"), prompt=prompt)
    return data


def installed_command(repo: FlowRepo, event: str, agent: str = "claude-code") -> tuple[str, int]:
    path = repo.root / (".claude/settings.json" if agent == "claude-code" else ".codex/hooks.json")
    [group] = json.loads(path.read_text())["hooks"][event]
    handler = group["hooks"][0]
    return handler["command"], handler["timeout"]


def run_as_agent(repo: FlowRepo, command: str, stdin: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """What Claude Code does: the command through a shell, JSON on stdin, its project dir set."""
    env = {**os.environ, "PATH": os.defpath, "CLAUDE_PROJECT_DIR": str(repo.root)}
    return subprocess.run(["/bin/sh", "-c", command], input=stdin, capture_output=True, text=True,
                          cwd=repo.root / ".flow", env=env, timeout=timeout)


def test_installed_hook_injects_context_with_no_server_running(indexed: FlowRepo) -> None:
    install_hooks(indexed, FLOW, "claude-code")
    assert not (indexed.state_dir / "warm.json").exists()  # nothing serves this repository
    command, timeout = installed_command(indexed, "UserPromptSubmit")
    data = prompt_payload(indexed, "Store refund amounts as money: Decimal or float?")
    done = run_as_agent(indexed, command, json.dumps(data), timeout)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"hookSpecificOutput"}, answer  # no systemMessage: nothing went wrong
    specific = answer["hookSpecificOutput"]
    assert specific["hookEventName"] == "UserPromptSubmit"
    assert "id: evg-money-decimal" in specific["additionalContext"]
    assert len(specific["additionalContext"]) <= 10_000

    command, timeout = installed_command(indexed, "SessionStart")
    start = json.loads((PAYLOADS / "session_start.json").read_text())
    start.update(cwd=str(indexed.root), transcript_path=str(indexed.root / "t.jsonl"))
    done = run_as_agent(indexed, command, json.dumps(start), timeout)
    assert json.loads(done.stdout)["hookSpecificOutput"]["hookEventName"] == "SessionStart"


def test_codex_command_injects_context_too(indexed: FlowRepo) -> None:
    install_hooks(indexed, FLOW, "codex")
    command, timeout = installed_command(indexed, "UserPromptSubmit", agent="codex")
    data = {"session_id": "c1", "turn_id": "t1", "transcript_path": None, "cwd": str(indexed.root),
            "hook_event_name": "UserPromptSubmit", "model": "gpt-5-codex", "permission_mode": "default",
            "prompt": "are money amounts float or Decimal?"}
    env = {**os.environ, "PATH": os.defpath}
    done = subprocess.run(["/bin/sh", "-c", command], input=json.dumps(data), capture_output=True, text=True,
                          cwd=indexed.root, env=env, timeout=timeout)
    answer = json.loads(done.stdout)
    assert set(answer) == {"hookSpecificOutput"} and "evg-money-decimal" in answer["hookSpecificOutput"]["additionalContext"]


def test_a_program_that_is_gone_is_reported_not_silent(indexed: FlowRepo, tmp_path: Path) -> None:
    import shutil

    program = tmp_path / "venv" / "bin" / "flow"
    program.parent.mkdir(parents=True)
    shutil.copy(FLOW, program)
    install_hooks(indexed, program, "claude-code")
    program.unlink()
    command, timeout = installed_command(indexed, "UserPromptSubmit")
    done = run_as_agent(indexed, command, json.dumps(prompt_payload(indexed, "refunds")), timeout)
    assert done.returncode == 0  # never exit 2: that would block the user's prompt
    message = json.loads(done.stdout)["systemMessage"]
    assert str(program) in message and "flow hooks install claude-code" in message


def test_a_budget_too_short_is_said_not_swallowed(indexed: FlowRepo) -> None:
    response = handle_hook(indexed, "UserPromptSubmit", prompt_payload(indexed, "Decimal money"), timeout_s=0.01)
    assert response.output is not None and "time" in response.output["systemMessage"]
    assert "hookSpecificOutput" not in response.output


def test_the_budget_follows_the_agents_timeout() -> None:
    assert budget_s(30, cap=0, age=0.2) == pytest.approx(27 - 0.2)  # 10% margin to write the answer
    assert budget_s(30, cap=2.0, age=0.2) == pytest.approx(1.8)  # [signals] hook_context_timeout_s
    assert budget_s(None, cap=0, age=0.0) == pytest.approx(9.0)  # old entries: 10 s
    assert budget_s(3, cap=0, age=0.0) == pytest.approx(2.5)  # at least half a second of margin


def test_a_silent_warm_server_falls_back_to_the_cold_path(indexed: FlowRepo) -> None:
    """A listener that accepts and says nothing: the hook stops waiting for it and builds the pack."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        port = listener.getsockname()[1]
        # A live pid of this user: the warm path trusts only such a record (see index/warm.py).
        indexed.state_path("warm.json").write_text(json.dumps({"pid": os.getpid(), "url": f"http://127.0.0.1:{port}"}))
        response = handle_hook(indexed, "UserPromptSubmit", prompt_payload(indexed, "Decimal or float for money?"),
                               timeout_s=20)
        assert response.output is not None and "evg-money-decimal" in response.output["hookSpecificOutput"]["additionalContext"]
    finally:
        listener.close()


def test_doctor_shows_what_the_agent_would_see(indexed: FlowRepo, tmp_path: Path) -> None:
    assert runner.invoke(app, ["-C", str(indexed.root), "hooks", "doctor"]).exit_code == 1  # nothing installed
    install_hooks(indexed, FLOW, "claude-code")
    done = runner.invoke(app, ["-C", str(indexed.root), "hooks", "doctor", "--prompt", "Decimal or float for money?"])
    assert done.exit_code == 0, done.output
    out = done.output
    assert "ok claude-code UserPromptSubmit" in out and "ok claude-code SessionStart" in out
    assert "s of 30s, exit 0" in out  # timing against the installed timeout
    assert "sample prompt: Decimal or float for money?" in out
    assert "injects" in out and "the model would get:" in out and "id: evg-money-decimal" in out
    # The sample is not real usage: no retrieval event was logged for it; a real prompt's is.
    from flowloop.signals.spool import pending_path

    pending = pending_path(indexed)
    assert not pending.exists() or "flow-hooks-doctor" not in pending.read_text()
    real = prompt_payload(indexed, "Decimal or float for money?")
    assert handle_hook(indexed, "UserPromptSubmit", real, timeout_s=20).context
    assert real["session_id"] in pending.read_text() and "flow-hooks-doctor" not in pending.read_text()

    (indexed.state_dir / "index" / "CURRENT").unlink()  # the index went away
    broken = runner.invoke(app, ["-C", str(indexed.root), "hooks", "doctor"])
    assert broken.exit_code == 1
    assert "problem claude-code UserPromptSubmit" in broken.output and "the user would see: flowloop:" in broken.output
    assert "flow index" in broken.output
