"""``flow init``: create the ``.flow/`` layout in a repository."""

from __future__ import annotations

from typing import Optional

import typer

from flowloop.cli.common import console, state
from flowloop.repo import init_repo


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init_command(
        ctx: typer.Context,
        name: Optional[str] = typer.Option(None, help="Project name (default: the folder name)."),
    ) -> None:
        """Create .flow/config.toml, .flow/pilrs/{ephemeral,evergreen,cumulative}/ and .flow/.gitignore."""
        result = init_repo(state(ctx).start, name=name)
        if not result.changed:
            console.print(f"already initialized: {result.repo.flow_dir} (nothing changed)")
            return
        for path in result.created:
            console.print(f"created {path.relative_to(result.repo.root)}")
