"""``flow index``, ``flow search``, ``flow context``, ``flow serve``: the fast loop's retrieval.

Each command parses its options, calls one function of ``flowloop.index`` and renders the result.
The library is imported inside the commands so ``flow --help`` stays instant.
"""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

import typer

from flowloop.cli.common import console, err_console, markup, print_json, progress_bar, repo_of
from flowloop.words import plural


def _parse_as_of(value: Optional[str]) -> Optional[dt.date]:
    """A date (that whole day, inclusive) or a moment (naive: UTC)."""
    if value is None:
        return None
    try:
        if len(value.strip()) == 10:
            return dt.date.fromisoformat(value.strip())
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date or time (e.g. 2025-03-01)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def register(app: typer.Typer) -> None:
    @app.command("index")
    def index_command(
        ctx: typer.Context,
        rebuild: bool = typer.Option(False, "--rebuild", help="Start over instead of updating incrementally."),
        files: bool = typer.Option(False, "--files", help="Index the tracked source files as cards instead "
                                   "(the corpus of `flow search --corpus files`)."),
        as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    ) -> None:
        """Index the PILRs and the [[sources]] docs (incremental: only changed files are re-embedded)."""
        from flowloop.index.api import build_index

        repo = repo_of(ctx)
        if files:
            from flowloop.index.file_index import build_file_index

            found = build_file_index(repo.require_initialized())
            if as_json:
                print_json(found.__dict__)
                return
            for warning in found.warnings:
                err_console.print(markup("[yellow]warning:[/yellow] {}", warning))
            console.print(f"file index: {plural(found.files, 'file')}, {found.embedded} re-embedded, {found.removed} removed")
            return
        with progress_bar("embedding chunks", disable=as_json) as progress:
            stats = build_index(repo, rebuild=rebuild, progress=progress)
        if as_json:
            print_json(stats.to_dict())
            return
        if stats.up_to_date:
            console.print(f"index up to date: {plural(stats.documents, 'document')}, {plural(stats.chunks, 'chunk')} "
                          f"(generation {stats.generation})")
            return
        from rich.table import Table

        table = Table(title=f"index generation {stats.generation}" + (" (rebuilt)" if stats.rebuilt else ""))
        for column in ("documents", "chunks", "added", "changed", "removed", "unchanged", "chunks embedded", "seconds"):
            table.add_column(column, justify="right")
        table.add_row(str(stats.documents), str(stats.chunks), str(len(stats.added)), str(len(stats.changed)),
                      str(len(stats.removed)), str(stats.unchanged), str(stats.chunks_embedded), f"{stats.seconds:.1f}")
        console.print(table)
        console.print("by type: " + ", ".join(f"{t} {n}" for t, n in sorted(stats.by_type.items())))

    @app.command("search")
    def search_command(
        ctx: typer.Context,
        query: str = typer.Argument(..., help="What to look for."),
        k: int = typer.Option(10, "--k", min=1, max=200, help="How many documents."),
        types: Optional[List[str]] = typer.Option(None, "--type", help="Only this PILR type (repeatable)."),
        include_archived: bool = typer.Option(False, "--include-archived", help="Also archived and superseded documents."),
        corpus: str = typer.Option("docs", "--corpus", help="docs (PILRs and [[sources]]) or files (source file cards)."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    ) -> None:
        """Hybrid search (BM25 + dense, fused) over the index: one result per document."""
        from flowloop.index.api import search

        if corpus not in ("docs", "files"):
            raise typer.BadParameter("use docs or files", param_hint="--corpus")
        if corpus == "files":
            from flowloop.index.file_index import search_files

            found = search_files(repo_of(ctx).require_initialized(), query, k=k)
            if as_json:
                print_json([f.__dict__ for f in found])
                return
            for n, hit in enumerate(found, start=1):
                console.print(f"{n}. {hit.score:.4f} {hit.path}")
            if not found:
                console.print("no results")
            return

        hits = search(repo_of(ctx), query, k=k, types=types or None, include_archived=include_archived)
        if as_json:
            print_json([h.to_dict() for h in hits])
            return
        if not hits:
            console.print("no results")
            return
        from rich.table import Table

        table = Table(show_lines=False)
        for column in ("#", "score", "id", "type", "title / heading", "path"):
            table.add_column(column)
        for n, hit in enumerate(hits, start=1):
            where = f"{hit.title}" + (f" > {hit.heading}" if hit.heading else "")
            table.add_row(str(n), f"{hit.score:.4f}", hit.id, hit.type, where, hit.path)
        console.print(table)

    @app.command("context")
    def context_command(
        ctx: typer.Context,
        task: str = typer.Argument(..., help="The task the agent is about to do."),
        budget: Optional[int] = typer.Option(None, "--budget", help="Token budget (default: [index] budget)."),
        include_archived: bool = typer.Option(False, "--include-archived", help="Also archived and superseded documents."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Only what existed then: a date (that day included) or a time; [[sources]] docs are dated from git."),
        as_json: bool = typer.Option(False, "--json", help="Print documents, tokens, budget and text as JSON."),
    ) -> None:
        """Assemble the context pack for a task: relevant knowledge only, within the budget."""
        from flowloop.index.api import context_pack

        pack = context_pack(repo_of(ctx), task, budget=budget, as_of=_parse_as_of(as_of),
                            include_archived=include_archived)
        if as_json:
            print_json(pack.to_dict())
            return
        if pack.empty:
            err_console.print("no document passes the relevance floor: nothing to inject")
            return
        # The pack itself goes to stdout verbatim (no Rich markup), ready to paste or pipe.
        typer.echo(pack.text, nl=not pack.text.endswith("\n"))
        err_console.print(f"{plural(len(pack.documents), 'document')}, {pack.tokens}/{pack.budget} tokens")

    @app.command("serve")
    def serve_command(
        ctx: typer.Context,
        port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, help="Listen on 127.0.0.1:PORT (0: any free port) "
                                           "instead of the unix socket .flow/state/warm.sock."),
    ) -> None:
        """Optional: keep the index, the embedder and the reward model warm for agent hooks and `flow validate`, which work without it (address in .flow/state/warm.json)."""
        import signal

        from flowloop.index.warm import serve
        from flowloop.specialist.warm_scoring import SCORE_PATH, score_route

        def ready(address: str) -> None:
            err_console.print(f"serving warm retrieval on {address} (Ctrl-C to stop)")

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # unwinds serve(), which removes its socket and warm.json

        signal.signal(signal.SIGTERM, stop)
        try:
            repo = repo_of(ctx)
            serve(repo, port=port, ready=ready, routes={SCORE_PATH: score_route(repo)})
        except KeyboardInterrupt:
            err_console.print("warm server stopped")
