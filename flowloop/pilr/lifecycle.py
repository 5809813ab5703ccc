"""Information flows upward: the lifecycle moves between PILR types.

- ``archive`` (Type 1 -> Type 2): a task's durable decision becomes (or extends) an evergreen
  document whose ``derived_from`` names the task document; the task document is archived, never
  deleted.
- ``extract`` (Type 1 -> Type 3): a solved problem or pattern from a task becomes a cumulative
  entry.
- ``promote`` (Type 3 -> Type 2): a stable pattern (one entry or a recurring cluster) becomes
  evergreen; cumulative entries stay (Type 3 only grows).
- ``supersede``: both sides linked; ``delete`` refuses evergreen knowledge without a replacement.

Each move refuses to act on documents that lint reports as broken, and writes the new document
before changing the old one, so a crash in between loses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import ValidationError

from flowloop.errors import DocumentError, LifecycleError
from flowloop.pilr import collapse
from flowloop.pilr.lint import LintReport, lint
from flowloop.pilr.model import Pilr, PilrMeta, PilrStatus, PilrType
from flowloop.pilr.sections import find_section
from flowloop.pilr.store import PilrStore

TEMPLATES = {
    PilrType.EPHEMERAL: "## Spec\n\n\n## Plan\n\n\n## Files\n\n\n## Test plan\n\n\n## Decisions\n\n",
    PilrType.EVERGREEN: "## Context\n\n\n## Decision\n\n\n## Consequences\n\n",
    PilrType.CUMULATIVE: "## Symptoms\n\n\n## Root cause\n\n\n## What worked\n\n\n## What we tried that did not work\n\n",
}


@dataclass
class MoveResult:
    """What a lifecycle move wrote: the document created or updated, and the source after it."""

    target: Pilr
    source: Pilr | None
    created: bool


def _today() -> dt.date:
    return dt.date.today()


def _checked(store: PilrStore, *ids: str) -> tuple[dict[str, Pilr], LintReport]:
    """Load the store, refusing to act when any involved document is broken."""
    report = lint(store)
    by_id = {doc.id: doc for doc in report.documents}
    for doc_id in ids:
        if doc_id not in by_id:
            # A document that failed to parse has no id; report the store's first error instead.
            broken = next((e for e in report.errors if e.path and e.path.stem == doc_id), None)
            if broken is not None:
                raise broken
            from flowloop.errors import DocumentNotFoundError

            raise DocumentNotFoundError(f"no PILR with id {doc_id!r}", hint="list ids with `flow pilr list`")
        problems = report.errors_for(by_id[doc_id])
        if problems:
            raise problems[0]
    return by_id, report


def _require_type(doc: Pilr, *allowed: PilrType, action: str) -> None:
    if doc.type not in allowed:
        names = " or ".join(t.value for t in allowed)
        raise LifecycleError(
            f"{action} works on {names} documents; {doc.id!r} is {doc.type.value}",
            path=doc.path,
            field="type",
        )


def create_document(
    store: PilrStore,
    pilr_type: PilrType,
    title: str,
    tags: list[str] | None = None,
    task: str | None = None,
    body: str | None = None,
    derived_from: list[str] | None = None,
    sources: list[str] | None = None,
    today: dt.date | None = None,
) -> Pilr:
    """A new document with the type's section template (or ``body``)."""
    title = title.strip()
    if not title:
        raise DocumentError("a title is required", field="title", hint='pass --title "..."')
    if pilr_type == PilrType.EPHEMERAL and not task:
        raise DocumentError("an ephemeral document needs a task", field="task", hint="pass --task <task id>")
    day = today or _today()
    try:
        meta = PilrMeta(
            id=store.new_id(pilr_type, title),
            type=pilr_type,
            title=title,
            tags=[t.strip() for t in (tags or []) if t.strip()],
            created=day,
            updated=day,
            task=task,
            derived_from=derived_from or [],
            sources=sources or [],
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise DocumentError(err["msg"].removeprefix("Value error, "), field=field,
                            hint="titles, tags and task ids are single lines") from exc
    return store.create(meta, body if body is not None else TEMPLATES[pilr_type])


def _append_to(store: PilrStore, target: Pilr, heading: str, text: str, origin: str, day: dt.date) -> Pilr:
    body = target.body.rstrip() + f"\n\n## {heading}\n\n{text.strip()}\n"
    meta = target.meta.model_copy(
        update={"derived_from": [*target.meta.derived_from, origin] if origin not in target.meta.derived_from else target.meta.derived_from, "updated": day}
    )
    return store.write(Pilr(meta=meta, body=body, path=target.path))


def _mark(store: PilrStore, doc: Pilr, day: dt.date, **changes: object) -> Pilr:
    meta = doc.meta.model_copy(update={**changes, "updated": day})
    return store.write(Pilr(meta=meta, body=doc.body, path=doc.path))


def _upward(
    store: PilrStore,
    source: Pilr,
    target_type: PilrType,
    section_names: tuple[str, ...],
    heading_prefix: str,
    title: str | None,
    target_id: str | None,
    by_id: dict[str, Pilr],
    day: dt.date,
) -> tuple[Pilr, bool]:
    """Write the knowledge of ``source`` into a new or existing document of ``target_type``."""
    text = find_section(source.body, *section_names) or source.body.strip()
    if target_id is not None:
        target = by_id[target_id]
        _require_type(target, target_type, action=f"the target of moving into {target_type.value}")
        return _append_to(store, target, f"{heading_prefix}{source.title}", text, source.id, day), False
    existing = next(
        (d for d in by_id.values() if d.type == target_type and source.id in d.meta.derived_from), None
    )
    if existing is not None:  # a re-run after a crash between the two writes: nothing to add twice
        return existing, False
    body = f"{text}\n\n## Provenance\n\nDerived from `{source.id}` ({source.type.value}: {source.title}).\n"
    new = create_document(
        store,
        target_type,
        title or source.title,
        tags=source.meta.tags,
        body=body,
        derived_from=[source.id],
        sources=source.meta.sources,
        today=day,
    )
    return new, True


def archive(
    store: PilrStore,
    doc_id: str,
    into: PilrType = PilrType.EVERGREEN,
    title: str | None = None,
    target_id: str | None = None,
    today: dt.date | None = None,
    allow_shorter: bool = False,
) -> MoveResult:
    """Type 1 -> Type 2: keep the task's durable decision as evergreen; archive the task doc.
    Refused when the decision is a sliver of the note, unless ``allow_shorter`` (``collapse``)."""
    if into != PilrType.EVERGREEN:
        raise LifecycleError(
            f"archive moves task knowledge into evergreen, not {into.value}",
            field="into",
            hint="use `flow pilr extract ID` for a solved problem (cumulative)",
        )
    by_id, _ = _checked(store, doc_id, *([target_id] if target_id else []))
    source = by_id[doc_id]
    _require_type(source, PilrType.EPHEMERAL, action="archive")
    collapse.guard(collapse.upward_change([source], collapse.ARCHIVE_SECTIONS), _upward_bound(store), allow_shorter,
                   f"archiving {doc_id!r}", source.path)
    day = today or _today()
    target, created = _upward(
        store, source, PilrType.EVERGREEN, collapse.ARCHIVE_SECTIONS, "Decision from ", title, target_id, by_id, day
    )
    archived = _mark(store, source, day, status=PilrStatus.ARCHIVED)
    return MoveResult(target=target, source=archived, created=created)


def extract(
    store: PilrStore,
    doc_id: str,
    title: str | None = None,
    target_id: str | None = None,
    keep_active: bool = False,
    today: dt.date | None = None,
    allow_shorter: bool = False,
) -> MoveResult:
    """Type 1 -> Type 3: a solved problem or pattern from a task becomes cumulative knowledge."""
    by_id, _ = _checked(store, doc_id, *([target_id] if target_id else []))
    source = by_id[doc_id]
    _require_type(source, PilrType.EPHEMERAL, action="extract")
    if not keep_active:  # kept active, the note is not replaced
        collapse.guard(collapse.upward_change([source], collapse.EXTRACT_SECTIONS), _upward_bound(store),
                       allow_shorter, f"extracting {doc_id!r}", source.path)
    day = today or _today()
    target, created = _upward(
        store,
        source,
        PilrType.CUMULATIVE,
        collapse.EXTRACT_SECTIONS,
        "From ",
        title,
        target_id,
        by_id,
        day,
    )
    after = source if keep_active else _mark(store, source, day, status=PilrStatus.ARCHIVED)
    return MoveResult(target=target, source=after, created=created)


def promote(
    store: PilrStore,
    doc_ids: list[str],
    title: str | None = None,
    target_id: str | None = None,
    today: dt.date | None = None,
    allow_shorter: bool = False,
) -> MoveResult:
    """Type 3 -> Type 2: one cumulative entry, or a recurring cluster, becomes evergreen."""
    if not doc_ids:
        raise LifecycleError("name at least one cumulative document to promote")
    by_id, _ = _checked(store, *doc_ids, *([target_id] if target_id else []))
    sources = [by_id[i] for i in doc_ids]
    for source in sources:
        _require_type(source, PilrType.CUMULATIVE, action="promote")
    collapse.guard(collapse.upward_change(sources, collapse.PROMOTE_SECTIONS), _upward_bound(store), allow_shorter,
                   f"promoting {', '.join(doc_ids)}", sources[0].path)
    day = today or _today()
    if target_id is not None:
        target = by_id[target_id]
        _require_type(target, PilrType.EVERGREEN, action="the promotion target")
        for source in sources:
            text = find_section(source.body, *collapse.PROMOTE_SECTIONS) or source.body
            target = _append_to(store, target, f"Pattern: {source.title}", text, source.id, day)
        return MoveResult(target=target, source=None, created=False)
    parts = []
    for source in sources:
        text = find_section(source.body, *collapse.PROMOTE_SECTIONS) or source.body.strip()
        parts.append(f"## {source.title}\n\n{text}")
    provenance = ", ".join(f"`{s.id}`" for s in sources)
    body = "\n\n".join(parts) + f"\n\n## Provenance\n\nPromoted from cumulative entries {provenance}.\n"
    tags = sorted({t for s in sources for t in s.meta.tags})
    new = create_document(
        store,
        PilrType.EVERGREEN,
        title or (sources[0].title if len(sources) == 1 else f"Pattern: {sources[0].title}"),
        tags=tags,
        body=body,
        derived_from=[s.id for s in sources],
        sources=sorted({p for s in sources for p in s.meta.sources}),
        today=day,
    )
    return MoveResult(target=new, source=None, created=True)


def supersede(
    store: PilrStore, old_id: str, new_id: str, today: dt.date | None = None, allow_shorter: bool = False
) -> MoveResult:
    """Link ``old`` -> ``new`` on both sides; ``old`` becomes superseded. A replacement much
    shorter than the old document is refused unless ``allow_shorter`` (see ``collapse``)."""
    if old_id == new_id:
        raise LifecycleError("a document cannot supersede itself", field="by")
    by_id, _ = _checked(store, old_id, new_id)
    old, new = by_id[old_id], by_id[new_id]
    if old.meta.superseded_by and old.meta.superseded_by != new_id:
        raise LifecycleError(
            f"{old_id!r} is already superseded by {old.meta.superseded_by!r}",
            path=old.path,
            field="superseded_by",
            hint=f"supersede {old.meta.superseded_by} instead",
        )
    if new.status != PilrStatus.ACTIVE:
        raise LifecycleError(
            f"the replacement {new_id!r} is {new.status.value}; a replacement must be active", path=new.path, field="status"
        )
    if new.meta.superseded_by == old_id or old_id in _chain(by_id, new_id):
        raise LifecycleError(f"{new_id!r} already descends from {old_id!r}: that would make a cycle", field="by")
    collapse.guard(collapse.replacement_change(old, new), store.repo.settings.pilr.collapse_ratio, allow_shorter,
                   f"superseding {old_id!r} by {new_id!r}", new.path)
    day = today or _today()
    supersedes = new.meta.supersedes if old_id in new.meta.supersedes else [*new.meta.supersedes, old_id]
    new_doc = _mark(store, new, day, supersedes=supersedes)
    old_doc = _mark(store, old, day, status=PilrStatus.SUPERSEDED, superseded_by=new_id)
    return MoveResult(target=new_doc, source=old_doc, created=False)


def _upward_bound(store: PilrStore) -> float:
    return store.repo.settings.pilr.upward_collapse_ratio


def _chain(by_id: dict[str, Pilr], start: str) -> set[str]:
    """Ids ``start`` replaces, transitively (to refuse cycles)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = by_id.get(todo.pop())
        if current is None:
            continue
        for old in current.meta.supersedes:
            if old not in seen:
                seen.add(old)
                todo.append(old)
    return seen


def check_delete(store: PilrStore, doc_id: str) -> Pilr:
    """The document to delete, or a refusal: evergreen knowledge needs a replacement first."""
    by_id, _ = _checked(store, doc_id)
    doc = by_id[doc_id]
    if doc.type == PilrType.EVERGREEN and not doc.meta.superseded_by:
        raise LifecycleError(
            f"{doc_id!r} is evergreen and has no replacement; evergreen knowledge is never deleted without one",
            path=doc.path,
            field="superseded_by",
            hint=f"write the replacement, then `flow pilr supersede {doc_id} --by NEW_ID`",
        )
    return doc


def delete(store: PilrStore, doc_id: str) -> Pilr:
    """Remove a document (after ``check_delete``); links to it from ``supersedes`` are dropped."""
    doc = check_delete(store, doc_id)
    day = _today()
    for other in store.load():
        if doc_id in other.meta.supersedes:
            _mark(store, other, day, supersedes=[s for s in other.meta.supersedes if s != doc_id])
    doc.path.unlink()
    return doc
