"""Claude Code hook handlers on recorded payloads and transcript files (documented field names)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowloop.integrations.hooks import event_name, handle_hook
from flowloop.integrations.transcript import is_redirect, read_transcript
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.store import open_store

PAYLOADS = Path(__file__).parent / "payloads"
FLOW = Path(sys.executable).with_name("flow")


@pytest.fixture
def project(tmp_path: Path) -> FlowRepo:
    root = tmp_path / "ledger"
    root.mkdir()
    return init_repo(root).repo


def materialize(repo: FlowRepo, transcript: str) -> Path:
    """Copy a recorded transcript into place with the session's cwd set to the test project."""
    text = (PAYLOADS / transcript).read_text().replace("__CWD__", str(repo.root))
    path = repo.root.parent / "claude-projects" / transcript
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def payload(repo: FlowRepo, name: str, transcript: Path | None = None) -> dict[str, Any]:
    data = json.loads((PAYLOADS / name).read_text())
    data["cwd"] = str(repo.root)
    data["transcript_path"] = str(transcript) if transcript else str(repo.root / "missing.jsonl")
    return data


def stored(repo: FlowRepo, kind: str) -> list[Any]:
    with open_store(repo) as store:
        return store.query(kind=kind)


def test_event_names_and_redirect_heuristics() -> None:
    assert event_name("session-start") == event_name("SessionStart") == "SessionStart"
    assert event_name("user_prompt_submit") == "UserPromptSubmit"
    for text in ["no, use Decimal", "Don't touch the migrations", "Actually, keep the old name", "wait",
                 "That's wrong: totals include tax", "use pathlib not os.path", "Instead, put it in utils",
                 "stop", "You forgot the tests", "it\u2019s wrong"]:
        assert is_redirect(text), text
    for text in ["Now add a CLI command", "No problem, thanks!", "Nothing else", "Add a stop button", "Thanks"]:
        assert not is_redirect(text), text


def test_transcript_reader(project: FlowRepo) -> None:
    transcript = read_transcript(materialize(project, "transcript.jsonl"))
    humans = [turn.human.text for turn in transcript.turns]
    assert humans == [
        "Add a refund endpoint to the ledger API (LED-42)",
        "no, use Decimal not float for money amounts",
        "Thanks. Now add a CLI command that lists refunds",
        "Put it in src/cli/ledger.py with the other ledger commands",
    ]  # slash-command wrappers, meta and sidechain messages, interruption markers left out
    assert transcript.bad_lines == 1  # the truncated last line
    assert transcript.turns[3].human.after_interrupt
    assert [t.name for t in transcript.turns[2].tools] == ["Write"] and transcript.turns[2].tools[0].rejected


def test_stop_then_session_end_record_corrections_and_work_once(project: FlowRepo) -> None:
    transcript = materialize(project, "transcript.jsonl")
    stop = handle_hook(project, "Stop", payload(project, "stop.json", transcript))
    assert stop.output is None and stop.recorded == 3  # two corrections + the finished first task
    corrections = stored(project, "correction")
    by_text = {c.correction: c for c in corrections}
    worded = by_text["no, use Decimal not float for money amounts"]
    assert "storing amounts as float" in worded.agent
    assert worded.context == "Add a refund endpoint to the ledger API (LED-42)"
    assert worded.source == "claude-code-hook:candidate" and worded.task == "LED-42"
    assert worded.session == "3f9c2d1e-7b4a-4c8e-9f21-5a6b7c8d9e0f"
    interrupted = by_text["Put it in src/cli/ledger.py with the other ledger commands"]
    assert "src/cli/refunds.py" in interrupted.agent
    assert interrupted.context == "Thanks. Now add a CLI command that lists refunds"

    records = stored(project, "work_record")
    assert [(r.description, r.files) for r in records] == [
        ("Add a refund endpoint to the ledger API (LED-42)", ["src/api/refunds.py"]),
    ]  # the second task may still continue: not recorded at Stop

    again = handle_hook(project, "Stop", payload(project, "stop.json", transcript))
    assert again.recorded == 0 and not [p for p in again.problems if "unreadable" not in p]
    end = handle_hook(project, "session-end", payload(project, "session_end.json", transcript))
    assert end.recorded == 1  # only the now finished second task
    records = {r.description: r for r in stored(project, "work_record")}
    second = records["Thanks. Now add a CLI command that lists refunds"]
    assert second.files == ["src/cli/ledger.py"]  # the rejected Write is not an edit
    assert second.task == "LED-42" and second.source == "claude-code-hook"
    assert len(stored(project, "correction")) == 2

    log = project.state_dir / "sessions" / "claude-code" / "3f9c2d1e-7b4a-4c8e-9f21-5a6b7c8d9e0f.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["session"] == "3f9c2d1e-7b4a-4c8e-9f21-5a6b7c8d9e0f"
    assert [entry["prompt"] for entry in lines[1:]][0] == "Add a refund endpoint to the ledger API (LED-42)"
    assert lines[-1]["output"].startswith("Moved the command")


def test_exit_plan_mode_after_rejected_plan_is_a_scope_change(project: FlowRepo) -> None:
    transcript = materialize(project, "transcript_plan.jsonl")
    response = handle_hook(project, "PostToolUse", payload(project, "post_tool_use_exit_plan_mode.json", transcript))
    assert response.recorded == 1 and response.output is None
    [change] = stored(project, "scope_change")
    assert "audit log" not in change.plan and "audit log" in change.approved_plan
    assert "+3. Write an audit log entry for each refund." in change.delta
    assert change.task == "LED-42"
    # The rejection's feedback is itself a correction candidate, found at Stop.
    handle_hook(project, "Stop", payload(project, "stop.json", transcript))
    [correction] = stored(project, "correction")
    assert correction.correction == "also write an audit log entry for each refund"
    assert correction.agent.startswith("## Refunds (LED-42)")


def test_exit_plan_mode_approved_as_proposed_is_an_approval(project: FlowRepo) -> None:
    transcript = materialize(project, "transcript.jsonl")
    data = payload(project, "post_tool_use_exit_plan_mode.json", transcript)
    first = handle_hook(project, "PostToolUse", data)
    assert first.recorded == 1
    [approval] = stored(project, "approval")
    assert approval.output == data["tool_input"]["plan"]
    assert approval.prompt == "Put it in src/cli/ledger.py with the other ledger commands"
    assert handle_hook(project, "PostToolUse", data).recorded == 0  # same tool_use_id: once

    other_tool = {**data, "tool_name": "Edit"}
    assert handle_hook(project, "PostToolUse", other_tool).recorded == 0


def test_problems_never_raise(project: FlowRepo) -> None:
    missing = handle_hook(project, "Stop", payload(project, "stop.json"))
    assert "transcript not found" in missing.problems[0]
    assert missing.output == {"systemMessage": "flowloop: " + missing.problems[0]}  # shown to the user
    no_session = handle_hook(project, "Stop", {"transcript_path": str(materialize(project, "transcript.jsonl"))})
    assert "session_id" in no_session.problems[0]
    unknown = handle_hook(project, "PreCompact", {})
    assert "unknown hook event" in unknown.problems[0]
    no_plan = handle_hook(project, "PostToolUse", {"session_id": "s", "tool_name": "ExitPlanMode", "tool_input": {}})
    assert "tool_input.plan" in no_plan.problems[0]


def test_context_hooks_without_an_index_say_so_to_the_user(project: FlowRepo) -> None:
    for name in ("session_start.json", "user_prompt_submit.json"):
        event = json.loads((PAYLOADS / name).read_text())["hook_event_name"]
        response = handle_hook(project, event, payload(project, name), timeout_s=20)
        output = response.output
        assert output is not None and set(output) == {"systemMessage"}  # the field the agent shows the user
        assert "no index yet" in output["systemMessage"] and "flow index" in output["systemMessage"]


def run_hook(cwd: Path, event: str, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FLOW), *args, "hook", event], input=stdin, capture_output=True, text=True, cwd=cwd,
                          timeout=60)


def test_flow_hook_process_never_blocks_or_fails(project: FlowRepo, tmp_path: Path) -> None:
    prompt = json.dumps(payload(project, "user_prompt_submit.json"))
    done = run_hook(project.root, "user-prompt-submit", prompt)
    assert done.returncode == 0  # no index: no context, and the user is told why
    assert "flow index" in json.loads(done.stdout)["systemMessage"]

    for bad in ["{not json", "[1, 2]"]:
        done = run_hook(project.root, "user-prompt-submit", bad)
        assert done.returncode == 0, bad
        assert set(json.loads(done.stdout)) == {"systemMessage"}, bad
    done = run_hook(project.root, "user-prompt-submit", "")
    assert done.returncode == 0 and done.stdout == ""  # no prompt: nothing to look up
    elsewhere = tmp_path / "not-a-flow-repo"
    elsewhere.mkdir()
    done = run_hook(elsewhere, "stop", json.dumps({"session_id": "x"}))
    assert done.returncode == 0 and "flow init" in json.loads(done.stdout)["systemMessage"]
    # `-C "$CLAUDE_PROJECT_DIR"` as installed; the payload's cwd also finds the project.
    transcript = materialize(project, "transcript.jsonl")
    done = run_hook(elsewhere, "stop", json.dumps(payload(project, "stop.json", transcript)), "-C", str(project.root))
    assert done.returncode == 0 and done.stdout == ""
    assert len(stored(project, "correction")) == 2


def test_codex_rollout_transcript(project: FlowRepo) -> None:
    """Codex CLI sends the same hook JSON; its rollout transcript has another line format."""
    transcript = materialize(project, "codex_rollout.jsonl")
    response = handle_hook(project, "Stop", payload(project, "codex_stop.json", transcript), agent="codex")
    assert response.recorded == 1, response.problems
    [correction] = stored(project, "correction")
    assert correction.correction == "don't rename the public API, only the private helper"
    assert correction.agent.startswith("I renamed `totals`")
    assert correction.source == "codex-hook:candidate" and correction.task == "LED-77"


@pytest.mark.slow
def test_context_injected_from_a_real_warm_server(project: FlowRepo) -> None:
    """`flow serve` keeps the real index warm; the hook injects its pack in the documented shape."""
    import datetime as dt
    import time

    from flowloop.index.warm import is_running
    from flowloop.pilr.model import PilrMeta, PilrType
    from flowloop.pilr.store import PilrStore

    PilrStore(project).create(
        PilrMeta(id="evg-money-decimal", type=PilrType("evergreen"), title="Money amounts are Decimal",
                 created=dt.date(2025, 1, 1), updated=dt.date(2025, 1, 1)),
        "## Decision\n\nRefund and invoice amounts are `decimal.Decimal`, never float; round half-even to cents.\n",
    )
    subprocess.run([str(FLOW), "-C", str(project.root), "index"], check=True, capture_output=True, timeout=300)
    server = subprocess.Popen([str(FLOW), "-C", str(project.root), "serve"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not is_running(project, timeout_s=1.0):
            assert server.poll() is None and time.monotonic() < deadline, "flow serve did not start"
            time.sleep(0.2)
        data = payload(project, "user_prompt_submit.json")
        data["prompt"] = "Store refund amounts as money: Decimal or float?"
        response = handle_hook(project, "UserPromptSubmit", data, timeout_s=30)  # generous: CI is slow
        assert response.output is not None, response.problems
        assert set(response.output) == {"hookSpecificOutput"}
        specific = response.output["hookSpecificOutput"]
        assert specific["hookEventName"] == "UserPromptSubmit"
        assert "evg-money-decimal" in specific["additionalContext"]
        # The real hook process answers the same way through the server.
        done = run_hook(project.root, "user-prompt-submit", json.dumps(data))
        assert done.returncode == 0
        assert "evg-money-decimal" in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
    finally:
        server.terminate()
        server.wait(timeout=30)
