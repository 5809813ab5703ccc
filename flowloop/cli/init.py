"""``flow init``: create the ``.flow/`` layout at the repository's git top level."""

from __future__ import annotations

from typing import Optional

import typer

from flowloop.cli.common import console, err_console, markup, state
from flowloop.repo import init_repo


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init_command(
        ctx: typer.Context,
        name: Optional[str] = typer.Option(None, help="Project name (default: the folder name)."),
    ) -> None:
        """Create .flow/config.toml, .flow/pilrs/{ephemeral,evergreen,cumulative}/ and .flow/.gitignore
        at the git top level (from any folder inside it)."""
        start = state(ctx).start
        result = init_repo(start, name=name)
        for warning in result.warnings:
            err_console.print(markup("[yellow]warning:[/yellow] {}", warning), highlight=False)
        root = result.repo.root
        if not result.changed:
            console.print(f"already initialized: {str(result.repo.flow_dir)} (nothing changed)", highlight=False)
            return
        if root != start.resolve():
            console.print(f"initializing the git top level {str(root)}", highlight=False)
        for path in result.created:
            console.print(f"created {str(path.relative_to(root))}", highlight=False)
        console.print("next: `flow source add 'docs/**/*.md' --type evergreen` (existing docs), `flow index`, "
                      "`flow hooks install claude-code`", highlight=False)
