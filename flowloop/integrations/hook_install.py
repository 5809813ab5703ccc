"""``flow hooks install``: register ``flow hook <event>`` with Claude Code or Codex CLI.

Both agents read the same three-level shape (research doc, sections 1 and 3): event -> list of
matcher groups -> ``{"type": "command", "command": ..., "timeout": seconds}`` handlers. Claude
Code reads the project's ``.claude/settings.json``; Codex reads ``<repo>/.codex/hooks.json``
(Codex has no ``ExitPlanMode`` tool and no documented ``SessionEnd``, so it gets three events).

The file is merged, never clobbered: other keys, other events and other hooks stay as they are,
and a handler of ours (recognized by its ``... hook <event>`` command) is never added twice. A
file that is not valid JSON, or not the expected shape, is an error naming it, and nothing is
written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import CollectorError
from flowloop.repo import FlowRepo


@dataclass(frozen=True)
class HookSpec:
    event: str
    arg: str  # the `flow hook <arg>` argument
    matcher: str | None
    timeout: int
    extra: tuple[tuple[str, Any], ...] = ()


# Context hooks get a short timeout (they give up after ~1 s themselves); transcript hooks more,
# since SessionEnd's default budget (1.5 s) can be too short for a long transcript.
_CLAUDE = (
    HookSpec("SessionStart", "session-start", "startup|resume|clear|compact", 10),
    HookSpec("UserPromptSubmit", "user-prompt-submit", None, 10),
    HookSpec("PostToolUse", "post-tool-use", "ExitPlanMode", 30),
    HookSpec("Stop", "stop", None, 60, (("async", True),)),  # never delay the next prompt
    HookSpec("SessionEnd", "session-end", None, 60),
)
_CODEX = (
    HookSpec("SessionStart", "session-start", "startup|resume|clear", 10),
    HookSpec("UserPromptSubmit", "user-prompt-submit", None, 10),
    HookSpec("Stop", "stop", None, 60),
)


@dataclass
class InstallResult:
    path: Path
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added)


def settings_path(repo: FlowRepo, agent: str, local: bool = False) -> Path:
    if agent == "claude-code":
        return repo.root / ".claude" / ("settings.local.json" if local else "settings.json")
    if agent == "codex":
        return repo.root / ".codex" / "hooks.json"
    raise CollectorError(f"unknown agent {agent!r}", field="agent", hint="use claude-code or codex")


def install_hooks(repo: FlowRepo, agent: str = "claude-code", local: bool = False, program: str = "flow") -> InstallResult:
    """Add our hook handlers to the agent's settings file (idempotent; see the module docstring)."""
    path = settings_path(repo, agent, local)
    specs = _CLAUDE if agent == "claude-code" else _CODEX
    data = _load(path)
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise CollectorError("'hooks' is not an object", path=path, field="hooks", hint="fix or remove it")
    result = InstallResult(path=path)
    for spec in specs:
        groups = hooks.setdefault(spec.event, [])
        if not isinstance(groups, list):
            raise CollectorError(f"'hooks.{spec.event}' is not a list", path=path, field=f"hooks.{spec.event}")
        if _has_ours(groups, spec.arg, path, spec.event):
            result.present.append(spec.event)
            continue
        command = _command(program, spec.arg, agent)
        handler: dict[str, Any] = {"type": "command", "command": command, "timeout": spec.timeout, **dict(spec.extra)}
        group: dict[str, Any] = {"hooks": [handler]}
        if spec.matcher is not None:
            group = {"matcher": spec.matcher, **group}
        groups.append(group)
        result.added.append(spec.event)
    if result.added:
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return result


def _command(program: str, arg: str, agent: str) -> str:
    if agent == "claude-code":
        # Claude Code runs hooks through a shell in its own cwd; -C pins the project, and
        # `|| true` keeps even a broken install (e.g. an old flow without `hook`) from exiting 2,
        # which Claude Code treats as "block" (it would reject the user's prompt).
        return f'{program} -C "$CLAUDE_PROJECT_DIR" hook {arg} || true'
    return f"{program} hook {arg} --agent codex"


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError as exc:
        raise CollectorError("not valid UTF-8", path=path, hint="fix the file; nothing was written") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectorError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno,
                             hint="fix the file; nothing was written") from exc
    if not isinstance(data, dict):
        raise CollectorError("the top level is not a JSON object", path=path, hint="fix the file; nothing was written")
    return data


def _has_ours(groups: list[Any], arg: str, path: Path, event: str) -> bool:
    for group in groups:
        handlers = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(handlers, list):
            raise CollectorError(f"a matcher group of '{event}' has no 'hooks' list", path=path, field=f"hooks.{event}")
        for handler in handlers:
            command = handler.get("command") if isinstance(handler, dict) else None
            if isinstance(command, str) and f" hook {arg}" in command and "flow" in command:
                return True
    return False
