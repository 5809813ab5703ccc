"""``flow hooks install|status|uninstall|doctor``: flowloop's hooks in Claude Code and Codex CLI.

See ``flowloop.integrations.hooks.install`` (what is written where) and
``flowloop.integrations.hooks.doctor`` (running the installed command as the agent would).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Optional

import typer

from flowloop.cli.common import console, markup, print_json, repo_of

hooks_app = typer.Typer(help="Agent hooks (Claude Code, Codex CLI): install, status, uninstall, doctor.",
                        no_args_is_help=True)
AGENT_HELP = "claude-code or codex."


def register(app: typer.Typer) -> None:
    app.add_typer(hooks_app, name="hooks")


def _agent(agent: str) -> str:
    from flowloop.integrations.hooks.install import AGENTS

    if agent not in AGENTS:
        raise typer.BadParameter(f"unknown agent {agent!r}; use {' or '.join(AGENTS)}", param_hint="AGENT")
    return agent


def this_program() -> Path:
    """The flow program running now, by absolute path (links kept: a pipx link survives upgrades)."""
    argv0 = Path(sys.argv[0])
    if argv0.name.startswith("flow") and argv0.is_file() and os.access(argv0, os.X_OK):
        return argv0.absolute()
    sibling = Path(sys.executable).with_name("flow")
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return sibling.absolute()  # python -m / a test runner: the venv's own entry point
    found = shutil.which("flow")
    if found:
        return Path(found).absolute()
    raise typer.BadParameter("cannot tell where the flow program is; pass --program /absolute/path/to/flow",
                             param_hint="--program")


@hooks_app.command("install")
def install_command(
    ctx: typer.Context,
    agent: str = typer.Argument(..., help=AGENT_HELP, metavar="AGENT"),
    local: bool = typer.Option(False, "--local", help="Claude Code: write .claude/settings.local.json (not committed)."),
    program: Optional[Path] = typer.Option(None, "--program", help="Absolute path of the flow program the hooks run "
                                           "(default: this one)."),
    validate: bool = typer.Option(False, "--validate", help="Claude Code: also a Stop hook that runs `flow validate` on "
                                  "the session's diff and blocks (once per finding) when something is below threshold."),
) -> None:
    """Write the agent's hook entries (re-running updates them; other hooks stay as they are)."""
    from flowloop.errors import CollectorError
    from flowloop.integrations.hooks.install import CODEX_NOTE, install_hooks

    if validate and _agent(agent) != "claude-code":
        raise CollectorError("--validate is for Claude Code's Stop hook", field="--validate", hint="drop it for codex")
    result = install_hooks(repo_of(ctx), program or this_program(), agent=_agent(agent), local=local)
    where = str(result.path)
    if validate:
        from flowloop.integrations.hooks.validate_stop import install_validate_hook

        verdict = install_validate_hook(repo_of(ctx), program or this_program(), local=local)
        console.print(f"{where}: {verdict}: Stop (flow validate)", highlight=False)
    for label, events in (("added", result.added), ("updated", result.updated), ("unchanged", result.present)):
        if events:
            console.print(f"{where}: {label}: {', '.join(events)}", highlight=False)
    if result.duplicates_removed:
        console.print(f"{where}: removed {result.duplicates_removed} duplicate entr"
                      f"{'y' if result.duplicates_removed == 1 else 'ies'}", highlight=False)
    console.print("No server is needed: the hooks build the context pack themselves (`flow serve` makes it faster). "
                  "Check with `flow hooks doctor`.", highlight=False)
    if agent == "claude-code" and not local and result.changed:
        console.print(f"note: {where} is usually committed, and the command names this machine's flow program; "
                      "for hooks of your own only, uninstall and use --local (.claude/settings.local.json).", highlight=False)
    if agent == "codex":
        console.print(CODEX_NOTE, highlight=False)


@hooks_app.command("status")
def status_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """Which flowloop hooks are installed where, the program they run, and what is wrong with them."""
    from flowloop.integrations.hooks.install import installed_hooks

    repo = repo_of(ctx)
    hooks = installed_hooks(repo)
    if as_json:
        print_json([{"agent": h.agent, "path": str(h.path), "event": h.event, "command": h.command,
                     "timeout": h.timeout, "program": h.program, "problems": h.problems} for h in hooks])
        return
    if not hooks:
        console.print("no flowloop hooks installed; run `flow hooks install claude-code` (or codex)")
        return
    last = None
    for h in hooks:
        if (h.agent, h.path) != last:
            last = (h.agent, h.path)
            console.print(f"{str(h.path.relative_to(repo.root))} ({h.agent})", highlight=False)
        timeout = f"{h.timeout:g}s" if h.timeout else "-"
        status = "; ".join(h.problems) if h.problems else "ok"
        console.print(f"  {h.event:<17} {timeout:>4}  {h.program or '-'}  {status}", highlight=False)
    if any(h.problems for h in hooks):
        raise typer.Exit(1)


@hooks_app.command("uninstall")
def uninstall_command(
    ctx: typer.Context,
    agent: str = typer.Argument(..., help=AGENT_HELP, metavar="AGENT"),
    local: bool = typer.Option(False, "--local", help="Claude Code: the entries in .claude/settings.local.json."),
) -> None:
    """Remove flowloop's entries from the agent's settings file (nothing else in it changes)."""
    from flowloop.integrations.hooks.install import uninstall_hooks

    if _agent(agent) == "claude-code":
        from flowloop.integrations.hooks.validate_stop import uninstall_validate_hook

        if uninstall_validate_hook(repo_of(ctx), local=local):
            console.print("removed the Stop hook of flow validate", highlight=False)
    result = uninstall_hooks(repo_of(ctx), agent=_agent(agent), local=local)
    where = str(result.path)
    if not result.removed:
        console.print(f"{where}: no flowloop hooks to remove", highlight=False)
        return
    console.print(f"{where}: removed {', '.join(result.removed)}"
                  + (" (the file held nothing else and was deleted)" if result.deleted_file else ""), highlight=False)


@hooks_app.command("doctor")
def doctor_command(
    ctx: typer.Context,
    prompt: Optional[str] = typer.Option(None, "--prompt", help="The sample prompt (default: a title from the index)."),
    show: int = typer.Option(600, "--show", min=0, help="Characters of injected context to print."),
) -> None:
    """Run each installed context hook as the agent would (sample payload, system PATH) and show what it sees."""
    from flowloop.integrations.hooks.doctor import run_doctor
    from flowloop.integrations.hooks.install import installed_hooks

    repo = repo_of(ctx)
    static = [h for h in installed_hooks(repo) if h.problems]
    # The agent may have been started without this shell's PATH (a desktop launcher, another
    # terminal): run with the system's PATH, so a command that only works from here shows up.
    env = {**os.environ, "PATH": os.defpath}
    runs = run_doctor(repo, env, prompt=prompt)
    if not runs and not static:
        console.print("no flowloop context hooks installed; run `flow hooks install claude-code` (or codex)")
        raise typer.Exit(1)
    for hook in static:
        console.print(markup("[red]problem[/red] {} {}: {}", hook.agent, hook.event, "; ".join(hook.problems)), highlight=False)
    for run in runs:
        mark = markup("[green]ok[/green]" if run.ok else "[red]problem[/red]")
        console.print()
        console.print(mark, f"{run.hook.agent} {run.hook.event} ({run.hook.path.relative_to(repo.root)}): "
                      f"{run.seconds:.2f}s of {run.timeout:g}s, exit {run.exit_code if run.exit_code is not None else '-'}",
                      highlight=False)
        console.print(f"  command: {run.hook.command}", highlight=False)
        if run.hook.event == "UserPromptSubmit":
            console.print(f"  sample prompt: {run.prompt}", highlight=False)
        console.print(f"  {run.verdict}", highlight=False)
        for note in run.notes:
            console.print(f"  note: {note}", highlight=False)
        if run.context:
            shown = run.context[:show] + ("…" if len(run.context) > show else "")
            console.print("  the model would get:", highlight=False)
            console.print("\n".join("    " + line for line in shown.splitlines()), highlight=False)
        if run.stderr.strip() and not run.ok:
            console.print(f"  stderr: {run.stderr.strip()[:600]}", highlight=False)
    if static or not all(run.ok for run in runs):
        raise typer.Exit(1)
