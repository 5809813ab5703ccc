"""``flow dataset build|review|stats``: curate training data from knowledge and signals.

Thin over ``flowloop.pipeline.api``: each command parses its options, calls one library
function and renders the result. Heavy imports (the index, datasets) happen inside the library
calls, so ``flow --help`` stays fast.
"""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.panel import Panel
from rich.table import Table

from flowloop.cli.common import console, err_console, markup, print_json, progress_bar, repo_of

dataset_app = typer.Typer(
    help="Training data: build versioned datasets from PILRs and signals, review them, check thresholds.",
    no_args_is_help=True,
)

PREVIEW_CHARS = 1500


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")


def _threshold_table(stats: dict[str, Any]) -> Table:
    table = Table(title="Thresholds (seed: SFT from ~50 documents, DPO from ~200 pairs)")
    table.add_column("pass")
    table.add_column("count", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("ready")
    for name, info in stats.items():
        ready = markup("[green]yes[/green]" if info["ok"] else "[yellow]no[/yellow]")
        table.add_row(name, f"{info['count']} {info.get('unit', '')}".strip(), str(info["threshold"]), ready)
    return table


def _print_thresholds(stats: dict[str, Any]) -> None:
    console.print(_threshold_table(stats))
    for name, info in stats.items():
        if info.get("next"):
            console.print(f"{name.upper()}: {info['next']}", markup=False, highlight=False)


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title)
    table.add_column("name")
    table.add_column("examples", justify="right")
    for name, count in counts.items():
        table.add_row(name, str(count))
    return table


@dataset_app.command("build")
def build_cmd(
    ctx: typer.Context,
    curate: str = typer.Option(
        "templates", "--curate", help="templates (deterministic) or agentic (a model drafts Q/A for review)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Build the next dataset version under .flow/state/datasets/vN/ (reused if identical)."""
    from flowloop.pipeline.api import build_dataset, dataset_stats

    if curate not in ("templates", "agentic"):
        err_console.print(markup("[red]error:[/red] --curate must be 'templates' or 'agentic', not {}", repr(curate)))
        raise typer.Exit(2)
    repo = repo_of(ctx)
    with progress_bar("building dataset", disable=as_json) as progress:
        manifest = build_dataset(repo, curate=curate, progress=progress)
    if as_json:
        data = manifest.model_dump()
        data.update(path=str(manifest.path), reused=manifest.reused)
        print_json(data)
        return
    verb = "unchanged, reusing" if manifest.reused else "built"
    console.print(markup("Dataset {} [bold]v{}[/bold] at {}", verb, manifest.version, manifest.path))
    files = manifest.counts.get("files", {})
    console.print(_counts_table("Files", files))
    _print_thresholds(dataset_stats(repo, manifest.version).thresholds)
    split = manifest.split
    console.print(
        f"Held out {len(split.get('heldout_tasks', []))} of "
        f"{len(split.get('train_tasks', [])) + len(split.get('heldout_tasks', []))} tasks "
        f"(newest {split.get('holdout_share')}; cutoff {split.get('cutoff')})."
    )
    drafts = manifest.counts.get("drafts", 0)
    if drafts:
        console.print(f"{drafts} drafted examples wait for `flow dataset review` before they train.")


def _render_item(item: Any) -> None:
    example = item.example
    header = markup(
        "{}" + ("  [yellow]DRAFT[/yellow]" if example.draft else ""),
        f"{item.index + 1}/{item.total}  {item.file}  kind={example.kind}  source={example.source}  "
        f"task={example.task or '-'}  weight={example.weight}",
    )
    user = next((m["content"] for m in example.prompt if m["role"] == "user"), "")
    console.rule(header)
    console.print(Panel(user[:PREVIEW_CHARS] + ("..." if len(user) > PREVIEW_CHARS else ""), title="prompt"))
    for name, text in example.answers():
        console.print(Panel(text[:PREVIEW_CHARS], title=name, border_style="red" if name == "rejected" else "green"))


def _ask(item: Any) -> Any:
    from flowloop.pipeline.api import ReviewDecision

    _render_item(item)
    choice = typer.prompt("[a]ccept / [r]eject / [e]dit / [s]kip / [q]uit", default="s").strip().lower()[:1]
    if choice == "a":
        return "accept"
    if choice == "r":
        return "reject"
    if choice == "q":
        return "quit"
    if choice == "e":
        current = item.example.answer
        import click

        text = click.edit(current)  # $EDITOR; None when unchanged or no editor
        if text is None:
            text = typer.prompt("New completion (one line; empty keeps it)", default="", show_default=False)
        if text and text.strip() and text.strip() != current.strip():
            return ReviewDecision(item.example.id, "edit", completion=text.strip())
        return "skip"
    return "skip"


@dataset_app.command("review")
def review_cmd(
    ctx: typer.Context,
    accept_all: bool = typer.Option(False, "--accept-all", help="Accept every pending example (automation)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Review at most N examples."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Accept, reject or edit the latest build's examples; decisions go to .flow/dataset-review.jsonl."""
    from flowloop.pipeline import api

    repo = repo_of(ctx)
    if accept_all:
        summary = api.accept_all(repo)
    else:
        summary = api.run_review(repo, _ask, limit=limit)
    result = {
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "edited": summary.edited,
        "skipped": summary.skipped,
        "pending": summary.pending,
    }
    if as_json:
        print_json(result)
        return
    console.print(
        f"accepted {summary.accepted}, rejected {summary.rejected}, edited {summary.edited}, "
        f"skipped {summary.skipped}; {summary.pending} still pending."
    )
    if summary.decided:
        console.print("Decisions saved to .flow/dataset-review.jsonl (commit it); run `flow dataset build` to apply.")


@dataset_app.command("stats")
def stats_cmd(
    ctx: typer.Context,
    version: str = typer.Option("latest", "--version", help="Dataset version (latest, vN)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Counts by source and kind, the split, and each pass against its threshold."""
    from flowloop.pipeline.api import dataset_stats

    stats = dataset_stats(repo_of(ctx), version).to_dict()
    if as_json:
        print_json(stats)
        return
    console.print(f"Dataset v{stats['version']} ({stats['content_hash'][:12]}) at {stats['path']}")
    counts = stats["counts"]
    console.print(_counts_table("By source", counts.get("by_source", {})))
    kinds = {f"{p}/{k}": n for p, by in counts.get("by_kind", {}).items() for k, n in by.items()}
    console.print(_counts_table("By kind", kinds))
    console.print(_counts_table("Files", counts.get("files", {})))
    _print_thresholds(stats["thresholds"])
    split = stats["split"]
    console.print(
        f"Split: {split['train_tasks']} train tasks, {split['heldout_tasks']} held out "
        f"(newest {split['holdout_share']}; cutoff {split['cutoff']})."
    )
