"""``flow hooks install claude-code|codex``: register flowloop's hooks with a coding agent.

Merges ``flow hook <event>`` handlers into ``.claude/settings.json`` (or
``.claude/settings.local.json`` with ``--local``) or ``.codex/hooks.json``; see
``flowloop.integrations.hook_install``.
"""

from __future__ import annotations

import typer

from flowloop.cli.common import console, repo_of

hooks_app = typer.Typer(help="Install agent hooks (Claude Code, Codex CLI).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(hooks_app, name="hooks")


@hooks_app.command("install")
def install_command(
    ctx: typer.Context,
    agent: str = typer.Argument(..., help="claude-code or codex.", metavar="AGENT"),
    local: bool = typer.Option(False, "--local", help="Claude Code: write .claude/settings.local.json (not committed)."),
    program: str = typer.Option("flow", "--program", help="Command that runs flow in the hook (e.g. an absolute path)."),
) -> None:
    """Write the agent's hook entries, merging with what is there (idempotent)."""
    from flowloop.integrations.hook_install import install_hooks

    if agent not in ("claude-code", "codex"):
        raise typer.BadParameter(f"unknown agent {agent!r}; use claude-code or codex", param_hint="AGENT")
    result = install_hooks(repo_of(ctx), agent=agent, local=local, program=program)
    if result.added:
        console.print(f"{result.path}: added {', '.join(result.added)}", highlight=False)
    if result.present:
        console.print(f"{result.path}: already installed: {', '.join(result.present)}", highlight=False)
    if agent == "codex":
        console.print("Codex builds before hooks were on by default need `[features] codex_hooks = true` in config.toml.")
