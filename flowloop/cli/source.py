"""``flow source add|list``: the repository's own docs indexed in place (``[[sources]]``)."""

from __future__ import annotations

import typer

from flowloop.cli.common import console, print_json, repo_of

source_app = typer.Typer(help="Existing docs indexed in place: the [[sources]] of .flow/config.toml.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(source_app, name="source")


@source_app.command("add")
def add_command(
    ctx: typer.Context,
    glob: str = typer.Argument(..., help="Glob relative to the repository root, e.g. 'docs/**/*.md' (quote it)."),
    type: str = typer.Option("evergreen", "--type", help="PILR type the files count as: evergreen, cumulative or ephemeral."),
) -> None:
    """Add a [[sources]] entry (the rest of config.toml stays as it is); `flow index` picks it up."""
    from flowloop.index.source_config import add_source

    entry = add_source(repo_of(ctx), glob, type)
    console.print(f"added [[sources]] {entry.glob} ({entry.type}): {len(entry.files)} "
                  f"file{'s' if len(entry.files) != 1 else ''}; run `flow index`", highlight=False)


@source_app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list with the matched files."),
) -> None:
    """The configured sources and how many files each matches now."""
    from flowloop.index.source_config import list_sources

    entries = list_sources(repo_of(ctx))
    if as_json:
        print_json([{"glob": e.glob, "type": e.type, "files": e.files} for e in entries])
        return
    if not entries:
        console.print("no [[sources]] yet; add docs with `flow source add 'docs/**/*.md' --type evergreen`")
        return
    for e in entries:
        console.print(f"{e.glob}  {e.type}  {len(e.files)} file{'s' if len(e.files) != 1 else ''}", highlight=False)
