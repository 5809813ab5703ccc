"""``flow mcp``: run the MCP server (stdio) that gives agents the project's knowledge."""

from __future__ import annotations

import typer

from flowloop.cli.common import repo_of


def register(app: typer.Typer) -> None:
    @app.command("mcp")
    def mcp_command(ctx: typer.Context) -> None:
        """MCP server on stdio: search_knowledge, get_context, get_document, list_documents, propose_document, plan_task, choose_plan.

        Register it with an agent by absolute paths, e.g. `claude mcp add flowloop -- "$(which flow)" -C "$PWD" mcp`."""
        from flowloop.integrations.mcp_server import run_stdio

        run_stdio(repo_of(ctx))
