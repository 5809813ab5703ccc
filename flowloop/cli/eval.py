"""``flow eval``: score a model on the held-out suites, side by side with its baselines.

Thin over ``flowloop.evaluate.evaluate_model``; the table shows each metric with its ``n`` and
95% interval, and the planning comparison (base, retrieval-only, alone, with context).
``--suite retrieval`` is thin over ``flowloop.evaluate.retrieval_suite.evaluate_retrieval``: the
retrieval systems side by side, each with its paired difference against the stock hybrid.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from flowloop.cli.common import console, err_console, markup, print_json, repo_of
from flowloop.evaluate.results import LOCALIZER_BASELINE
from flowloop.types import StageProgress


@contextmanager
def stage_progress(disable: bool = False) -> Iterator[StageProgress]:
    """A Rich progress display with one bar per stage name the library reports."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True, disable=disable,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _cell(suite: dict[str, Any] | None, metric: str) -> str:
    if not suite or metric not in suite:
        return "–"
    lo, hi = suite.get("ci", {}).get(metric, [suite[metric], suite[metric]])
    return f"{suite[metric]:.3f} [{lo:.3f}, {hi:.3f}]"


def render_result(data: dict[str, Any]) -> None:
    """The suites table and the planning side-by-side table of one ``EvalResult.to_json()``."""
    table = Table(title=f"{data['model']} on dataset {data['dataset']} (95% bootstrap CI)")
    table.add_column("suite")
    table.add_column("metric")
    table.add_column("value [95% CI]", justify="right")
    table.add_column("n", justify="right")
    for suite, values in data["suites"].items():
        for metric in (k for k in values if k not in ("n", "ci")):
            table.add_row(suite, metric, _cell(values, metric), str(values["n"]))
    console.print(table)
    baselines = data.get("baselines", {})
    if "planning" in data["suites"] and baselines:
        side = Table(title="Planning: files a held-out task touched")
        for col in ("", "F1", "precision", "recall", "n"):
            side.add_column(col, justify="right" if col else "left")
        rows = [
            ("base model (with context)", baselines.get("base", {}).get("planning")),
            ("retrieval only", baselines.get("retrieval_only", {}).get("planning")),
            ("localizer alone", baselines.get(LOCALIZER_BASELINE, {}).get("planning")),
            (f"{data['model']} alone", baselines.get("alone", {}).get("planning")),
            (f"{data['model']} with context", data["suites"]["planning"]),
            (f"full planner (localizer + {data['model']})", data["suites"].get("planner")),
        ]
        for name, suite in rows:
            if suite:
                side.add_row(name, _cell(suite, "f1"), f"{suite['precision']:.3f}", f"{suite['recall']:.3f}", str(suite["n"]))
        console.print(side)
        vs = data.get("paired", {}).get("planner_minus_retrieval_only")
        if vs:
            console.print(f"full planner minus retrieval only: {vs['diff']:+.3f} "
                          f"[{vs['ci'][0]:+.3f}, {vs['ci'][1]:+.3f}] (paired 95% CI, n={vs['n']})", highlight=False)
    if "validation" in data["suites"]:
        render_reviewers(data["model"], data["suites"]["validation"], baselines.get("reward", {}).get("validation"))


def render_reviewers(model: str, reviewer: dict[str, Any], reward: dict[str, Any] | None) -> None:
    """Both reviewers on the same held-out items: the generative one and the reward model."""
    side = Table(title="Validation: catching violations, both reviewers on the same items (95% CI)")
    side.add_column("reviewer", no_wrap=True)
    for col in ("threshold", "precision", "recall", "F1", "AUROC", "n"):
        side.add_column(col, justify="right")
    rows = [(f"generative {model}", reviewer, 0.5)]
    if reward:
        rows.append(("reward model", reward, reward.get("threshold", 0.5)))
    for name, suite, threshold in rows:
        side.add_row(name, f"{threshold:.3f}", *(_cell(suite, m) for m in ("precision", "recall", "f1", "auroc")),
                     str(suite["n"]))
    console.print(side)
    if not reward:
        err_console.print("no reward model promoted yet: only the generative reviewer was scored", highlight=False)


def render_gate(data: dict[str, Any]) -> None:
    """The gate's side-by-side table (reference vs candidate per metric) and its verdict."""
    table = Table(title=f"{data['candidate']} vs {data['reference']} on dataset {data['dataset']} (paired bootstrap, 95% CI)")
    for col in ("metric", data["reference"], data["candidate"], "difference [95% CI]", "n", "verdict"):
        table.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
    colours = {"improved": "green", "ok": "green", "not improved": "yellow", "regressed": "red", "collapsed": "red"}
    for row in data["rows"]:
        lo, hi = row["diff_ci"]
        name = markup("[bold]{}[/bold] (primary)", row["metric"]) if row["primary"] else row["metric"]
        colour = colours.get(row["verdict"], "white")
        table.add_row(name, f"{row['reference']:.3f}", f"{row['candidate']:.3f}", f"{row['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}]",
                      str(row["n"]), Text(row["verdict"], style=colour))
    if data["rows"]:
        console.print(table)
    candidate = data.get("results", {}).get(data["candidate"])
    if candidate and candidate.get("baselines"):
        render_result(candidate)
    if data["promoted"]:
        verdict = "[yellow]promoted (forced)[/yellow]" if data["forced"] else "[green]promoted[/green]"
    else:
        verdict = "[red]not promoted[/red]"
    console.print(markup(verdict + " {}: {}", data["candidate"], data["reason"]), highlight=False)


def render_retrieval(data: dict[str, Any]) -> None:
    """The retrieval suite's systems side by side, each against the stock hybrid (paired)."""
    table = Table(title=f"Retrieval on dataset {data['dataset']}: held-out future queries (95% bootstrap CI)")
    for col in ("system", "recall@5", "nDCG@10", "MRR", "files recall@10", "n", "recall@5 vs stock (paired)"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for name, row in data["systems"].items():
        files = row.get("files")
        vs = (row.get("vs_reference") or {}).get("recall@5")
        label = row["label"] + (" *" if name == data.get("serving") else "")
        table.add_row(Text(label), _cell(row, "recall@5"), _cell(row, "ndcg@10"), _cell(row, "mrr"),
                      f"{_cell(files, 'recall@10')} n={files['n']}" if files else "–", str(row["n"]),
                      f"{vs['diff']:+.3f} [{vs['ci'][0]:+.3f}, {vs['ci'][1]:+.3f}]" if vs else "–")
    console.print(table)
    console.print("* serves `flow search` and the context packs now", style="dim")
    for note in data.get("notes", []):
        console.print(Text(f"note: {note}"), style="dim")


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        ctx: typer.Context,
        model: str = typer.Option("current", "--model", help="base, current or a version like v3."),
        suite: Optional[list[str]] = typer.Option(
            None, "--suite", help="Suite to run (repeatable): planning, planner, knowledge, preference, validation, "
            "general, retrieval (retrieval systems, not the model)."
        ),
        dataset: str = typer.Option("latest", "--dataset", help="Dataset version to evaluate on."),
        fresh: bool = typer.Option(False, "--fresh", help="Recompute even if a stored result exists."),
        max_examples: Optional[int] = typer.Option(
            None, "--max-examples", min=1, help="Cap per suite (default: eval.max_examples; `flow loop` uses loop.eval_max_examples)."
        ),
        embedder: str = typer.Option("auto", "--embedder", help="Retrieval suite: the tuned embedder (vN, auto = "
                                     "promoted else newest, none)."),
        reranker: str = typer.Option("auto", "--reranker", help="Retrieval suite: the tuned reranker (vN, auto, none)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Evaluate a model on the held-out suites; results are stored with the model version.

        ``--suite retrieval`` scores the retrieval systems instead (BM25, stock and tuned
        embedder, with and without the tuned reranker), stored with the dataset."""
        from flowloop.evaluate.runner import evaluate_model

        repo = repo_of(ctx)
        wanted = list(suite or [])
        model_suites = [s for s in wanted if s != "retrieval"]
        with stage_progress(disable=as_json) as progress:
            result = evaluate_model(repo, model, model_suites or None, dataset, progress, reuse=not fresh,
                                    max_examples=max_examples) if model_suites or not wanted else None
            retrieval = None
            if "retrieval" in wanted:
                from flowloop.evaluate.retrieval_suite import evaluate_retrieval

                retrieval = evaluate_retrieval(repo, dataset, embedder=embedder, reranker=reranker, reuse=not fresh,
                                               progress=progress)
        if as_json:
            payload = result.to_json() if result is not None else {}
            if retrieval is not None:  # alone: its own shape; beside a model's suites: under "retrieval"
                payload = {**payload, "retrieval": retrieval.to_json()} if payload else retrieval.to_json()
            print_json(payload)
            return
        if result is not None:
            render_result(result.to_json())
        if retrieval is not None:
            render_retrieval(retrieval.to_json())
