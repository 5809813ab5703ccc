"""``flow report``: write the static HTML report (inline SVG charts, opens offline)."""

from __future__ import annotations

import typer

from flowloop.cli.common import console, print_json, repo_of


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_command(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print the report path as JSON."),
    ) -> None:
        """Write .flow/state/reports/index.html: metrics by model version, knowledge, signals, retrieval."""
        from flowloop.loop.state import last_run
        from flowloop.report import build_report

        repo = repo_of(ctx)
        path = build_report(repo, loop_run=last_run(repo))
        if as_json:
            print_json({"path": str(path)})
            return
        console.print(f"report written: {path}")
