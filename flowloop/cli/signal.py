"""``flow signal ...``: record, list, export, import and count behavioral signals.

Each recording command takes its fields as options, or ``-`` to read one JSON event (or a JSON
array, or JSON Lines) on stdin. The store (SQLAlchemy) is imported inside the commands so that
``flow --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from flowloop.cli.common import console, err_console, print_json, repo_of

signal_app = typer.Typer(
    help="Behavioral signals: preferences, corrections, outcomes; export/import; stats.",
    no_args_is_help=True,
)

_STDIN_HELP = "'-' reads the event(s) as JSON from stdin instead of the options."


def register(app: typer.Typer) -> None:
    app.add_typer(signal_app, name="signal")


def _from_stdin(source: Optional[str]) -> bool:
    if source is None:
        return False
    if source != "-":
        raise typer.BadParameter(f"expected '-' (read JSON from stdin), got {source!r}", param_hint="SOURCE")
    return True


def _require(**values: Any) -> None:
    missing = [f"--{name.replace('_', '-')}" for name, value in values.items() if not value]
    if missing:
        raise typer.BadParameter(f"missing {', '.join(missing)} (or pass '-' to read JSON on stdin)")


def _record(ctx: typer.Context, source: Optional[str], items: list[dict[str, Any]], **kwargs: Any) -> None:
    from flowloop.signals.api import record
    from flowloop.signals.jsonl import parse_events_text

    repo = repo_of(ctx)
    where = "command line"
    if _from_stdin(source):
        items, where = parse_events_text(sys.stdin.read(), "stdin"), "stdin"
    result = record(repo, items, where=where, **kwargs)
    if len(result.events) == 1 and result.added == 1:
        event = result.events[0]
        console.print(f"recorded {event.kind} {event.id} (task {event.task or '-'})", highlight=False)
    else:
        console.print(f"recorded {result.added} events; {result.duplicates} already stored (same idempotency key)")


@signal_app.command("prefer")
def prefer_command(
    ctx: typer.Context,
    source: Optional[str] = typer.Argument(None, help=_STDIN_HELP, metavar="[-]"),
    task: Optional[str] = typer.Option(None, help="Task id the choice belongs to."),
    chosen: Optional[str] = typer.Option(None, help="The option the human chose."),
    rejected: Optional[list[str]] = typer.Option(None, help="An option the human rejected (repeatable)."),
    prompt: Optional[str] = typer.Option(None, help="The prompt or context the options answered."),
) -> None:
    """Record a preference: the chosen option over the rejected ones."""
    items: list[dict[str, Any]] = []
    if source is None:
        _require(task=task, chosen=chosen, rejected=rejected)
        item: dict[str, Any] = {"task": task, "chosen": chosen, "rejected": list(rejected or [])}
        if prompt is not None:
            item["prompt"] = prompt
        items = [item]
    from flowloop.signals.api import PREFERENCE_KINDS

    _record(ctx, source, items, default_kind="preference", allowed=PREFERENCE_KINDS, defaults={"task": task, "source": "cli"})


@signal_app.command("correct")
def correct_command(
    ctx: typer.Context,
    source: Optional[str] = typer.Argument(None, help=_STDIN_HELP, metavar="[-]"),
    task: Optional[str] = typer.Option(None, help="Task id."),
    agent: Optional[str] = typer.Option(None, help="The agent's direction that was corrected."),
    correction: Optional[str] = typer.Option(None, help="The human's correction."),
    context: Optional[str] = typer.Option(None, help="Context of the exchange."),
) -> None:
    """Record a correction: the human redirected the agent."""
    items: list[dict[str, Any]] = []
    if source is None:
        _require(task=task, agent=agent, correction=correction)
        item: dict[str, Any] = {"task": task, "agent": agent, "correction": correction}
        if context is not None:
            item["context"] = context
        items = [item]
    _record(ctx, source, items, default_kind="correction", allowed=("correction",), defaults={"task": task, "source": "cli"})


@signal_app.command("outcome")
def outcome_command(
    ctx: typer.Context,
    source: Optional[str] = typer.Argument(None, help=_STDIN_HELP, metavar="[-]"),
    task: Optional[str] = typer.Option(None, help="Task id."),
    metric: Optional[str] = typer.Option(None, help="ci_passed, time_to_green_s, reverted, hotfix, error_rate, or free-form."),
    value: Optional[float] = typer.Option(None, help="The metric's value (1/0 for yes/no metrics)."),
    commit: Optional[str] = typer.Option(None, help="Commit the outcome is about."),
) -> None:
    """Record an outcome: what happened to a task or commit in the world."""
    items: list[dict[str, Any]] = []
    if source is None:
        _require(task=task, metric=metric, value=value is not None)
        item: dict[str, Any] = {"task": task, "metric": metric, "value": value}
        if commit is not None:
            item["commit"] = commit
        items = [item]
    _record(ctx, source, items, default_kind="outcome", allowed=("outcome",), defaults={"task": task, "source": "cli"})


@signal_app.command("list")
def list_command(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, help="Only this kind."),
    task: Optional[str] = typer.Option(None, help="Only this task."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of events with all their fields."),
) -> None:
    """List stored events, oldest first."""
    from flowloop.signals.api import list_events

    found = list_events(repo_of(ctx), kind=kind, task=task)
    if as_json:
        print_json([event.model_dump(mode="json") for event in found])
        return
    if not found:
        console.print("no events")
        return
    from rich.table import Table

    table = Table("created", "kind", "task", "source", "summary")
    for event in found:
        table.add_row(
            event.created_at.strftime("%Y-%m-%d %H:%M"), event.kind, event.task or "-", event.source, _summary(event)
        )
    console.print(table)


def _summary(event: Any) -> str:
    payload = event.payload()
    for key in ("chosen", "correction", "description", "query", "final", "output", "approved_plan"):
        if key in payload:
            text = str(payload[key]).splitlines()[0] if payload[key] else ""
            return text[:80]
    if "metric" in payload:
        return f"{payload['metric']} = {payload['value']:g}"
    return ""


@signal_app.command("export")
def export_command(
    ctx: typer.Context,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to FILE (default: stdout)."),
) -> None:
    """Export every event as JSON Lines (import it into another store without loss)."""
    from flowloop.signals.api import export_events

    written = export_events(repo_of(ctx), output if output is not None else sys.stdout)
    if output is not None:
        console.print(f"exported {written} events to {output}")
    else:
        err_console.print(f"exported {written} events")


@signal_app.command("import")
def import_command(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="JSONL file (from `flow signal export` or the bundled example)."),
) -> None:
    """Import events from JSON Lines: idempotent; one bad line stores nothing of the file."""
    from rich.progress import Progress

    from flowloop.signals.api import import_events

    with Progress(console=err_console, transient=True) as bar:
        task_id = bar.add_task(f"validating {path.name}", total=None)
        result = import_events(repo_of(ctx), path, progress=lambda done, total: bar.update(task_id, completed=done, total=total))
    console.print(f"imported {result.events} events from {path}: {result.added} added, {result.duplicates} already stored")


@signal_app.command("stats")
def stats_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
) -> None:
    """Counts by kind and week, and progress toward the SFT (~50 docs) and DPO (~200 pairs) thresholds."""
    from flowloop.pipeline.signal_stats import signal_stats

    stats = signal_stats(repo_of(ctx))
    if as_json:
        print_json(stats.to_dict())
        return
    from rich.table import Table

    console.print(f"store: {stats.store_url}  ({stats.store.total} events)", highlight=False)
    kinds = Table("kind", "events", title="by kind")
    for kind, count in stats.store.by_kind.items():
        kinds.add_row(kind, str(count))
    console.print(kinds)
    if stats.store.by_week:
        weeks = Table("week", "events", "by kind", title="by ISO week")
        for week, counts in stats.store.by_week.items():
            weeks.add_row(week, str(sum(counts.values())), ", ".join(f"{k} {n}" for k, n in counts.items()))
        console.print(weeks)
    ready = Table("pass", "have", "threshold", "progress", title="training data (seed thresholds)")
    for name, unit, progress in (("SFT", "documents", stats.sft), ("DPO", "pairs", stats.dpo)):
        mark = "ready" if progress.ready else f"{progress.share:.0%}"
        ready.add_row(name, f"{progress.have} {unit}", str(progress.threshold), mark)
    console.print(ready)
    if stats.pilr_problems:
        err_console.print(f"{stats.pilr_problems} PILR documents failed to parse (run `flow pilr lint`)")
