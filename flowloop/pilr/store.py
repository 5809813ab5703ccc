"""The folder store: every PILR under ``.flow/pilrs/<type>/*.md``.

Loading is tolerant (``scan`` returns documents and problems side by side, for lint) or strict
(``load`` raises the first problem, for every command that acts on documents).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.errors import DocumentError, DocumentNotFoundError
from flowloop.pilr.model import ID_PREFIX, Pilr, PilrMeta, PilrType, slugify
from flowloop.pilr.parse import field_line, parse_file, render
from flowloop.repo import FlowRepo


@dataclass
class ScanResult:
    documents: list[Pilr] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)

    def by_id(self) -> dict[str, Pilr]:
        return {doc.id: doc for doc in self.documents}


class PilrStore:
    """Reads and writes the documents of one repository."""

    def __init__(self, repo: FlowRepo) -> None:
        self.repo = repo
        self.max_bytes = repo.settings.pilr.max_file_bytes

    def paths(self) -> list[Path]:
        found: list[Path] = []
        for pilr_type in PilrType:
            folder = self.repo.pilr_dir(pilr_type.value)
            if folder.is_dir():
                found.extend(sorted(folder.glob("*.md")))
        return found

    def scan(self) -> ScanResult:
        """Parse every document; collect problems instead of stopping at the first."""
        result = ScanResult()
        seen: dict[str, Path] = {}
        for path in self.paths():
            try:
                doc = parse_file(path, self.max_bytes)
            except DocumentError as exc:
                result.errors.append(exc)
                continue
            if doc.id in seen:
                result.errors.append(
                    DocumentError(
                        f"duplicate id {doc.id!r}, also used by {seen[doc.id]}",
                        path=path,
                        line=field_line(path, "id"),
                        field="id",
                        hint="give one of the two documents a new unique id",
                    )
                )
                continue
            seen[doc.id] = path
            result.documents.append(doc)
        return result

    def load(self) -> list[Pilr]:
        """All documents; raises the first problem so nothing acts on a broken store."""
        result = self.scan()
        if result.errors:
            raise result.errors[0]
        return result.documents

    def get(self, doc_id: str) -> Pilr:
        for doc in self.load():
            if doc.id == doc_id:
                return doc
        raise DocumentNotFoundError(
            f"no PILR with id {doc_id!r}", hint="list ids with `flow pilr list`"
        )

    def path_for(self, meta: PilrMeta) -> Path:
        return self.repo.pilr_dir(meta.type.value) / f"{meta.id}.md"

    def new_id(self, pilr_type: PilrType, title: str, taken: set[str] | None = None) -> str:
        taken = taken if taken is not None else {doc.id for doc in self.scan().documents}
        base = f"{ID_PREFIX[pilr_type]}-{slugify(title)}"
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def write(self, doc: Pilr) -> Pilr:
        """Write atomically to the document's own path (which follows its type)."""
        atomic_write_text(doc.path, render(doc.meta, doc.body))
        return doc

    def create(self, meta: PilrMeta, body: str) -> Pilr:
        path = self.path_for(meta)
        if path.exists():
            raise DocumentError("a document with this id already exists", path=path, field="id")
        return self.write(Pilr(meta=meta, body=body, path=path))


def today() -> dt.date:
    return dt.date.today()
