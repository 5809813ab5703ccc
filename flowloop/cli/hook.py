"""``flow hook <event>``: the handler an agent runs, with the hook JSON on stdin.

This is a process boundary that must never hurt the agent: whatever goes wrong (bad JSON, no
repository, a store error, a bug), it prints the problem on stderr, nothing on stdout, and exits
0. It stays fast: nothing heavy is imported unless the event records signals.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from flowloop.cli.common import state

ANSWER_WITHIN_S = 0.95  # context hooks answer within 1 s of being started, or inject nothing


def register(app: typer.Typer) -> None:
    app.command("hook", help="Handle one agent hook event (JSON on stdin); always exits 0.")(hook_command)


def hook_command(
    ctx: typer.Context,
    event: str = typer.Argument(..., help="SessionStart, UserPromptSubmit, PostToolUse, Stop or SessionEnd."),
    agent: str = typer.Option("claude-code", "--agent", help="claude-code or codex."),
) -> None:
    try:
        _run(ctx, event, agent)
    except Exception as exc:  # process boundary: the agent must never see a failing hook
        sys.stderr.write(f"flow hook {event}: {type(exc).__name__}: {exc}\n")
    if sys.stdout is sys.__stdout__:
        # A real hook process: everything is written and the store is closed, so skip the
        # interpreter's teardown (module GC takes 0.1-0.6 s on a busy machine, all of it time
        # the agent waits). Not done under a test runner, which replaces sys.stdout.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    raise typer.Exit(0)


def _run(ctx: typer.Context, event: str, agent: str) -> None:
    from flowloop.integrations.claude_hooks import handle_hook
    from flowloop.repo import find_repo

    raw = sys.stdin.read()
    payload: Any = json.loads(raw) if raw.strip() else {}
    repo = find_repo(state(ctx).start)
    if not repo.is_initialized() and isinstance(payload, dict) and isinstance(payload.get("cwd"), str):
        repo = find_repo(Path(payload["cwd"]))
    if not repo.is_initialized():
        sys.stderr.write(f"flow hook {event}: no .flow/ repository here; run `flow init`\n")
        return
    # The agent waits for this whole process: whatever start-up took comes out of the 1 s.
    age = _process_age_s()
    timeout = repo.settings.signals.hook_context_timeout_s
    if age is not None:
        timeout = max(0.05, min(timeout, ANSWER_WITHIN_S - age))
    response = handle_hook(repo, event, payload, agent=agent, timeout_s=timeout)
    for problem in response.problems:
        sys.stderr.write(f"flow hook {event}: {problem}\n")
    text = response.stdout_text()
    if text:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def _process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that is unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return None
