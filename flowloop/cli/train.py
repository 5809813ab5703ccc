"""``flow train <pass>`` (one command per registered pass): fine-tune the specialist (LoRA; QLoRA on a GPU) into the registry.

Thin over ``flowloop.train.api.train``: options become setting overrides, the library trains
and registers ``vN``, this module draws the progress bar (with the loss) and the summary. With
``--launcher accelerate`` it writes an accelerate config and runs the same training under
``accelerate launch -m flowloop.cli.train_entry`` (see ``flowloop.train.launch``). torch and the
training stack load only inside the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from flowloop.cli.common import console, err_console, markup, print_json, repo_of
from flowloop.passes import PASSES, TrainingPass, passes

train_app = typer.Typer(
    help="Fine-tune the specialist: SFT on curated examples, then DPO on preference pairs.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")


def _silence_libraries() -> None:
    import warnings

    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    hf_logging.set_verbosity_error()


def _notify(message: str) -> None:
    if message.startswith("warning:"):
        err_console.print(message, style="yellow", highlight=False)
    else:
        err_console.print(message, style="dim", highlight=False)


def _summary(result: Any) -> Table:
    m = result.metrics
    table = Table(title=f"{result.version}: {PASSES[result.model.pass_name].title} on dataset "
                        f"v{result.model.manifest.get('dataset_version')}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    hw = result.hardware
    rows = [
        ("parent", result.model.parent or "base model"),
        ("base model", result.model.base_model),
        ("device", f"{hw.device}, {hw.precision}{', QLoRA 4-bit' if hw.qlora else ''}"),
        ("steps", f"{m['steps']} ({m['session_steps']} this session"
                  + (f", resumed from {m['resumed_from_step']})" if m["resumed_from_step"] else ")")),
        ("final loss", f"{m['loss']:.4f}" if m.get("loss") is not None else "-"),
        ("time", f"{m['seconds']:.1f} s ({m['seconds_per_step'] or 0:.2f} s/step)"),
        ("tokens/s", f"{m['tokens_per_second'] or 0:.0f} ({m['tokens']} tokens)"),
        ("examples", f"{result.data['examples']} (from {result.data['source_examples']} rows"
                     + (f", {result.data['trimmed_prompts']} prompts shortened" if result.data.get("trimmed_prompts") else "")
                     + (f", {result.data['left_out']} left out: no room for the answer" if result.data.get("left_out") else "")
                     + ")"),
        ("memory", result.memory.message()),
        ("run", result.run_id),
    ]
    if not m.get("tokens"):  # a pass without a language model (the localizer): no tokens, no memory estimate
        rows = [row for row in rows if row[0] not in ("tokens/s", "memory")]
    if result.data.get("forced"):
        rows.append(("threshold", Text(f"forced: {result.data['count']} of {result.data['threshold']}", style="yellow")))
    for key, value in rows:
        table.add_row(key, value if isinstance(value, Text) else str(value))
    return table


def _run(ctx: typer.Context, pass_name: str, opts: dict[str, Any]) -> None:
    repo = repo_of(ctx)
    if opts["resume"] and opts["fresh"]:
        err_console.print(markup("[red]error:[/red] --resume and --fresh contradict each other"))
        raise typer.Exit(2)
    if opts["launcher"] not in ("none", "accelerate"):
        err_console.print(markup("[red]error:[/red] --launcher must be 'none' or 'accelerate', not {}", repr(opts["launcher"])))
        raise typer.Exit(2)
    if opts["launcher"] == "accelerate":
        _launch_accelerate(repo, pass_name, opts)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from flowloop.train.api import train, train_settings

    _silence_libraries()
    qlora = None if opts["qlora"] is None else ("on" if opts["qlora"] else "off")
    settings = train_settings(repo, qlora=qlora, precision=opts["precision"], batch_size=opts["batch_size"],
                              max_length=opts["max_length"])
    resume = "require" if opts["resume"] else "never" if opts["fresh"] else "auto"
    with Progress(
        TextColumn(f"train {pass_name}", markup=False), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}", markup=False),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=True, disable=opts["as_json"],
    ) as bar:
        task = bar.add_task(pass_name, total=None, loss="")

        def progress(step: int, total: int) -> None:
            bar.update(task, completed=step, total=total or None)

        def on_log(logs: dict[str, float]) -> None:
            bar.update(task, loss=f"loss {logs['loss']:.4f}")

        result = train(repo, pass_name, dataset=opts["dataset"], max_steps=opts["max_steps"], force=opts["force"],
                       resume=resume, parent=opts.get("parent"), settings=settings, progress=progress,
                       on_log=on_log, notify=None if opts["as_json"] else _notify)
    if result.model is None:
        return  # a non-main accelerate process: the main one reports
    if opts["as_json"]:
        print_json({"version": result.version, "run_id": result.run_id, "metrics": result.metrics,
                    "hardware": result.hardware.to_dict(), "data": result.data,
                    "memory": {"needed": result.memory.needed, "available": result.memory.available}})
        return
    console.print(_summary(result))
    spec = PASSES[pass_name]
    if spec.gate is not None:  # its own family and gate: `flow models promote` is the specialist's
        console.print(markup("registered {} [bold]{}[/bold]; `flow loop` gates it on the held-out tasks",
                             spec.family, result.version))
        return
    console.print(markup("registered [bold]{}[/bold]; promote it with `flow models promote {}`", result.version, result.version))


def _launch_accelerate(repo: Any, pass_name: str, opts: dict[str, Any]) -> None:
    import subprocess

    from flowloop.train.launch import accelerate_command, write_accelerate_config

    extra: list[str] = []
    for flag, key in (("--dataset", "dataset"), ("--max-steps", "max_steps"), ("--precision", "precision"),
                      ("--batch-size", "batch_size"), ("--max-length", "max_length"), ("--from", "parent")):
        value = opts.get(key)
        if value is not None and not (key == "dataset" and value == "latest"):
            extra += [flag, str(value)]
    for flag, key in (("--force", "force"), ("--resume", "resume"), ("--fresh", "fresh")):
        if opts.get(key):
            extra.append(flag)
    if opts["qlora"] is not None:
        extra.append("--qlora" if opts["qlora"] else "--no-qlora")
    config = write_accelerate_config(repo)
    command = accelerate_command(config, repo, pass_name, extra)
    err_console.print(f"accelerate config: {config}")
    console.print(" ".join(command), highlight=False, soft_wrap=True)
    if opts["print_only"]:
        return
    raise typer.Exit(subprocess.call(command))


# Every pass takes the same options (one that continues another adds --from); declared once.
_DATASET = typer.Option("latest", "--dataset", help="Dataset version (vN or latest).")
_MAX_STEPS = typer.Option(None, "--max-steps", help="Train exactly N optimizer steps (default: train.epochs over the data).")
_FORCE = typer.Option(False, "--force", help="Train even below the dataset threshold.")
_RESUME = typer.Option(False, "--resume", help="Resume the unfinished run (fail if there is none).")
_FRESH = typer.Option(False, "--fresh", help="Start over even if an unfinished run exists.")
_QLORA = typer.Option(None, "--qlora/--no-qlora", help="Force 4-bit QLoRA on/off (needs CUDA).")
_PRECISION = typer.Option(None, "--precision", help="auto, bf16 or fp32.")
_BATCH_SIZE = typer.Option(None, "--batch-size", help="Override train.batch_size.")
_MAX_LENGTH = typer.Option(None, "--max-length", help="Override train.max_length.")
_LAUNCHER = typer.Option("none", "--launcher", help="none, or accelerate (multi-GPU via accelerate launch).")
_PRINT_ONLY = typer.Option(False, "--print-only", help="With --launcher accelerate: print the command only.")
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _command(spec: TrainingPass) -> Callable[..., None]:
    """``flow train <name>`` for one registered pass; ``--from`` is shown only for a pass that
    continues another (the others refuse it: they start from the base model)."""
    def command(
        ctx: typer.Context,
        parent: Optional[str] = typer.Option(
            None, "--from", hidden=spec.starts_from is None,
            help=f"Start from vN or current (default: the newest {spec.starts_from} version)."),
        dataset: str = _DATASET,
        max_steps: Optional[int] = _MAX_STEPS,
        force: bool = _FORCE,
        resume: bool = _RESUME,
        fresh: bool = _FRESH,
        qlora: Optional[bool] = _QLORA,
        precision: Optional[str] = _PRECISION,
        batch_size: Optional[int] = _BATCH_SIZE,
        max_length: Optional[int] = _MAX_LENGTH,
        launcher: str = _LAUNCHER,
        print_only: bool = _PRINT_ONLY,
        as_json: bool = _JSON,
    ) -> None:
        _run(ctx, spec.name, {k: v for k, v in locals().items() if k not in ("ctx", "spec")})
    return command


for _spec in passes():
    train_app.command(_spec.name, help=f"{_spec.title}: {_spec.summary}")(_command(_spec))


def entry_main() -> None:
    """``python -m flowloop.cli.train_entry PASS -C REPO [options]`` (what accelerate launches)."""
    from flowloop.cli.main import app

    args = sys.argv[1:]
    if not args or args[0] not in PASSES:
        err_console.print(f"usage: python -m flowloop.cli.train_entry {'|'.join(PASSES)} -C REPO [flow train options]")
        raise SystemExit(2)
    pass_name, rest = args[0], args[1:]
    front: list[str] = []
    if "-C" in rest:
        at = rest.index("-C")
        front, rest = rest[at : at + 2], rest[:at] + rest[at + 2 :]
    app([*front, "train", pass_name, *rest], prog_name="flowloop.cli.train_entry")
