"""The agents' hook entries for flowloop: install (or update), report, remove.

Both agents read the same three-level shape: event -> list of matcher groups ->
``{"type": "command", "command": ..., "timeout": seconds}`` handlers. Claude Code reads the
project's ``.claude/settings.json`` (or ``settings.local.json``, not committed); Codex reads
``<repo>/.codex/hooks.json`` (Codex has no ``ExitPlanMode`` tool and caps ``SessionEnd`` at a
few seconds, so it gets three events).

The command names the flow program by its absolute path (an agent started from a desktop or
another shell has no virtual environment on its PATH), and the context hooks carry their own
timeout as ``--timeout`` so they answer within what the agent allows. If the program cannot run
at all (moved, uninstalled), the shell fallback prints a ``systemMessage`` saying so, instead of
the silence of ``|| true`` (which the command still needs: exit 2 would block the prompt).

The file is merged, never clobbered: other keys, events and hooks stay as they are. A handler of
ours (a ``flow ... hook <event>`` command) is updated in place on re-install, and duplicates of
it are removed. A file that is not valid JSON, or not the expected shape, is an error naming it,
and nothing is written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from flowloop.atomic import atomic_write_text
from flowloop.errors import CollectorError
from flowloop.repo import FlowRepo


@dataclass(frozen=True)
class HookSpec:
    event: str
    arg: str  # the `flow hook <arg>` argument
    matcher: str | None
    timeout: int
    context: bool = False  # answers with context, so it is told its timeout
    extra: tuple[tuple[str, Any], ...] = ()


# Context hooks get Claude Code's default for these events (30 s): they answer in well under a
# second, and a slow machine then still gets its context. Transcript hooks get more, since
# SessionEnd's default budget (1.5 s) can be too short for a long transcript.
SPECS: dict[str, tuple[HookSpec, ...]] = {
    "claude-code": (
        HookSpec("SessionStart", "session-start", "startup|resume|clear|compact", 30, context=True),
        HookSpec("UserPromptSubmit", "user-prompt-submit", None, 30, context=True),
        HookSpec("PostToolUse", "post-tool-use", "ExitPlanMode", 30),
        HookSpec("Stop", "stop", None, 60, extra=(("async", True),)),  # never delay the next prompt
        HookSpec("SessionEnd", "session-end", None, 60),
    ),
    "codex": (
        HookSpec("SessionStart", "session-start", "startup|resume|clear", 30, context=True),
        HookSpec("UserPromptSubmit", "user-prompt-submit", None, 30, context=True),
        HookSpec("Stop", "stop", None, 60),
    ),
}
AGENTS = tuple(SPECS)
_ARGS = "|".join(sorted({spec.arg for specs in SPECS.values() for spec in specs}, key=len, reverse=True))
_OURS = re.compile(rf"\bflow\S*\s(?:.*\s)?hook\s+(?P<arg>{_ARGS})(?=\s|$)")
CODEX_NOTE = (
    "Codex loads a repository's .codex/hooks.json only once the project is trusted, and runs a new or "
    "changed hook only after you review and trust it: open `/hooks` in Codex and trust the flowloop "
    "entries (again after each re-install that changed them). Hooks are on by default since Codex "
    "0.124; an older Codex needs\n"
    "  [features]\n  codex_hooks = true\nin ~/.codex/config.toml."
)


@dataclass
class InstallResult:
    path: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # already exactly as they should be
    duplicates_removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.duplicates_removed)


@dataclass
class UninstallResult:
    path: Path
    removed: list[str] = field(default_factory=list)
    deleted_file: bool = False


@dataclass
class InstalledHook:
    """One handler of ours found in an agent's settings file, and what is wrong with it."""

    agent: str
    path: Path
    event: str
    command: str
    timeout: float | None
    program: str
    problems: list[str] = field(default_factory=list)


def settings_path(repo: FlowRepo, agent: str, local: bool = False) -> Path:
    if agent == "claude-code":
        return repo.root / ".claude" / ("settings.local.json" if local else "settings.json")
    if agent == "codex":
        return repo.root / ".codex" / "hooks.json"
    raise CollectorError(f"unknown agent {agent!r}", field="agent", hint=f"use one of: {', '.join(AGENTS)}")


def check_program(program: str | Path) -> Path:
    """The absolute path of an executable flow program, or an error saying what is wrong."""
    path = Path(program).expanduser()
    if not path.is_absolute():
        raise CollectorError(f"the program {str(program)!r} is not an absolute path", field="program",
                             hint="agents start hooks without your shell's PATH; pass the full path, e.g. $(which flow)")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise CollectorError("not an executable file", path=path, field="program",
                             hint="pass the path of an installed `flow` program")
    return path


def hook_command(program: Path, agent: str, spec: HookSpec) -> str:
    """The shell command an agent runs for ``spec``."""
    parts = [shlex.quote(str(program))]
    if agent == "claude-code":
        parts.append('-C "$CLAUDE_PROJECT_DIR"')  # Claude Code runs hooks in its own cwd
    parts += ["hook", spec.arg]
    if agent != "claude-code":
        parts += ["--agent", agent]
    if spec.context:
        parts += ["--timeout", str(spec.timeout)]
    fallback = {"systemMessage": f"flowloop: the hook could not run {program} (moved or uninstalled?); "
                f"run `flow hooks install {agent}` again, or `flow hooks doctor`"}
    return " ".join(parts) + " || printf '%s\\n' " + shlex.quote(json.dumps(fallback))


def install_hooks(repo: FlowRepo, program: str | Path, agent: str = "claude-code", local: bool = False) -> InstallResult:
    """Add or update our handlers in the agent's settings file (see the module docstring)."""
    exe = check_program(program)
    path = settings_path(repo, agent, local)
    data = _load(path)
    hooks = _hooks_table(data, path, create=True)
    result = InstallResult(path=path)
    for spec in SPECS[agent]:
        groups = _groups(hooks, spec.event, path, create=True)
        wanted: dict[str, Any] = {"type": "command", "command": hook_command(exe, agent, spec),
                                  "timeout": spec.timeout, **dict(spec.extra)}
        found = [(group, handler) for group, handler, arg in _ours(groups, path, spec.event) if arg == spec.arg]
        if not found:
            group: dict[str, Any] = {"hooks": [wanted]}
            groups.append({"matcher": spec.matcher, **group} if spec.matcher is not None else group)
            result.added.append(spec.event)
            continue
        (first_group, first), *extra = found
        for group, handler in extra:
            _remove(group, handler)
            result.duplicates_removed += 1
        same = first == wanted and first_group.get("matcher") == spec.matcher
        first.clear()
        first.update(wanted)
        if spec.matcher is not None:
            first_group["matcher"] = spec.matcher
        (result.present if same else result.updated).append(spec.event)
        groups[:] = [g for g in groups if g.get("hooks")]
    if result.changed:
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return result


def uninstall_hooks(repo: FlowRepo, agent: str = "claude-code", local: bool = False) -> UninstallResult:
    """Remove every handler of ours from the agent's settings file, leaving the rest as it was."""
    path = settings_path(repo, agent, local)
    result = UninstallResult(path=path)
    if not path.exists():
        return result
    data = _load(path)
    hooks = _hooks_table(data, path, create=False)
    if hooks is None:
        return result
    for event in list(hooks):
        groups = _groups(hooks, event, path, create=False) or []
        for group, handler, _ in list(_ours(groups, path, event)):
            _remove(group, handler)
            result.removed.append(event)
        groups[:] = [g for g in groups if g.get("hooks")]
        if not groups:
            del hooks[event]
    if not result.removed:
        return result
    if not hooks:
        del data["hooks"]
    if data:
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        path.unlink()  # nothing but our hooks was in it
        result.deleted_file = True
    return result


def installed_hooks(repo: FlowRepo) -> list[InstalledHook]:
    """Every handler of ours in every agent settings file of the repository, with its problems."""
    found: list[InstalledHook] = []
    for agent, local in (("claude-code", False), ("claude-code", True), ("codex", False)):
        path = settings_path(repo, agent, local)
        if not path.exists():
            continue
        data = _load(path)
        hooks = _hooks_table(data, path, create=False) or {}
        seen: dict[str, int] = {}
        for event in hooks:
            for group, handler, arg in _ours(_groups(hooks, event, path, create=False) or [], path, event):
                found.append(_inspect(agent, path, event, group, handler, arg, seen))
        specs = {spec.event for spec in SPECS[agent]}
        events = {hook.event for hook in found if hook.path == path}
        if events:
            for missing in sorted(specs - events):
                found.append(InstalledHook(agent, path, missing, "", None, "", [f"not installed; run `flow hooks install {agent}`"]))
    return found


def _inspect(agent: str, path: Path, event: str, group: dict[str, Any], handler: dict[str, Any], arg: str,
             seen: dict[str, int]) -> InstalledHook:
    command = str(handler.get("command", ""))
    timeout = handler.get("timeout")
    try:
        program = shlex.split(command)[0] if command.strip() else ""
    except ValueError:
        program = command.split()[0] if command.split() else ""
    hook = InstalledHook(agent, path, event, command, float(timeout) if isinstance(timeout, (int, float)) else None, program)
    seen[arg] = seen.get(arg, 0) + 1
    reinstall = f"run `flow hooks install {agent}`"
    if seen[arg] > 1:
        hook.problems.append(f"duplicate entry; {reinstall} to keep one")
    if not os.path.isabs(program):
        hook.problems.append(f"runs {program!r} through PATH, which an agent may not have; {reinstall}")
    elif not (os.path.isfile(program) and os.access(program, os.X_OK)):
        hook.problems.append(f"{program} does not exist or is not executable; {reinstall}")
    spec = next((s for s in SPECS[agent] if s.arg == arg), None)
    if spec is not None and spec.context and "--timeout" not in command:
        hook.problems.append(f"installed by an older flowloop (no --timeout); {reinstall}")
    if "|| true" in command:
        hook.problems.append(f"a failure would be silent (|| true); {reinstall}")
    return hook


def _remove(group: dict[str, Any], handler: dict[str, Any]) -> None:
    group["hooks"][:] = [h for h in group["hooks"] if h is not handler]  # by identity: equal copies stay


def _ours(groups: list[Any], path: Path, event: str) -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    """(group, handler, arg) for each handler of ours among ``groups``."""
    for group in list(groups):
        handlers = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(handlers, list):
            raise CollectorError(f"a matcher group of '{event}' has no 'hooks' list", path=path, field=f"hooks.{event}")
        for handler in list(handlers):
            command = handler.get("command") if isinstance(handler, dict) else None
            found = _OURS.search(command) if isinstance(command, str) else None
            if found:
                yield group, handler, found.group("arg")


def _hooks_table(data: dict[str, Any], path: Path, create: bool) -> dict[str, Any] | None:
    hooks = data.setdefault("hooks", {}) if create else data.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise CollectorError("'hooks' is not an object", path=path, field="hooks", hint="fix or remove it")
    return hooks


def _groups(hooks: dict[str, Any], event: str, path: Path, create: bool) -> list[Any] | None:
    groups = hooks.setdefault(event, []) if create else hooks.get(event)
    if groups is not None and not isinstance(groups, list):
        raise CollectorError(f"'hooks.{event}' is not a list", path=path, field=f"hooks.{event}")
    return groups


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
