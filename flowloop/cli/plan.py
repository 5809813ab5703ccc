"""``flow plan "TASK"`` drafts ranked plans; ``flow plan choose PLAN_SET_ID K [--edit]`` picks one.

``flow plan "TASK" [--n 3] [--json]`` is :func:`flowloop.planner.draft.draft_plans`: N plans by
the specialist around the localizer's files, ranked, shown side by side with their scores and
what scored them, stored as a plan set with an id. On a terminal it then asks which to take
(a number, ``e K`` to edit plan K in ``$EDITOR`` first, ``s`` to skip); elsewhere it prints the
``flow plan choose`` line to run. ``--files-only`` is localization alone (no language model).
``flow plan choose`` is :func:`flowloop.planner.choose.choose_plan`.

Both spellings share the word ``plan``: :class:`PlanGroup` reads a first word that is not one
of its subcommands as the task (``flow plan draft "TASK"`` is the explicit form, for a task
that is literally the word ``choose``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import click
import typer
from typer.core import TyperGroup

from flowloop.cli.common import console, err_console, markup, print_json, repo_of
from flowloop.errors import PlanError

DRAFT = "draft"


class PlanGroup(TyperGroup):
    """``flow plan`` with a default subcommand: ``flow plan "TASK" ...`` is ``flow plan draft "TASK" ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DRAFT, *args]
        return super().parse_args(ctx, args)


plan_app = typer.Typer(
    cls=PlanGroup,
    help='Plans for a task: `flow plan "TASK" [--n 3] [--json] [--files-only]` drafts and ranks them; '
         "`flow plan choose PLAN_SET_ID K [--edit]` records the pick.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


@plan_app.command(DRAFT)
def plan_cmd(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="The task description."),
    n: Optional[int] = typer.Option(None, "--n", help="How many plans to draft (default [plan] n; 1 to 8)."),
    task_id: Optional[str] = typer.Option(None, "--task", help="Task id the pick is recorded under (default: plan-<hash>)."),
    files_only: bool = typer.Option(False, "--files-only", help="Localization alone: the ranked files, no plan text."),
    model: str = typer.Option("current", "--model", help="Localizer version with --files-only, else the specialist: current, base or vN."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed (default [plan] seed)."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1, help="Generation cap per plan."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan set (or, with --files-only, the files) as JSON."),
) -> None:
    """Draft N plans for TASK with the specialist around the localizer's files, ranked, side by side."""
    repo = repo_of(ctx)
    if files_only:
        _files_only(repo, task, model, as_json)
        return
    from flowloop.planner.draft import check_count, draft_plans

    if n is not None:
        check_count(n)
    waiting = err_console.status("drafting plans", spinner="dots")
    with waiting if not as_json else contextlib.nullcontext():
        plan_set = draft_plans(repo, task, n, task=task_id, model=model, seed=seed, max_new_tokens=max_new_tokens)
    if as_json:
        print_json(plan_set.to_dict())
        return
    _show(plan_set)
    if sys.stdin.isatty() and sys.stdout.isatty():
        _ask(repo, plan_set)
    else:
        err_console.print(f"choose one with: flow plan choose {plan_set.id} K [--edit]", highlight=False)


def _files_only(repo: Any, task: str, model: str, as_json: bool) -> None:
    from flowloop.localize.service import localize_task

    answer = localize_task(repo, task, version=model)
    if as_json:
        print_json(answer.to_dict())
        return
    for index, path in enumerate(answer.files):
        score = f"  {answer.scores[index]:.2f}" if index < len(answer.scores) else ""
        console.print(f"{path}{score}", highlight=False)
    how = f"localizer {answer.version}" if answer.method == "learned" else answer.method
    err_console.print(f"{len(answer.files)} files by {how}" + (f"; {answer.note}" if answer.note else ""),
                      style="dim", highlight=False)


def _show(plan_set: Any) -> None:
    from rich.columns import Columns
    from rich.panel import Panel
    from rich.text import Text

    panels = [Panel(Text(plan.markdown()), title=Text(f"plan {k}  score {plan.score:.3f}"), title_align="left")
              for k, plan in enumerate(plan_set.plans, start=1)]
    console.print(markup("[bold]plan set {}[/bold]  task {}  {} plans by {}, ranked by {}", plan_set.id,
                         plan_set.task, len(plan_set.plans), plan_set.model, plan_set.scored_by), highlight=False)
    console.print(Columns(panels, equal=True, expand=True))
    for note in plan_set.notes:
        err_console.print(f"note: {note}", style="dim", highlight=False)


def _ask(repo: Any, plan_set: Any) -> None:
    from rich.prompt import Prompt

    count = len(plan_set.plans)
    while True:
        answer = Prompt.ask(f"take which plan? 1-{count}, e K to edit plan K first, s to skip", console=console,
                            default="s").strip().lower()
        if answer == "s":
            err_console.print(f"skipped; choose later with: flow plan choose {plan_set.id} K [--edit]", highlight=False)
            return
        edit, _, number = answer.partition(" ") if answer.startswith("e") else ("", "", answer)
        if number.strip().isdigit() and 1 <= int(number) <= count:
            _choose(repo, plan_set.id, int(number), bool(edit), as_json=False)
            return
        err_console.print(f"answer a number from 1 to {count}, e K, or s", highlight=False)


def edit_in_editor(text: str) -> str:
    """``text`` as the user leaves it in ``$VISUAL`` / ``$EDITOR`` (vi when neither is set); an
    editor that fails or exits non-zero is a :class:`PlanError` (and nothing is recorded)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="flow-plan-") as tmp:
        path = Path(tmp) / "plan.md"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*shlex.split(editor), str(path)])
        except (OSError, ValueError) as exc:
            raise PlanError(f"cannot start the editor {editor!r}: {exc}; nothing recorded", field="EDITOR",
                            hint="set $EDITOR to an editor command, or choose without --edit") from exc
        if done.returncode != 0:
            raise PlanError(f"the editor {editor!r} exited with status {done.returncode}: nothing recorded",
                            field="EDITOR", hint="save and quit normally to keep the edit, or choose without --edit")
        return path.read_text(encoding="utf-8")


def _choose(repo: Any, plan_set_id: str, k: int, edit: bool, as_json: bool) -> None:
    from flowloop.planner.choose import choose_plan
    from flowloop.planner.store import load

    edited = None
    if edit:
        plan_set = load(repo, plan_set_id)
        if not 1 <= k <= len(plan_set.plans):
            raise PlanError(f"plan set {plan_set_id} has plans 1 to {len(plan_set.plans)}, not {k}", field="k")
        if plan_set.chosen:  # before the editor opens: an edit that cannot be recorded is wasted work
            raise PlanError(f"plan set {plan_set_id} was already chosen (plan {plan_set.chosen.get('k')})",
                            field="plan_set_id", hint='draft a new set with `flow plan "TASK"` to choose again')
        edited = edit_in_editor(plan_set.plans[k - 1].markdown())
    choice = choose_plan(repo, plan_set_id, k, edited, source="cli")
    if as_json:
        print_json(choice.to_dict())
        return
    kinds = ", ".join(e["kind"] for e in choice.events)
    console.print(f"chose plan {k} of {plan_set_id} for task {choice.plan_set.task}: recorded {kinds}", highlight=False)
    console.print(f"wrote {choice.note_path}", highlight=False)


@plan_app.command("choose")
def choose_cmd(
    ctx: typer.Context,
    plan_set_id: str = typer.Argument(..., metavar="PLAN_SET_ID", help="The id `flow plan` printed."),
    k: int = typer.Argument(..., metavar="K", help="Which plan (1 is the best ranked)."),
    edit: bool = typer.Option(False, "--edit", help="Edit the plan in $EDITOR first (a rewrite, not an approval)."),
    as_json: bool = typer.Option(False, "--json", help="Print the events and the note as JSON."),
) -> None:
    """Take plan K of a plan set: a preference over the others, an approval (or a rewrite), the task's Type 1 note."""
    _choose(repo_of(ctx), plan_set_id, k, edit, as_json)
