"""What every CLI module shares: the repository from ``-C``, consoles, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from flowloop.errors import FlowError
from flowloop.repo import FlowRepo, find_repo

# Markup off: titles, tags, ids, paths, hints and model output are printed verbatim (a title
# "Parse [/x] tags" once crashed `flow pilr list`, and "list[str]" vanished). Styling is opt-in,
# through ``markup()`` below, where only the template is ours.
console = Console(soft_wrap=True, markup=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False)


def markup(template: str, *values: object) -> Text:
    """Our Rich markup ``template`` with ``values`` (user text) inserted verbatim at each ``{}``."""
    return Text.from_markup(template.format(*(escape(str(value)) for value in values)))


@dataclass
class CliState:
    start: Path
    warned: bool = False

    def repo(self) -> FlowRepo:
        """The initialized repository at or above ``-C`` (or the working directory); the first
        time, each deprecated setting it still uses is named on stderr with its new key."""
        repo = find_repo(self.start).require_initialized()
        if not self.warned:
            self.warned = True
            try:
                deprecations = repo.settings.deprecations
            except FlowError:
                deprecations = ()  # a bad config is reported by the command that reads it
            for message in deprecations:
                err_console.print(f"warning: {message}", style="yellow", highlight=False)
        return repo


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState(Path.cwd())
    return root.obj


def repo_of(ctx: typer.Context) -> FlowRepo:
    return state(ctx).repo()


def print_json(data: Any) -> None:
    """JSON on stdout with no Rich markup or wrapping, so pipes and parsers get it verbatim."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def plain_progress(steps: int = 10) -> Callable[[str, int, int], None]:
    """For output that is not a terminal: a stderr line each time a stage passes another
    ``1/steps`` of its total (and when it ends), instead of a bar that a log cannot show."""
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        tenth = min(steps, done * steps // total)
        if tenth > shown.get(stage, 0):
            shown[stage] = tenth
            err_console.print(f"[loop]   {stage}: {done}/{total}", highlight=False)

    return progress


@contextmanager
def progress_bar(label: str, disable: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A Rich bar on stderr; yields the ``progress(done, total)`` callback library calls take."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(label, markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True, disable=disable,
    ) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield progress
