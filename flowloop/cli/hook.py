"""``flow hook <event>``: the handler an agent runs, with the hook JSON on stdin.

This is a process boundary that must never hurt the agent: whatever goes wrong (bad JSON, no
repository, a store error, a bug), it exits 0; problems the user should know about come back as
the JSON ``systemMessage`` the agent shows (stderr of a hook that exits 0 is hidden), and notes
go to stderr. It stays fast: nothing heavy is imported unless the event needs it.

The time budget follows what the agent allows: ``--timeout`` is the entry's own timeout (the
installer writes both), less a margin for writing the answer and less what start-up already
took (the agent's clock starts when it spawns us); ``[signals] hook_context_timeout_s`` can
lower it further.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from flowloop.cli.common import state

DEFAULT_AGENT_TIMEOUT_S = 10.0  # entries installed before --timeout existed were given 10 s
MARGIN_S = 0.5


def register(app: typer.Typer) -> None:
    app.command("hook", help="Handle one agent hook event (JSON on stdin); always exits 0.")(hook_command)


def hook_command(
    ctx: typer.Context,
    event: str = typer.Argument(..., help="SessionStart, UserPromptSubmit, PostToolUse, Stop or SessionEnd."),
    agent: str = typer.Option("claude-code", "--agent", help="claude-code or codex."),
    timeout: Optional[float] = typer.Option(
        None, "--timeout", help="The agent's timeout for this hook in seconds (written by `flow hooks install`)."),
) -> None:
    try:
        _run(ctx, event, agent, timeout)
    except Exception as exc:  # process boundary: the agent must never see a failing hook
        _answer({"systemMessage": f"flowloop: hook {event} failed: {type(exc).__name__}: {exc}"})
        sys.stderr.write(f"flow hook {event}: {type(exc).__name__}: {exc}\n")
    if sys.stdout is sys.__stdout__:
        # A real hook process: everything is written and the store is closed, so skip the
        # interpreter's teardown (module GC takes 0.1-0.6 s on a busy machine, all of it time
        # the agent waits). Not done under a test runner, which replaces sys.stdout.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    raise typer.Exit(0)


def budget_s(agent_timeout: float | None, cap: float, age: float | None) -> float:
    """Seconds left for the context work: the agent's timeout less a margin and start-up."""
    timeout = agent_timeout if agent_timeout and agent_timeout > 0 else DEFAULT_AGENT_TIMEOUT_S
    budget = timeout - max(MARGIN_S, 0.1 * timeout)
    if cap > 0:
        budget = min(budget, cap)
    return budget - (age or 0.0)


def _run(ctx: typer.Context, event: str, agent: str, timeout: float | None) -> None:
    from flowloop.integrations.hooks import handle_hook
    from flowloop.repo import find_repo

    raw = sys.stdin.read()
    try:
        payload: Any = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        _answer({"systemMessage": f"flowloop: hook {event} got input that is not JSON ({exc.msg}); nothing done"})
        return
    repo = find_repo(state(ctx).start)
    if not repo.is_initialized() and isinstance(payload, dict) and isinstance(payload.get("cwd"), str):
        repo = find_repo(Path(payload["cwd"]))
    if not repo.is_initialized():
        _answer({"systemMessage": f"flowloop: no .flow/ repository at {repo.root}; run `flow init` there "
                 "(or `flow hooks uninstall`)"})
        return
    cap = repo.settings.signals.hook_context_timeout_s
    response = handle_hook(repo, event, payload, agent=agent, timeout_s=budget_s(timeout, cap, _process_age_s()))
    for line in [*response.problems, *response.notes]:
        sys.stderr.write(f"flow hook {event}: {line}\n")
    output = response.output
    if output:
        _answer(output)


def _answer(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
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
