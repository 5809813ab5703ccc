"""The validation Stop hook: Claude Code's block decision with the reasons, at most once per
finding and session, on a real git repository with a real Stop payload."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.integrations.hooks.validate_stop import stop_validation
from flowloop.specialist.units import Unit
from flowloop.specialist.validate import Scorer
from helpers_validate import change, project

FLOW = Path(sys.executable).parent / "flow"


class FloatScorer(Scorer):
    name, threshold = "floats", 0.5

    def scores(self, units: list[Unit]) -> list[float]:
        return [0.1 if "float" in u.text else 0.9 for u in units]


def payload(session: str, active: bool = False) -> dict[str, object]:
    # Claude Code's documented Stop input
    return {"session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": "/tmp", "permission_mode": "default",
            "hook_event_name": "Stop", "stop_hook_active": active}


def test_a_finding_blocks_once_per_session_with_its_reasons(git_repo: Path) -> None:
    repo = project(git_repo)
    change(git_repo)
    first = stop_validation(repo, payload("s1"), scorer=FloatScorer())
    assert first is not None and first["decision"] == "block"
    assert "src/ledger.py:1: score 0.100" in first["reason"] and "below the threshold 0.500" in first["reason"]
    assert stop_validation(repo, payload("s1", active=True), scorer=FloatScorer()) is None  # same finding: let it stop
    assert stop_validation(repo, payload("s2"), scorer=FloatScorer()) is not None  # another session is told
    # an edited hunk is a new finding for the same session
    (git_repo / "src" / "ledger.py").write_text("def total(items):\n    return float(len(items))\n")
    again = stop_validation(repo, payload("s1"), scorer=FloatScorer())
    assert again is not None and again["decision"] == "block"


def test_nothing_flagged_lets_the_agent_stop(git_repo: Path) -> None:
    repo = project(git_repo)
    assert stop_validation(repo, payload("s1"), scorer=FloatScorer()) is None  # empty diff


def test_install_adds_a_synchronous_stop_handler_and_uninstall_removes_it(git_repo: Path) -> None:
    project(git_repo)
    runner = CliRunner()
    done = runner.invoke(app, ["-C", str(git_repo), "hooks", "install", "claude-code", "--validate",
                               "--program", str(FLOW)])
    assert done.exit_code == 0, done.output
    assert "added: Stop (flow validate)" in done.stdout
    settings = json.loads((git_repo / ".claude" / "settings.json").read_text())
    handlers = [h for g in settings["hooks"]["Stop"] for h in g["hooks"]]
    ours = [h for h in handlers if "validate --hook" in h["command"]]
    assert len(ours) == 1 and ours[0]["timeout"] == 120 and "async" not in ours[0]
    assert any("hook stop" in h["command"] for h in handlers)  # the session hook stays beside it
    again = runner.invoke(app, ["-C", str(git_repo), "hooks", "install", "claude-code", "--validate",
                                "--program", str(FLOW)])
    assert "unchanged: Stop (flow validate)" in again.stdout
    gone = runner.invoke(app, ["-C", str(git_repo), "hooks", "uninstall", "claude-code"])
    assert gone.exit_code == 0 and "removed the Stop hook of flow validate" in gone.stdout
    assert not (git_repo / ".claude" / "settings.json").exists() or "validate --hook" not in (
        git_repo / ".claude" / "settings.json").read_text()


def test_the_hook_command_never_fails_the_agent(git_repo: Path) -> None:
    project(git_repo)
    done = CliRunner().invoke(app, ["-C", str(git_repo), "validate", "--hook"], input="{not json")
    assert done.exit_code == 0 and "flow validate could not run" in json.loads(done.stdout)["systemMessage"]
