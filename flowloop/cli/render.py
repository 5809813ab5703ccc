"""``flow render claude-md|agents-md|cursor``: the team's conventions in an agent's own file."""

from __future__ import annotations

from typing import Optional

import typer

from flowloop.cli.common import console, err_console, print_json, repo_of
from flowloop.words import plural


def register(app: typer.Typer) -> None:
    @app.command("render")
    def render_command(
        ctx: typer.Context,
        target: str = typer.Argument(..., help="claude-md (CLAUDE.md), agents-md (AGENTS.md) or cursor "
                                     "(.cursor/rules/flowloop.mdc)."),
        check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the block is stale (for CI)."),
        max_lines: Optional[int] = typer.Option(None, "--max-lines", help="Size cap in lines (default: "
                                                "[render] max_lines, 150)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Write the most used, best rated evergreen conventions into a managed block of the agent's file."""
        from flowloop.integrations.agent_files import render_agent_file

        repo = repo_of(ctx)
        result = render_agent_file(repo, target, check=check, max_lines=max_lines)
        shown = result.path.relative_to(repo.root) if result.path.is_relative_to(repo.root) else result.path
        if as_json:
            print_json({"target": result.target, "path": str(result.path), "changed": result.changed,
                        "stale": result.stale, "reason": result.reason, "documents": result.documents,
                        "lines": result.lines, "left_out": result.left_out})
        elif check:
            if result.stale:
                err_console.print(f"{shown}: stale ({result.reason}); run `flow render {target}` and commit it",
                                  markup=False, highlight=False)
            else:
                console.print(f"{shown}: up to date ({plural(len(result.documents), 'document')})", highlight=False)
        else:
            verb = "updated" if result.changed else "unchanged"
            left = f", {result.left_out} left out by the cap" if result.left_out else ""
            console.print(f"{shown}: {verb}; {plural(len(result.documents), 'document')} in "
                          f"{plural(result.lines, 'line')}{left}", highlight=False)
        if check and result.stale:
            raise typer.Exit(1)
