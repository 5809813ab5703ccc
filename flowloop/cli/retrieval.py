"""``flow retrieval pairs|list|promote|fusion|rollback``: the tuned embedder, reranker and fusion (issue 16).

Training is ``flow train embedder`` / ``flow train reranker``; this group previews the mined
pairs, lists the registered retrieval models and fitted fusions, and promotes one only through
the retrieval gate (held-out future queries, paired interval; ``--force`` overrides and the log
says so). Promoting an embedder re-embeds the index before it serves; rolling back restores the
previous vectors. ``fusion`` fits the fusion weights on the earlier held-out queries and applies
them only if they beat the current ones on the later queries.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any, Optional

import typer
from rich.table import Table

from flowloop.cli.common import console, markup, print_json, repo_of
from flowloop.models.registry import FUSION

retrieval_app = typer.Typer(help="Retrieval models that learn from the work: pairs, promote, roll back.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(retrieval_app, name="retrieval")


def _gated() -> dict[str, object]:
    """The passes whose models have their own gate (the retrieval families), by family."""
    from flowloop.passes import passes

    return {p.family: p for p in passes() if p.gate}


def _family(name: str) -> str:
    if name not in _gated():
        raise typer.BadParameter(f"use one of: {', '.join(_gated())}")
    return name


def _any_family(name: str) -> str:
    """A retrieval model family, or the fitted fusion."""
    if name not in (*_gated(), FUSION):
        raise typer.BadParameter(f"use one of: {', '.join((*_gated(), FUSION))}")
    return name


def _call(target: str) -> Any:
    import importlib

    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@retrieval_app.command("pairs")
def pairs_cmd(
    ctx: typer.Context,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Mine as of this date or moment (ISO); default: now."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Count the training pairs mined from the work as of a moment (nothing is written)."""
    from flowloop.pipeline.retrieval_pairs import mine_pairs

    cut = None
    if as_of:
        try:
            cut = dt.datetime.fromisoformat(as_of)
        except ValueError as exc:
            raise typer.BadParameter(f"--as-of {as_of!r} is not an ISO date or moment") from exc
        cut = cut if cut.tzinfo else cut.replace(tzinfo=dt.timezone.utc)
    mined = mine_pairs(repo_of(ctx), cut, negatives=False)
    if as_json:
        print_json({"as_of": as_of, "commit": mined.commit, "counts": mined.counts, "warnings": mined.warnings})
        return
    table = Table(title=f"retrieval pairs as of {as_of or 'now'}")
    table.add_column("source")
    table.add_column("pairs", justify="right")
    for kind, count in mined.counts.items():
        table.add_row(kind, str(count))
    console.print(table)
    for warning in mined.warnings:
        console.print(markup("[yellow]warning:[/yellow] {}", warning))


@retrieval_app.command("list")
def list_cmd(ctx: typer.Context, family: str = typer.Argument("embedder", callback=_any_family)) -> None:
    """Registered versions of the embedder, the reranker or the fusion; the serving one is marked."""
    from flowloop.models.registry import Registry

    registry = Registry(repo_of(ctx), family)
    current = registry.current()
    table = Table(title=f"{family} versions")
    for column in ("", "version", "base", "parent", "dataset", "pairs", "steps", "s/step", "gate"):
        table.add_column(column)
    for v in registry.versions():
        gate = v.path / "gate.json"
        verdict = "-"
        if gate.is_file():
            import json

            verdict = "passed" if json.loads(gate.read_text(encoding="utf-8")).get("passed") else "refused"
        data, metrics = v.manifest.get("data") or {}, v.metrics
        if family == FUSION:  # weights, not a model: the settings and the queries behind them
            pairs = f"fit on {data.get('fit_queries')}, judged on {data.get('judged_on')}"
            steps = ", ".join(f"{k}={val}" for k, val in (v.manifest.get("settings") or {}).items())
        else:
            pairs, steps = str(data.get("pairs", data.get("labelled_pairs", "-"))), str(metrics.get("steps", "-"))
        table.add_row("*" if current and current.version == v.version else "", v.version, markup("{}", v.base_model),
                      v.parent or "-", f"v{v.manifest.get('dataset_version')}", pairs, markup("{}", steps),
                      str(metrics.get("seconds_per_step", "-")), verdict)
    console.print(table)
    console.print(f"serving: {current.version if current else 'the configured model ([index])'}")


def _show(family: str, decision: Any) -> None:
    """A gate's two sides, its reason, and whether anything changed (exit 1 when not)."""
    table = Table(title=f"{family} {decision.candidate} vs {decision.reference} (n={decision.n})")
    for column in ("", "recall@5", "nDCG@10", "MRR"):
        table.add_column(column)
    for name, scores in decision.metrics.items():
        table.add_row(markup("{}", name), *(f"{scores[m]:.3f}" for m in ("recall@5", "ndcg@10", "mrr")))
    console.print(table)
    console.print(markup("{}", decision.reason))
    fusion = decision.fusion or {}
    if family != FUSION and fusion:
        console.print(markup("fusion refitted for the new models: {}", fusion.get("reason", "")))
    if decision.promoted:
        console.print(markup("[green]promoted[/green] {}{}", decision.candidate, " (forced)" if decision.forced else ""))
    else:
        console.print(markup("[red]not promoted[/red]: the serving {} and index are unchanged",
                             "settings" if family == FUSION else "model"))
        raise typer.Exit(1)


@retrieval_app.command("promote")
def promote_cmd(
    ctx: typer.Context,
    family: str = typer.Argument(..., callback=_family),
    version: str = typer.Argument(..., help="vN"),
    force: bool = typer.Option(False, "--force", help="Promote even if the gate refuses (logged as forced)."),
) -> None:
    """Score a version on held-out future queries against the serving model; promote if better."""
    repo = repo_of(ctx)
    spec: Any = _gated()[family]
    _show(family, _call(spec.gate)(repo, version, force=force, actor=getpass.getuser()))


@retrieval_app.command("fusion")
def fusion_cmd(
    ctx: typer.Context,
    dataset: str = typer.Option("latest", "--dataset", help="Dataset version whose held-out queries are used."),
    force: bool = typer.Option(False, "--force", help="Apply the fitted weights even if the gate refuses (logged)."),
) -> None:
    """Fit the fusion weights (lexical, dense, reranker blend, relevance floor) on the earlier
    held-out queries; apply them only if they beat the current ones on the later queries."""
    from flowloop.evaluate.fusion import promote_fusion

    decision = promote_fusion(repo_of(ctx), force=force, dataset=dataset, actor=getpass.getuser())
    fit = decision.fusion or {}
    console.print(markup("fitted on {} earlier queries: {}", fit.get("fit_queries"),
                         ", ".join(f"{k}={v}" for k, v in (fit.get("settings") or {}).items())))
    _show(FUSION, decision)


@retrieval_app.command("rollback")
def rollback_cmd(ctx: typer.Context, family: str = typer.Argument(..., callback=_any_family)) -> None:
    """Undo the latest promotion (an embedder's previous vectors are restored)."""
    repo = repo_of(ctx)
    if family == FUSION:
        from flowloop.evaluate.fusion import rollback_fusion

        back = rollback_fusion(repo, actor=getpass.getuser())
    else:
        spec: Any = _gated()[family]
        back = _call(spec.rollback)(repo, actor=getpass.getuser())
    console.print(f"{family} now serving: {back or 'the configured ' + ('weights' if family == FUSION else 'model') + ' ([index])'}")
