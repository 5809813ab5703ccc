"""``flow loop``: the main job. Collect, build, train what is ready, evaluate, promote, report."""

from __future__ import annotations

import typer
from rich.table import Table

from flowloop.cli.common import console, err_console, markup, plain_progress, print_json, repo_of


def register(app: typer.Typer) -> None:
    @app.command("loop")
    def loop_command(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    ) -> None:
        """Run both loops once; safe on a schedule (locked, resumable, exits 0 when nothing is new)."""
        from flowloop.cli.eval import stage_progress
        from flowloop.loop import run_loop

        repo = repo_of(ctx)
        if err_console.is_terminal:
            with stage_progress(disable=as_json) as progress:
                summary = run_loop(repo, progress)
        else:  # a CI log or a cron mail: one line per stage and per tenth of a long stage
            summary = run_loop(repo, plain_progress(), on_event=lambda event: err_console.print(
                event.line(), highlight=False))
        if as_json:
            print_json(summary.to_json())
            return
        head = f"flow loop run {summary.run}" + (" (resumed)" if summary.resumed else "")
        console.print(markup("[bold]{}[/bold] in {}s", head, f"{summary.wall_s:.0f}"))
        for message in summary.messages:
            if message:
                console.print(f"  {message}", highlight=False)
        if summary.planning:
            table = Table(title="Planning F1 on held-out tasks (95% CI)")
            for col in ("", "F1", "precision", "recall", "n"):
                table.add_column(col, justify="right" if col else "left")
            for name, suite in summary.planning.items():
                lo, hi = suite["ci"]["f1"]
                table.add_row(name, f"{suite['f1']:.3f} [{lo:.3f}, {hi:.3f}]", f"{suite['precision']:.3f}", f"{suite['recall']:.3f}", str(suite["n"]))
            console.print(table)
        console.print(f"current specialist: {summary.current or 'none (base model)'}")
        if summary.report:
            console.print(f"report: {summary.report}")
