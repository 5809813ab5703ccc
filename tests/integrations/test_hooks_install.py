"""`flow hooks install|status|uninstall`: absolute program, merge, update in place, no duplicates."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import CollectorError
from flowloop.integrations.hooks.install import install_hooks, installed_hooks, uninstall_hooks
from flowloop.repo import init_repo

runner = CliRunner()
FLOW = Path(sys.executable).with_name("flow").absolute()

EXISTING = {
    "permissions": {"allow": ["Bash(npm run test:*)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "1"},
    "hooks": {
        "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo hello"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh", "timeout": 5}]}],
    },
}
# What flowloop 0.1 wrote: a bare `flow` (PATH-dependent) and a silent `|| true`.
OLD_ENTRY = {"type": "command", "command": 'flow -C "$CLAUDE_PROJECT_DIR" hook user-prompt-submit || true', "timeout": 10}


def commands(path: Path, event: str) -> list[str]:
    data = json.loads(path.read_text())
    return [h["command"] for g in data["hooks"].get(event, []) for h in g["hooks"]]


def copy_program(tmp_path: Path, name: str = "flow") -> Path:
    """A second executable flow program (e.g. another venv's), to re-install with."""
    target = tmp_path / "other-venv" / "bin" / name
    target.parent.mkdir(parents=True)
    shutil.copy(FLOW, target)
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target


def test_merges_with_existing_settings_with_the_absolute_program(tmp_path: Path) -> None:
    repo = init_repo(tmp_path).repo
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=2))

    result = install_hooks(repo, FLOW, "claude-code")
    assert result.path == path
    assert result.added == ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd"]
    data = json.loads(path.read_text())
    assert data["permissions"] == EXISTING["permissions"] and data["env"] == {"FOO": "1"}
    assert data["hooks"]["PreToolUse"] == EXISTING["hooks"]["PreToolUse"]
    start = data["hooks"]["SessionStart"]
    assert start[0] == EXISTING["hooks"]["SessionStart"][0]  # the user's own hook stays first
    ours = start[1]["hooks"][0]
    assert ours["type"] == "command" and ours["timeout"] == 30
    assert ours["command"].startswith(f'{shlex.quote(str(FLOW))} -C "$CLAUDE_PROJECT_DIR" hook session-start --timeout 30 || ')
    assert "|| true" not in ours["command"] and '"systemMessage"' in ours["command"]
    post = data["hooks"]["PostToolUse"]
    assert post[0]["matcher"] == "ExitPlanMode" and "--timeout" not in post[0]["hooks"][0]["command"]
    assert "matcher" not in data["hooks"]["UserPromptSubmit"][0]  # UserPromptSubmit ignores matchers
    assert data["hooks"]["Stop"][0]["hooks"][0]["async"] is True

    before = path.read_bytes()
    again = install_hooks(repo, FLOW, "claude-code")
    assert not again.changed and len(again.present) == 5
    assert path.read_bytes() == before


def test_reinstall_updates_entries_in_place_and_drops_duplicates(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "project").repo
    path = repo.root / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"hooks": {"UserPromptSubmit": [{"hooks": [OLD_ENTRY]}, {"hooks": [dict(OLD_ENTRY)]}]}}))

    first = install_hooks(repo, FLOW, "claude-code")
    assert first.updated == ["UserPromptSubmit"] and first.duplicates_removed == 1
    assert first.added == ["SessionStart", "PostToolUse", "Stop", "SessionEnd"]
    [command] = commands(path, "UserPromptSubmit")
    assert command.startswith(shlex.quote(str(FLOW))) and "--timeout 30" in command
    assert len(json.loads(path.read_text())["hooks"]["UserPromptSubmit"]) == 1  # the emptied group is gone

    other = copy_program(tmp_path)
    moved = install_hooks(repo, other, "claude-code")
    assert sorted(moved.updated) == sorted(["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd"])
    for event in ("SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd"):
        [only] = commands(path, event)  # updated, not added beside the old one
        assert only.startswith(shlex.quote(str(other)) + " ")


def test_program_must_be_an_absolute_executable(tmp_path: Path) -> None:
    repo = init_repo(tmp_path).repo
    with pytest.raises(CollectorError, match="absolute"):
        install_hooks(repo, "flow", "claude-code")
    with pytest.raises(CollectorError, match="not an executable"):
        install_hooks(repo, tmp_path / "no-such-flow", "claude-code")
    assert not (tmp_path / ".claude").exists()
    refused = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "claude-code", "--program", "flow"])
    assert refused.exit_code == 1 and "absolute" in refused.output


def test_invalid_existing_json_is_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    repo = init_repo(tmp_path).repo
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    broken = '{\n  "permissions": {"allow": []},\n  "hooks": {,\n}\n'
    path.write_text(broken)
    with pytest.raises(CollectorError) as err:
        install_hooks(repo, FLOW, "claude-code")
    assert err.value.path == path and err.value.line == 3
    assert path.read_text() == broken

    path.write_text(json.dumps({"hooks": {"Stop": {"command": "x"}}}))
    with pytest.raises(CollectorError, match="not a list"):
        install_hooks(repo, FLOW, "claude-code")
    failed = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "claude-code"])
    assert failed.exit_code == 1 and "settings.json" in failed.output


def test_cli_installs_claude_code_and_codex(tmp_path: Path) -> None:
    assert runner.invoke(app, ["-C", str(tmp_path), "init"]).exit_code == 0
    done = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "claude-code", "--local"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / ".claude" / "settings.local.json").is_file()
    assert not (tmp_path / ".claude" / "settings.json").exists()
    assert "No server is needed" in done.output

    done = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "codex"])
    assert done.exit_code == 0, done.output
    codex_file = tmp_path / ".codex" / "hooks.json"
    codex = json.loads(codex_file.read_text())
    assert set(codex["hooks"]) == {"SessionStart", "UserPromptSubmit", "Stop"}
    [stop] = commands(codex_file, "Stop")
    assert stop.startswith(f"{shlex.quote(str(FLOW))} hook stop --agent codex || ")
    [prompt] = commands(codex_file, "UserPromptSubmit")
    assert "hook user-prompt-submit --agent codex --timeout 30" in prompt
    flat = " ".join(done.output.split())
    assert "[features] codex_hooks = true" in flat and "/hooks" in flat and " codex_hooks" not in flat.replace(
        "] codex_hooks", "")
    again = runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "codex"])
    assert "unchanged: SessionStart, UserPromptSubmit, Stop" in again.output

    assert runner.invoke(app, ["-C", str(tmp_path), "hooks", "install", "cursor"]).exit_code == 2


def test_status_names_what_is_wrong(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "project").repo
    program = copy_program(tmp_path)
    install_hooks(repo, program, "claude-code")
    assert all(not h.problems for h in installed_hooks(repo))
    ok = runner.invoke(app, ["-C", str(repo.root), "hooks", "status"])
    assert ok.exit_code == 0 and "UserPromptSubmit" in ok.output and str(program) in ok.output

    program.unlink()  # the venv it came from was removed
    gone = runner.invoke(app, ["-C", str(repo.root), "hooks", "status"])
    assert gone.exit_code == 1 and "does not exist" in gone.output

    codex = repo.root / ".codex" / "hooks.json"
    codex.parent.mkdir()
    codex.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "flow hook stop --agent codex"}]}]}}))
    problems = {(h.agent, h.event): h.problems for h in installed_hooks(repo)}
    assert "PATH" in problems[("codex", "Stop")][0]
    assert "not installed" in problems[("codex", "UserPromptSubmit")][0]


def test_uninstall_removes_only_ours(tmp_path: Path) -> None:
    repo = init_repo(tmp_path).repo
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=2))
    install_hooks(repo, FLOW, "claude-code")
    done = runner.invoke(app, ["-C", str(tmp_path), "hooks", "uninstall", "claude-code"])
    assert done.exit_code == 0 and "removed" in done.output
    assert json.loads(path.read_text()) == EXISTING  # back to exactly the user's own settings
    assert "no flowloop hooks" in runner.invoke(app, ["-C", str(tmp_path), "hooks", "uninstall", "claude-code"]).output

    install_hooks(repo, FLOW, "codex")
    result = uninstall_hooks(repo, "codex")
    assert result.deleted_file and not (tmp_path / ".codex" / "hooks.json").exists()
    assert os.path.isdir(tmp_path / ".codex")  # the folder may hold the user's config.toml
