"""``flow models list|show|promote|rollback``: the model registry (``list`` covers every family).

Thin over ``flowloop.models.registry.Registry``. ``promote`` goes through the evaluation gate
(``flowloop.evaluate.gate.gated_promote``: candidate vs current on the same held-out data, the
side-by-side table and the reason printed; exit 1 when refused); ``--force`` overrides the gate
and the log records that it did. Nothing here imports torch.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from flowloop.cli.common import console, err_console, print_json, repo_of

models_app = typer.Typer(help="The specialist's model registry: list, inspect, promote, roll back.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


@models_app.command("list")
def list_cmd(
    ctx: typer.Context,
    family: Optional[str] = typer.Option(None, "--family", help="One model family (specialist, embedder, reranker, "
                                         "localizer, reward); default: the specialist and every family with versions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every registered version, oldest first, per model family; the current one is marked."""
    from flowloop.models.registry import Registry, family_layout
    from flowloop.passes import passes

    repo = repo_of(ctx)
    if family is not None:
        family_layout(family)  # an unknown family is an error naming the known ones
    names = [family] if family else ["specialist", *dict.fromkeys(p.family for p in passes() if p.family != "specialist")]
    listed = {name: Registry(repo, name) for name in names}
    if as_json:
        main = family or "specialist"
        print_json({**_family_json(listed[main]),
                    "families": {name: _family_json(registry) for name, registry in listed.items()}})
        return
    for name, registry in listed.items():
        versions = registry.versions()
        if not versions and (family or name != "specialist"):
            if family:
                console.print(f"no {name} version trained yet", highlight=False)
            continue
        _print_family(name, registry)


def _family_json(registry: Any) -> dict[str, Any]:
    current = registry.current()
    name = current.version if current else None
    return {"current": name, "versions": [{**v.manifest, "current": v.version == name} for v in registry.versions()]}


def _print_family(family: str, registry: Any) -> None:
    versions = registry.versions()
    current = registry.current()
    name = current.version if current else None
    if not versions:
        console.print("no model trained yet: run `flow train sft`")
        return
    table = Table(title=f"{family} versions")
    for column in ("", "version", "pass", "parent", "dataset", "base", "steps", "loss", "tokens/s", "created"):
        table.add_column(column)
    for v in versions:
        m = v.metrics
        table.add_row("*" if v.version == name else "", v.version, v.pass_name, v.parent or "-",
                      f"v{v.manifest.get('dataset_version')}", str(v.manifest.get("base_model", "-")),
                      _fmt(m.get("steps")), _fmt(m.get("loss")), _fmt(m.get("tokens_per_second"), 0), v.created_at)
    console.print(table)
    fallback = "none (the base model answers)" if family == "specialist" else "none (the packaged default serves)"
    console.print(f"{'' if family == 'specialist' else family + ' '}current: {name or fallback}", highlight=False)


@models_app.command("show")
def show_cmd(
    ctx: typer.Context,
    version: str = typer.Argument("current", help="vN, current or latest."),
    family: str = typer.Option("specialist", "--family", help="The model family the version belongs to."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One version's manifest (base, dataset, settings, metrics) and its promotions."""
    from flowloop.models.registry import Registry

    registry = Registry(repo_of(ctx), family)
    found = registry.get(version)
    events = [e.to_dict() for e in registry.history() if found.version in (e.version, e.previous)]
    if as_json:
        print_json({**found.manifest, "path": str(found.path), "promotions": events})
        return
    table = Table(title=f"{found.version} ({found.path})", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key in ("pass", "parent", "base_model", "dataset_version", "dataset_hash", "created_at", "run_id"):
        table.add_row(key, _fmt(found.manifest.get(key)))
    for key, value in found.metrics.items():
        if not isinstance(value, dict):
            table.add_row(f"metrics.{key}", _fmt(value))
    settings = found.manifest.get("settings") or {}
    table.add_row("settings", ", ".join(f"{k}={v}" for k, v in settings.items()))
    console.print(table)
    for event in events:
        console.print(f"{event['at']} {event['action']} -> {event['version'] or 'base'} by {event['actor']}"
                      f"{' (forced)' if event['forced'] else ''}: {event['reason']}", highlight=False)


@models_app.command("promote")
def promote_cmd(
    ctx: typer.Context,
    version: str = typer.Argument(..., help="The version to make current (vN)."),
    force: bool = typer.Option(False, "--force", help="Promote even if the gate refuses (recorded)."),
    reason: str = typer.Option("", "--reason", help="Why (recorded in the promotion log)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    reward: bool = typer.Option(False, "--reward", help="A reward model version (flow validate's), through the "
                                "reward gate: held-out AUROC above chance or above the current reward model's."),
) -> None:
    """Make vN current if the evaluation gate agrees (vN vs current on the same held-out data)."""
    from flowloop.cli.eval import render_gate, stage_progress
    from flowloop.evaluate.gate import gated_promote

    repo = repo_of(ctx)
    if reward:
        import dataclasses

        from flowloop.evaluate.reward import promote_reward

        found = promote_reward(repo, version, force=force)
        if as_json:
            print_json(dataclasses.asdict(found))
        else:
            verdict = "promoted" if found.promoted else "not promoted"
            console.print(f"reward {found.candidate} {verdict}: {found.reason}", highlight=False)
        raise typer.Exit(0 if found.promoted else 1)
    with stage_progress(disable=as_json) as progress:
        decision = gated_promote(repo, version, force=force, progress=progress, note=reason, actor=getpass.getuser())
    if as_json:
        print_json(decision.to_json())
    else:
        render_gate(decision.to_json())
    if not decision.promoted:
        raise typer.Exit(1)


@models_app.command("rollback")
def rollback_cmd(
    ctx: typer.Context,
    reason: str = typer.Option("rollback", "--reason", help="Why (recorded in the promotion log)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Undo the latest promotion: current goes back to the version before it (or the base)."""
    from flowloop.models.registry import Registry

    entry = Registry(repo_of(ctx)).rollback(reason=reason, actor=getpass.getuser())
    if as_json:
        print_json(entry.to_dict())
        return
    err_console.print(f"rolled back {entry.previous}", highlight=False)
    console.print(f"current: {entry.version or 'none (the base model answers)'}")


@models_app.command("export")
def export_cmd(
    ctx: typer.Context,
    version: str = typer.Argument(..., help="The version to export (vN, current, latest)."),
    fmt: str = typer.Option(..., "--format", help="hf (merged safetensors), vllm (adapter + serve command) or "
                            "ollama (merged weights + Modelfile)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder to create (default: "
                                          ".flow/state/exports/vN-FORMAT); must not exist or be empty."),
    dtype: str = typer.Option("auto", "--dtype", help="Weights of merged exports: auto (the base's), fp32, bf16, fp16."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Export a version for use outside flowloop, and print the command that serves it."""
    from flowloop.specialist.export import export_model

    repo = repo_of(ctx)
    with console.status(f"exporting {version} ({fmt})", spinner="dots") if not as_json else _nothing():
        result = export_model(repo, version, fmt, output=output, dtype=dtype)
    if as_json:
        print_json(result.to_dict())
        return
    console.print(f"exported {result.version} as {result.format} to {result.path} "
                  f"({len(result.files)} files; base {result.base_model})", highlight=False)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False)
    console.print(result.command, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
