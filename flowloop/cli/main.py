"""The ``flow`` command: a thin Typer app over the library.

Each command group lives in its own module with a ``register(app)`` function listed in
``COMMAND_MODULES``. Those modules import only Typer, Rich and light library pieces at import
time, so ``flow --help`` and ``flow pilr ...`` never load torch. Library errors
(:class:`FlowError`) become one red line on stderr and the error's exit code here, and only here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup

from flowloop import __version__
from flowloop.cli.common import CliState, err_console, markup
from flowloop.errors import FlowError

COMMAND_MODULES = [
    "init",
    "pilr",
    "signal",
    "collect",
    "hooks",
    "hook",
    "ingest",
    "dataset",
    "eval",
    "loop",
    "report",
    "index",
    "source",
    "mcp",
    "train",
    "models",
    "retrieval",
    "ask",
    "plan",
    "render",
    "validate",
]

class FlowGroup(TyperGroup):
    """The root group: the one place where :class:`FlowError` becomes a message and exit code."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except FlowError as exc:
            err_console.print(markup("[red]error:[/red] {}", exc.render()), highlight=False)
            raise typer.Exit(exc.exit_code) from exc


app = typer.Typer(
    cls=FlowGroup,
    name="flow",
    help="flowloop: agents that improve through the work they do (fast loop: PILRs; slow loop: a specialist).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flowloop {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    directory: Optional[Path] = typer.Option(
        None, "-C", help="Run as if flow was started in PATH (like git -C).", metavar="PATH"
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    start = Path.cwd()
    if directory is not None:
        start = directory if directory.is_absolute() else start / directory
        if not start.is_dir():
            err_console.print(markup("[red]error:[/red] -C {}: not a directory", directory), highlight=False)
            raise typer.Exit(2)
    ctx.obj = CliState(start)


for _name in COMMAND_MODULES:
    importlib.import_module(f"flowloop.cli.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    import warnings

    # transformers' deprecation notices about its own TRL-facing arguments mean nothing to a
    # flow user; the CLI hides them (the library leaves warnings to its caller).
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\..*")
    app()
