"""The validation Stop hook: `flow validate` on the session's diff before Claude Code stops.

``flow hooks install claude-code --validate`` adds a synchronous ``Stop`` handler running
``flow validate --hook``. It scores the working tree against ``HEAD`` (what the session changed
and has not committed) and, when a hunk is below the threshold, answers with Claude Code's
documented block decision, ``{"decision": "block", "reason": ...}``: Claude then keeps working
with the reason (the flagged hunks, their scores and the conventions cited) as its next
instruction. Bounded: a finding (a file's hunk, by its content) blocks a session at most once;
the findings already answered are kept per session in ``.flow/state/hooks/validate-stop.json``,
so a change the agent defends instead of fixing lets it stop the next time. Anything that goes
wrong lets the agent stop (a hook must never trap a session).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.integrations.hooks.install import _groups, _hooks_table, _load, check_program, settings_path
from flowloop.repo import FlowRepo
from flowloop.specialist.units import diff_text, diff_units
from flowloop.specialist.validate import Report, Scored, Scorer, validate

STATE = "validate-stop.json"
MARKER = "validate --hook"
TIMEOUT_S = 120
MAX_SESSIONS = 200  # the state file keeps the newest sessions only


def finding_key(result: Scored) -> str:
    """A finding is a file's hunk by its content: an edited hunk is a new finding."""
    return hashlib.sha256(f"{result.unit.path}\n{result.unit.text}".encode("utf-8")).hexdigest()[:16]


def _state_path(repo: FlowRepo) -> Path:
    return repo.state_dir / "hooks" / STATE


def _load_state(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a lost or broken state file only means a finding may be answered again
    return data if isinstance(data, dict) else {}


def block_reason(new: list[Scored], report: Report) -> str:
    lines = [f"flow validate: {len(new)} change(s) scored below the threshold {report.threshold:.3f} "
             f"({report.scorer}); check them against the team's conventions and fix them, or say why they are right:"]
    for result in new:
        cited = ", ".join(f"{c['id']} ({c.get('title', '')})" for c in result.conventions)
        lines.append(f"- {result.unit.id}: score {result.score:.3f}" + (f"; likely breaks {cited}" if cited else ""))
    return "\n".join(lines)


def stop_validation(repo: FlowRepo, payload: dict[str, Any], scorer: Scorer | None = None) -> dict[str, Any] | None:
    """The Stop hook's answer: a block decision for findings new to this session, else None
    (``scorer``: default the promoted reward model, as `flow validate` chooses it)."""
    session = str(payload.get("session_id") or "unknown")
    text, source = diff_text(repo.root, None)
    report = validate(repo, diff_units(text, source), scorer=scorer)
    if not report.flagged:
        return None
    path = _state_path(repo)
    state = _load_state(path)
    seen = set(state.get(session, []))
    new = [r for r in report.flagged if finding_key(r) not in seen]
    if not new:
        return None
    state[session] = sorted(seen | {finding_key(r) for r in new})
    state = dict(list(state.items())[-MAX_SESSIONS:])
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(state, indent=1) + "\n")
    return {"decision": "block", "reason": block_reason(new, report)}


def validate_command(program: Path) -> str:
    fallback = {"systemMessage": f"flowloop: the validation hook could not run {program}; run "
                "`flow hooks install claude-code --validate` again"}
    return (f'{shlex.quote(str(program))} -C "$CLAUDE_PROJECT_DIR" {MARKER} || printf \'%s\\n\' '
            + shlex.quote(json.dumps(fallback)))


def _ours(handler: Any) -> bool:
    return isinstance(handler, dict) and MARKER in str(handler.get("command", ""))


def install_validate_hook(repo: FlowRepo, program: str | Path, local: bool = False) -> str:
    """Add (or update) the Stop handler in Claude Code's settings; returns ``added`` /
    ``updated`` / ``unchanged``. Other hooks stay as they are."""
    exe = check_program(program)
    path = settings_path(repo, "claude-code", local)
    data = _load(path)
    groups = _groups(_hooks_table(data, path, create=True), "Stop", path, create=True)
    assert groups is not None
    wanted = {"type": "command", "command": validate_command(exe), "timeout": TIMEOUT_S}
    found = [h for g in groups if isinstance(g, dict) for h in g.get("hooks", []) if _ours(h)]
    if found and found[0] == wanted:
        return "unchanged"
    if found:
        found[0].clear()
        found[0].update(wanted)
        verdict = "updated"
    else:
        groups.append({"hooks": [wanted]})
        verdict = "added"
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return verdict


def uninstall_validate_hook(repo: FlowRepo, local: bool = False) -> bool:
    """Remove the validation Stop handler; True when one was there."""
    path = settings_path(repo, "claude-code", local)
    if not path.exists():
        return False
    data = _load(path)
    hooks = _hooks_table(data, path, create=False) or {}
    groups = _groups(hooks, "Stop", path, create=False) or []
    removed = False
    for group in groups:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            kept = [h for h in group["hooks"] if not _ours(h)]
            removed = removed or len(kept) != len(group["hooks"])
            group["hooks"] = kept
    if removed:
        groups[:] = [g for g in groups if not isinstance(g, dict) or g.get("hooks")]
        if not groups:
            del hooks["Stop"]
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return removed
