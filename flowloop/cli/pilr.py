"""``flow pilr ...``: create, list, lint, and move knowledge upward."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Column, Table

from flowloop.cli.common import console, err_console, markup, print_json, repo_of
from flowloop.pilr import lifecycle, quarantine
from flowloop.pilr.helpfulness import Helpfulness, compute
from flowloop.pilr.lint import lint
from flowloop.pilr.model import Pilr, PilrStatus, PilrType
from flowloop.pilr.review import review_queue
from flowloop.pilr.store import PilrStore

pilr_app = typer.Typer(help="PILR documents: create, list, lint, and move knowledge upward.", no_args_is_help=True)


def _store(ctx: typer.Context) -> PilrStore:
    return PilrStore(repo_of(ctx))


def _rel(store: PilrStore, doc: Pilr) -> str:
    try:
        return str(doc.path.relative_to(store.repo.root))
    except ValueError:
        return str(doc.path)


def _summary(store: PilrStore, doc: Pilr) -> dict[str, object]:
    meta = doc.meta
    return {
        "id": meta.id,
        "type": meta.type.value,
        "status": meta.status.value,
        "title": meta.title,
        "path": _rel(store, doc),
        "tags": meta.tags,
        "task": meta.task,
        "created": meta.created.isoformat(),
        "updated": meta.updated.isoformat(),
        "supersedes": meta.supersedes,
        "superseded_by": meta.superseded_by,
        "derived_from": meta.derived_from,
        "sources": meta.sources,
        "origin": meta.origin,
    }


def _helpfulness_json(h: Helpfulness | None) -> dict[str, object] | None:
    return h.to_dict() if h is not None else None


@pilr_app.command("new")
def new_command(
    ctx: typer.Context,
    type_: PilrType = typer.Option(..., "--type", help="ephemeral | evergreen | cumulative"),
    title: str = typer.Option(..., help="Document title."),
    tags: str = typer.Option("", help="Comma-separated tags."),
    task: Optional[str] = typer.Option(None, help="Task id (required for ephemeral)."),
) -> None:
    """Create a document from the type's template and print its path."""
    store = _store(ctx)
    doc = lifecycle.create_document(store, type_, title, tags=tags.split(","), task=task)
    typer.echo(_rel(store, doc))


@pilr_app.command("list")
def list_command(
    ctx: typer.Context,
    type_: Optional[PilrType] = typer.Option(None, "--type", help="Only this type."),
    status: Optional[PilrStatus] = typer.Option(None, help="Only this status."),
    tag: Optional[str] = typer.Option(None, help="Only documents with this tag."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List documents (broken ones are reported on stderr; run `flow pilr lint`)."""
    store = _store(ctx)
    scan = store.scan()
    docs = [
        d
        for d in scan.documents
        if (type_ is None or d.type == type_)
        and (status is None or d.status == status)
        and (tag is None or tag in d.meta.tags)
    ]
    docs.sort(key=lambda d: (d.type.value, d.id))
    if scan.errors:
        err_console.print(markup("[yellow]warning:[/yellow] {} document(s) could not be read; run `flow pilr lint`", len(scan.errors)))
    if as_json:
        helpful = compute(store.repo)
        print_json([{**_summary(store, d), "helpfulness": _helpfulness_json(helpful.get(d.id))} for d in docs])
        return
    table = Table(Column("id", overflow="fold"), "type", "status", "title", "tags")
    for d in docs:
        table.add_row(d.id, d.type.value, d.status.value, d.title, ", ".join(d.meta.tags))
    console.print(table)
    console.print(f"{len(docs)} document(s)")


@pilr_app.command("show")
def show_command(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (front matter and body)."),
) -> None:
    """Show one document."""
    store = _store(ctx)
    doc = store.get(doc_id)
    helpful = compute(store.repo).get(doc.id)
    if as_json:
        print_json({**_summary(store, doc), "helpfulness": _helpfulness_json(helpful), "body": doc.body})
        return
    meta = doc.meta
    console.print(markup("[bold]{}[/bold]  ({}, {}, {})", meta.title, meta.id, meta.type.value, meta.status.value))
    console.print(f"path: {_rel(store, doc)}  created {meta.created}  updated {meta.updated}")
    if helpful is None or not helpful.tasks:
        console.print("helpfulness: no outcomes yet (never injected into a task with an outcome)")
    else:
        console.print(f"helpfulness: {helpful.mean:.2f} ± {helpful.sd:.2f} from {helpful.tasks} task(s) "
                      f"({helpful.successes:g} credit, {helpful.failures:g} debit)")
    if meta.origin:
        console.print(f"origin: {meta.origin}")
    from flowloop.pilr.staleness import cached_flags  # the last `flow pilr lint`/`review` check

    stale = cached_flags(store.repo).get(doc.id)
    for message in stale.messages() if stale is not None else []:
        console.print(f"{message}")
    for name in ("task", "superseded_by"):
        if getattr(meta, name):
            console.print(f"{name}: {getattr(meta, name)}")
    for name in ("tags", "supersedes", "derived_from", "sources"):
        if getattr(meta, name):
            console.print(f"{name}: {', '.join(getattr(meta, name))}")
    from rich.markdown import Markdown  # ~0.1 s to import: only `show` pays it

    console.print(Markdown(doc.body))


@pilr_app.command("lint")
def lint_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    staleness: bool = typer.Option(True, "--staleness/--no-staleness", help="Compare documents with the code's git history."),
) -> None:
    """Check every document; exit 1 when there are errors (warnings alone exit 0)."""
    store = _store(ctx)
    report = lint(store, staleness=staleness)
    if as_json:
        print_json(
            {
                "documents": len(report.documents),
                "errors": [_problem_json(e) for e in report.errors],
                "warnings": [_problem_json(e) for e in report.warnings],
            }
        )
    else:
        for problem in report.errors:
            err_console.print(markup("[red]error:[/red] {}", problem.render()), highlight=False)
        for problem in report.warnings:
            err_console.print(markup("[yellow]warning:[/yellow] {}", problem.render()), highlight=False)
        console.print(
            f"{len(report.documents)} document(s) checked: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        )
    if report.errors:
        raise typer.Exit(1)


def _problem_json(problem: object) -> dict[str, object]:
    return {
        "path": str(problem.path) if problem.path else None,  # type: ignore[attr-defined]
        "line": problem.line,  # type: ignore[attr-defined]
        "field": problem.field,  # type: ignore[attr-defined]
        "message": problem.message,  # type: ignore[attr-defined]
        "hint": problem.hint,  # type: ignore[attr-defined]
    }


def _report_move(store: PilrStore, result: lifecycle.MoveResult, verb: str) -> None:
    action = "created" if result.created else "updated"
    console.print(f"{action} {result.target.id} ({_rel(store, result.target)})")
    if result.source is not None:
        console.print(f"{verb} {result.source.id} (status: {result.source.status.value})")


@pilr_app.command("archive")
def archive_command(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID"),
    into: PilrType = typer.Option(PilrType.EVERGREEN, help="Where the durable decision goes (evergreen)."),
    title: Optional[str] = typer.Option(None, help="Title of the new evergreen document."),
    target: Optional[str] = typer.Option(None, help="Append to this existing evergreen document instead."),
    allow_shorter: bool = typer.Option(False, "--allow-shorter", help="Confirm a move that keeps much less text than it replaces."),
) -> None:
    """Type 1 -> Type 2: keep a task's durable decision as evergreen; archive the task document."""
    store = _store(ctx)
    result = lifecycle.archive(store, doc_id, into=into, title=title, target_id=target, allow_shorter=allow_shorter)
    _report_move(store, result, "archived")


@pilr_app.command("extract")
def extract_command(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID"),
    title: Optional[str] = typer.Option(None, help="Title of the new cumulative entry."),
    target: Optional[str] = typer.Option(None, help="Append to this existing cumulative entry instead."),
    keep_active: bool = typer.Option(False, help="Leave the task document active."),
    allow_shorter: bool = typer.Option(False, "--allow-shorter", help="Confirm a move that keeps much less text than it replaces."),
) -> None:
    """Type 1 -> Type 3: record a solved problem or pattern from a task as cumulative knowledge."""
    store = _store(ctx)
    result = lifecycle.extract(store, doc_id, title=title, target_id=target, keep_active=keep_active,
                               allow_shorter=allow_shorter)
    _report_move(store, result, "archived" if not keep_active else "kept")


@pilr_app.command("promote")
def promote_command(
    ctx: typer.Context,
    doc_ids: list[str] = typer.Argument(..., metavar="ID...", help="One cumulative entry or a recurring cluster."),
    title: Optional[str] = typer.Option(None, help="Title of the new evergreen document."),
    target: Optional[str] = typer.Option(None, help="Append to this existing evergreen document instead."),
    allow_shorter: bool = typer.Option(False, "--allow-shorter", help="Confirm a move that keeps much less text than it replaces."),
) -> None:
    """Type 3 -> Type 2: a stable pattern becomes evergreen (cumulative entries stay)."""
    store = _store(ctx)
    result = lifecycle.promote(store, doc_ids, title=title, target_id=target, allow_shorter=allow_shorter)
    _report_move(store, result, "promoted")


@pilr_app.command("supersede")
def supersede_command(
    ctx: typer.Context,
    old: str = typer.Argument(..., metavar="OLD"),
    by: str = typer.Option(..., "--by", help="The replacing document's id."),
    allow_shorter: bool = typer.Option(False, "--allow-shorter", help="Confirm a move that keeps much less text than it replaces."),
) -> None:
    """Mark OLD as superseded by NEW, linking both sides."""
    store = _store(ctx)
    result = lifecycle.supersede(store, old, by, allow_shorter=allow_shorter)
    console.print(f"{old} is superseded by {by} (both documents linked)")
    del result


@pilr_app.command("delete")
def delete_command(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a document. Evergreen documents need a replacement (supersede) first."""
    store = _store(ctx)
    doc = lifecycle.check_delete(store, doc_id)
    if not yes and not typer.confirm(f"Delete {doc.id} ({doc.type.value}: {doc.title})?", default=False):
        err_console.print("not deleted")
        raise typer.Exit(1)
    lifecycle.delete(store, doc_id)
    console.print(f"deleted {doc_id} ({_rel(store, doc)})")


def _size(change: object) -> str:
    return change.render() if change is not None else ""  # type: ignore[attr-defined]


def _size_json(change: object) -> object:
    return change.to_dict() if change is not None else None  # type: ignore[attr-defined]


@pilr_app.command("review")
def review_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    staleness: bool = typer.Option(True, "--staleness/--no-staleness", help="Compare documents with the code's git history."),
) -> None:
    """What waits for a human: upward moves (with their size change), proposed documents,
    possibly misleading and possibly stale ones."""
    store = _store(ctx)
    queue = review_queue(store, staleness=staleness)
    if as_json:
        print_json(
            {
                "to_archive": [
                    {**_summary(store, item.document), "evidence": item.evidence, "size_change": _size_json(item.size_change)}
                    for item in queue.to_archive
                ],
                "to_promote": [
                    {
                        "ids": [d.id for d in c.documents],
                        "titles": [d.title for d in c.documents],
                        "similarity": round(c.similarity, 3),
                        "terms": c.terms,
                        "size_change": _size_json(c.size_change),
                    }
                    for c in queue.to_promote
                ],
                "proposed": [{**_summary(store, d), "findings": [f.to_dict() for f in fs]} for d, fs in queue.proposed],
                "possibly_misleading": [{**_summary(store, d), "helpfulness": h.to_dict()} for d, h in queue.misleading],
                "possibly_stale": [{**_summary(store, d), "messages": st.messages(), "commits": st.commits,
                                    "missing_symbols": st.missing} for d, st in queue.stale],
            }
        )
        return
    if not len(queue):
        console.print("review queue is empty: nothing waiting to flow upward")
        return
    if queue.to_archive:
        table = Table(Column("id", overflow="fold"), "task", "title", "finished (evidence)", "size change (archive)",
                      title="Finished tasks to archive or extract")
        for item in queue.to_archive:
            table.add_row(item.document.id, item.document.meta.task or "", item.document.title, item.evidence,
                          _size(item.size_change))
        console.print(table)
        console.print("  next: flow pilr archive ID --into evergreen   or   flow pilr extract ID")
    for cluster in queue.to_promote:
        table = Table(Column("id", overflow="fold"), "title",
                      title=f"Recurring pattern ({len(cluster.documents)} entries, similarity {cluster.similarity:.2f}, "
                            f"size change {_size(cluster.size_change)})")
        for doc in cluster.documents:
            table.add_row(doc.id, doc.title)
        console.print(table)
        console.print(f"  next: flow pilr promote {' '.join(d.id for d in cluster.documents)}")
    if queue.proposed:
        table = Table(Column("id", overflow="fold"), "origin", "title", "screen findings", title="Proposed (quarantined)")
        for doc, findings in queue.proposed:
            table.add_row(doc.id, doc.meta.origin or "", doc.title, "\n".join(f.render() for f in findings) or "none")
        console.print(table)
        console.print("  next: flow pilr show ID, then flow pilr accept ID   or   flow pilr reject ID")
    if queue.misleading:
        table = Table(Column("id", overflow="fold"), "title", "helpfulness", "failed tasks",
                      title="review: possibly misleading (injected into repeatedly failing work)")
        for doc, h in queue.misleading:
            table.add_row(doc.id, doc.title, f"{h.mean:.2f} from {h.tasks} task(s)", ", ".join(h.failed_tasks))
        console.print(table)
    if queue.stale:
        table = Table(Column("id", overflow="fold"), "title", "why", title="Possibly stale against the code")
        for doc, st in queue.stale:
            table.add_row(doc.id, doc.title, "\n".join(st.messages()))
        console.print(table)


@pilr_app.command("propose")
def propose_command(
    ctx: typer.Context,
    type_: PilrType = typer.Option(..., "--type", help="ephemeral | evergreen | cumulative"),
    title: str = typer.Option(..., help="Document title."),
    body_file: str = typer.Option(..., "--body", help="File with the markdown body ('-' reads stdin)."),
    origin: str = typer.Option("agent", help=f"Where it comes from: {', '.join(quarantine.ORIGINS)}."),
    tags: str = typer.Option("", help="Comma-separated tags."),
    task: Optional[str] = typer.Option(None, help="Task id."),
) -> None:
    """Write an agent-drafted document into quarantine (status: proposed), screened on arrival."""
    import sys
    from pathlib import Path

    from flowloop.errors import DocumentError

    store = _store(ctx)
    try:
        body = sys.stdin.read() if body_file == "-" else Path(body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"cannot read the body: {exc}", path=body_file, field="body") from exc
    proposal = quarantine.propose(store, type_, title, body, origin, tags=tags.split(","), task=task)
    for finding in proposal.findings:
        err_console.print(markup("[yellow]flagged:[/yellow] {}", finding.render()), highlight=False)
    typer.echo(_rel(store, proposal.document))


@pilr_app.command("accept")
def accept_command(ctx: typer.Context, doc_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Accept a proposed document: it becomes active (indexed, injected, trained on)."""
    store = _store(ctx)
    doc = quarantine.accept(store, doc_id)
    console.print(f"accepted {doc.id} (status: {doc.status.value}); run `flow index` to serve it")


@pilr_app.command("reject")
def reject_command(ctx: typer.Context, doc_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Reject a proposed document: it is deleted."""
    store = _store(ctx)
    doc = quarantine.reject(store, doc_id)
    console.print(f"rejected {doc.id} (deleted {_rel(store, doc)})")


def register(app: typer.Typer) -> None:
    app.add_typer(pilr_app, name="pilr")
