"""``flow pilr lint``: every problem of the document store, each with ``path:line``, field and fix.

Errors make the store unusable for lifecycle moves (a broken ``supersedes`` link, a type that
disagrees with its folder, a duplicate id, malformed front matter). Warnings are worth a look
but do not block: a ``sources`` path that no longer exists marks the document as possibly
stale, a ``derived_from`` naming a deleted document has lost its provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowloop.errors import DocumentError
from flowloop.pilr.model import Pilr, PilrStatus, PilrType
from flowloop.pilr.parse import field_line
from flowloop.pilr.store import PilrStore, ScanResult


@dataclass
class LintReport:
    documents: list[Pilr] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    warnings: list[DocumentError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_for(self, doc: Pilr) -> list[DocumentError]:
        return [e for e in self.errors if e.path == doc.path]


def _problem(doc: Pilr, field_name: str, message: str, hint: str) -> DocumentError:
    return DocumentError(message, path=doc.path, line=field_line(doc.path, field_name), field=field_name, hint=hint)


def _link_problems(doc: Pilr, by_id: dict[str, Pilr]) -> list[DocumentError]:
    meta, found = doc.meta, []
    for old in meta.supersedes:
        target = by_id.get(old)
        if target is None:
            found.append(_problem(doc, "supersedes", f"names {old!r}, which does not exist", "fix the id or remove it"))
        elif target.meta.superseded_by != meta.id:
            found.append(
                _problem(
                    doc,
                    "supersedes",
                    f"names {old!r}, but that document's superseded_by is {target.meta.superseded_by!r}",
                    f"run `flow pilr supersede {old} --by {meta.id}` to link both sides",
                )
            )
    if meta.superseded_by is not None:
        target = by_id.get(meta.superseded_by)
        if target is None:
            found.append(
                _problem(doc, "superseded_by", f"names {meta.superseded_by!r}, which does not exist", "fix the id")
            )
        elif meta.id not in target.meta.supersedes:
            found.append(
                _problem(
                    doc,
                    "superseded_by",
                    f"names {meta.superseded_by!r}, which does not list {meta.id!r} in supersedes",
                    f"run `flow pilr supersede {meta.id} --by {meta.superseded_by}`",
                )
            )
        if meta.status != PilrStatus.SUPERSEDED:
            found.append(_problem(doc, "status", "has superseded_by but status is not 'superseded'", "set status: superseded"))
    elif meta.status == PilrStatus.SUPERSEDED:
        found.append(
            _problem(doc, "superseded_by", "status is 'superseded' but no replacement is named", "set superseded_by: <id>")
        )
    if meta.id in meta.supersedes or meta.superseded_by == meta.id:
        found.append(_problem(doc, "supersedes", "a document cannot supersede itself", "remove the self-reference"))
    return found


def _shape_problems(doc: Pilr) -> list[DocumentError]:
    meta, found = doc.meta, []
    folder = doc.path.parent.name
    if folder in {t.value for t in PilrType} and folder != meta.type.value:
        found.append(
            _problem(
                doc,
                "type",
                f"type is {meta.type.value!r} but the file is in pilrs/{folder}/",
                f"move it to pilrs/{meta.type.value}/ or fix the type",
            )
        )
    if meta.updated < meta.created:
        found.append(_problem(doc, "updated", f"{meta.updated} is before created {meta.created}", "fix the dates"))
    return found


def _warnings(doc: Pilr, by_id: dict[str, Pilr], store: PilrStore) -> list[DocumentError]:
    meta, found = doc.meta, []
    root = store.repo.root
    for source in meta.sources:
        if not (root / source).exists():
            found.append(
                _problem(
                    doc,
                    "sources",
                    f"possibly stale: {source!r} no longer exists in the repository",
                    "review the document and update or drop the path",
                )
            )
    for origin in meta.derived_from:
        if origin not in by_id:
            found.append(
                _problem(doc, "derived_from", f"names {origin!r}, which does not exist (provenance lost)", "fix the id")
            )
    if meta.type == PilrType.EPHEMERAL and not meta.task:
        found.append(_problem(doc, "task", "an ephemeral document has no task", "add 'task: <task id>'"))
    return found


def _stale_warnings(store: PilrStore, documents: list[Pilr]) -> list[DocumentError]:
    from flowloop.pilr.staleness import check

    found = []
    by_id = {doc.id: doc for doc in documents}
    for doc_id, result in check(store.repo, documents).stale().items():
        doc = by_id[doc_id]
        for message in result.messages():
            found.append(_problem(doc, "updated", message,
                                  "check the document against the code, then update it (and its updated date)"))
    return found


def lint(store: PilrStore, scan: ScanResult | None = None, staleness: bool = False) -> LintReport:
    """Check every document: parse problems, duplicate ids, links, type/folder, stale sources.
    ``staleness`` also compares each document with the code's history (git; incremental)."""
    scan = scan or store.scan()
    report = LintReport(documents=scan.documents, errors=list(scan.errors))
    by_id = scan.by_id()
    for doc in scan.documents:
        report.errors.extend(_shape_problems(doc))
        report.errors.extend(_link_problems(doc, by_id))
        report.warnings.extend(_warnings(doc, by_id, store))
    if staleness:
        report.warnings.extend(_stale_warnings(store, scan.documents))
    report.errors.sort(key=lambda e: (str(e.path), e.line or 0))
    report.warnings.sort(key=lambda e: (str(e.path), e.line or 0))
    return report
