"""``flow validate``: score a plan or a diff against the team's conventions (a CI and agent gate).

Parses the input, calls :func:`flowloop.specialist.validate.validate`, prints the chosen format
and exits 0 (nothing below threshold, or nothing to validate), 1 (something below threshold) or
2 (could not validate: bad input, no reward model under ``--require-model``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from flowloop.cli.common import console, err_console, markup, repo_of, state

HELP = """Score a plan or a diff with the reward model and flag what is below its threshold.

Input: --plan FILE (--plan - reads standard input) for a plan; otherwise a git diff: --diff RANGE
(e.g. main...HEAD), default the working tree against HEAD. Each unit (the plan, each file hunk)
gets a score and, when flagged, the convention documents retrieved for it, cited by id.

Scorer: the promoted reward model and the threshold recorded with it; with none, the generative
reviewer (said in the output), or an error with --require-model. A running `flow serve` scores
warm (faster); without one the model loads in this process.

Skipped, and named with the reason: binary files, files with more than --max-file-lines changed
lines, hunks beyond the 200th. An empty diff or plan, or one whose every part was skipped, has
nothing to validate: exit 0, and the output says so.

Exit codes: 0 nothing below threshold (or nothing to validate); 1 at least one unit below
threshold; 2 could not validate (missing or binary plan file, unknown revision range, no reward
model with --require-model, not a git repository)."""


def register(app: typer.Typer) -> None:
    app.command("validate", help=HELP)(validate_cmd)


def validate_cmd(
    ctx: typer.Context,
    plan: Optional[str] = typer.Option(None, "--plan", help="A plan file to score; - reads standard input."),
    diff: Optional[str] = typer.Option(None, "--diff", help="A git revision range (default: working tree vs HEAD)."),
    fmt: str = typer.Option("text", "--format", help="text, json, github (workflow annotations) or sarif."),
    model: str = typer.Option("current", "--model", help="Reward model version: current, latest or vN."),
    require_model: bool = typer.Option(False, "--require-model", help="Fail (exit 2) when there is no reward model."),
    cite: int = typer.Option(3, "--cite", help="Convention documents cited per flagged unit (0: none)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Override the model's threshold (0-1)."),
    max_file_lines: int = typer.Option(2000, "--max-file-lines", help="Skip files with more changed lines (named)."),
    hook: bool = typer.Option(False, "--hook", help="Run as Claude Code's Stop hook (its JSON on stdin; "
                              "installed by `flow hooks install claude-code --validate`); always exits 0."),
) -> None:
    from flowloop.errors import ValidateError
    from flowloop.specialist import units as unit_reader
    from flowloop.specialist.validate import validate
    from flowloop.specialist.validate_formats import FORMATS, render

    if hook:
        _stop_hook(ctx)
    if fmt not in FORMATS:
        raise ValidateError(f"unknown format {fmt!r}", field="--format", hint=f"use one of: {', '.join(FORMATS)}")
    if plan is not None and diff is not None:
        raise ValidateError("give either --plan or --diff, not both", field="--plan")
    repo = repo_of(ctx)
    # stdin is read only when asked (--plan -): an agent hook or CI step may pipe other data
    if plan is not None:
        stdin_text = sys.stdin.read() if plan == "-" else None
        path = None if plan == "-" else state(ctx).start / plan  # relative to -C, as if started there
        text, name = unit_reader.read_plan(path, stdin_text)
        found = unit_reader.plan_units(text, name)
    else:
        text, source = unit_reader.diff_text(repo.root, diff)
        found = unit_reader.diff_units(text, source, max_file_lines=max_file_lines)
    report = validate(repo, found, model=model, require_model=require_model, cite=cite,
                      threshold=threshold)
    if fmt == "text":
        for note in report.notes:
            err_console.print(markup("[yellow]note:[/yellow] {}", note), highlight=False)
        report.notes = []
    console.print(render(report, fmt), highlight=False, markup=False)
    raise typer.Exit(0 if report.passed else 1)



def _stop_hook(ctx: typer.Context) -> None:
    """The Stop hook: a block decision on stdout, or nothing; never a failing exit (the agent
    must always be able to stop when validation itself cannot run)."""
    import json

    try:
        from flowloop.integrations.hooks.validate_stop import stop_validation

        raw = sys.stdin.read()
        payload = json.loads(raw) if raw.strip() else {}
        answer = stop_validation(repo_of(ctx), payload if isinstance(payload, dict) else {})
    except Exception as exc:  # process boundary: report, let the agent stop
        answer = {"systemMessage": f"flowloop: flow validate could not run: {type(exc).__name__}: {exc}"}
    if answer:
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    raise typer.Exit(0)
