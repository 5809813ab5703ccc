"""``flow plan "TASK" --files-only``: the files a task will probably touch, ranked.

Thin over ``flowloop.localize.service.localize_task``: the promoted localizer (``flow train
localizer``, gated by ``flow loop``) or, before one is promoted, retrieval-only, which the
output says. Drafting whole plans is not part of this command yet, so ``--files-only`` is
required for now.
"""

from __future__ import annotations

import typer

from flowloop.cli.common import console, err_console, markup, print_json, repo_of


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_cmd)


def plan_cmd(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="The task description."),
    files_only: bool = typer.Option(False, "--files-only", help="Localization alone: the ranked files, no plan text."),
    model: str = typer.Option("current", "--model", help="Localizer version: current, latest or vN."),
    as_json: bool = typer.Option(False, "--json", help="Print files, scores, method and version as JSON."),
) -> None:
    """Rank the files TASK will touch (learned localizer, or retrieval-only before one is promoted)."""
    from flowloop.localize.service import localize_task

    if not files_only:
        err_console.print(markup("[red]error:[/red] drafting plans is not built yet; use --files-only "
                                 "for the ranked files"), highlight=False)
        raise typer.Exit(2)
    answer = localize_task(repo_of(ctx), task, version=model)
    if as_json:
        print_json(answer.to_dict())
        return
    for index, path in enumerate(answer.files):
        score = f"  {answer.scores[index]:.2f}" if index < len(answer.scores) else ""
        console.print(f"{path}{score}", highlight=False)
    how = f"localizer {answer.version}" if answer.method == "learned" else answer.method
    err_console.print(f"{len(answer.files)} files by {how}" + (f"; {answer.note}" if answer.note else ""),
                      style="dim", highlight=False)
