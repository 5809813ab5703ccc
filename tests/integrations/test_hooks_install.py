"""`flow hooks install`: merge into existing agent settings, never clobber, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import CollectorError
from flowloop.integrations.claude_hooks import install_hooks
from flowloop.repo import init_repo

runner = CliRunner()

EXISTING = {
    "permissions": {"allow": ["Bash(npm run test:*)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "1"},
    "hooks": {
        "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo hello"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh", "timeout": 5}]}],
    },
}


def test_merges_with_existing_settings_and_is_idempotent(tmp_path: Path) -> None:
    repo = init_repo(tmp_path).repo
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=2))

    result = install_hooks(repo, "claude-code")
    assert result.path == path
    assert result.added == ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd"]
    data = json.loads(path.read_text())
    assert data["permissions"] == EXISTING["permissions"] and data["env"] == {"FOO": "1"}
    assert data["hooks"]["PreToolUse"] == EXISTING["hooks"]["PreToolUse"]
    start = data["hooks"]["SessionStart"]
    assert start[0] == EXISTING["hooks"]["SessionStart"][0]  # the user's own hook stays first
    assert start[1]["hooks"][0]["command"] == 'flow -C "$CLAUDE_PROJECT_DIR" hook session-start || true'
    assert start[1]["hooks"][0]["type"] == "command"
    post = data["hooks"]["PostToolUse"]
    assert post == [{"matcher": "ExitPlanMode", "hooks": [
        {"type": "command", "command": 'flow -C "$CLAUDE_PROJECT_DIR" hook post-tool-use || true', "timeout": 30}]}]
    assert "matcher" not in data["hooks"]["UserPromptSubmit"][0]  # UserPromptSubmit ignores matchers

    before = path.read_bytes()
    again = install_hooks(repo, "claude-code")
    assert not again.changed and len(again.present) == 5
    assert path.read_bytes() == before


def test_invalid_existing_json_is_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    repo = init_repo(tmp_path).repo
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    broken = '{\n  "permissions": {"allow": []},\n  "hooks": {,\n}\n'
    path.write_text(broken)
    with pytest.raises(CollectorError) as err:
        install_hooks(repo, "claude-code")
    assert err.value.path == path and err.value.line == 3
    assert path.read_text() == broken

    path.write_text(json.dumps({"hooks": {"Stop": {"command": "x"}}}))
    with pytest.raises(CollectorError, match="not a list"):
        install_hooks(repo, "claude-code")
    failed = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "claude-code"])
    assert failed.exit_code == 1 and "settings.json" in failed.output


def test_cli_installs_claude_code_and_codex(tmp_path: Path) -> None:
    assert runner.invoke(app, ["-C", str(tmp_path), "init"]).exit_code == 0
    done = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "claude-code", "--local"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / ".claude" / "settings.local.json").is_file()
    assert not (tmp_path / ".claude" / "settings.json").exists()

    done = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "codex"])
    assert done.exit_code == 0, done.output
    codex = json.loads((tmp_path / ".codex" / "hooks.json").read_text())
    assert set(codex["hooks"]) == {"SessionStart", "UserPromptSubmit", "Stop"}
    assert codex["hooks"]["Stop"][0]["hooks"][0]["command"] == "flow hook stop --agent codex"
    again = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "codex"])
    assert "already installed" in again.output

    assert runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "cursor"]).exit_code == 2
