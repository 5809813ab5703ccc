"""What gets indexed: every PILR, plus the repository's own docs named in ``[[sources]]``.

Sources are indexed in place (never copied): the id of such a document is its path relative to
the repository root, its type comes from the config entry that matched it, its title from its
first heading (or the file name). Everything is read strictly: a glob that matches nothing, an
unreadable, oversized or non-UTF-8 file, or a broken PILR stops the build with an error naming
the file, before anything on disk changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.errors import DocumentError, IndexError_
from flowloop.pilr.parse import decode
from flowloop.repo import FlowRepo

FORMATS = {".md": "md", ".markdown": "md", ".rst": "rst", ".txt": "txt"}


@dataclass
class SourceDoc:
    """One document to index, whatever it came from."""

    id: str
    path: str  # relative to the repository root, with forward slashes
    type: str
    title: str
    body: str
    fmt: str
    content_hash: str
    origin: str  # "pilr" or "source"
    status: str = "active"
    created: dt.date | None = None
    superseded_by: str | None = None
    supersedes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _relative(repo: FlowRepo, path: Path) -> str:
    """The path as written under the root (links are not followed: the id is where it sits)."""
    return path.absolute().relative_to(repo.root.absolute()).as_posix()


def _pilr_docs(repo: FlowRepo) -> list[SourceDoc]:
    from flowloop.pilr.store import PilrStore

    docs = []
    for pilr in PilrStore(repo).load():  # strict: a broken PILR is an error naming its file
        raw = pilr.path.read_bytes()
        meta = pilr.meta
        docs.append(
            SourceDoc(
                id=meta.id,
                path=_relative(repo, pilr.path),
                type=meta.type.value,
                title=meta.title,
                body=pilr.body,
                fmt="md",
                content_hash=hashlib.sha256(raw).hexdigest(),
                origin="pilr",
                status=meta.status.value,
                created=meta.created,
                superseded_by=meta.superseded_by,
                supersedes=list(meta.supersedes),
                tags=list(meta.tags),
            )
        )
    return docs


def _first_title(text: str, fmt: str) -> str | None:
    if fmt == "md":
        found = re.search(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", text, flags=re.MULTILINE)
        return found.group(1).strip() if found else None
    if fmt == "rst":
        from flowloop.index.chunking import rst_sections

        for heading_path, _ in rst_sections(text):
            if heading_path:
                return heading_path[0]
    return None


def _strip_front_matter(text: str) -> str:
    """Markdown docs sometimes carry YAML front matter (Jekyll, MkDocs): not part of the text."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


def read_source_file(repo: FlowRepo, path: Path, pilr_type: str, max_bytes: int) -> SourceDoc:
    """One documentation file as a :class:`SourceDoc`; errors name the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(
            f"cannot read: {exc.strerror}", path=path, hint="fix its permissions or remove it from [[sources]]"
        ) from exc
    text = decode(path, raw, max_bytes)
    fmt = FORMATS.get(path.suffix.lower(), "txt")
    if fmt == "md":
        text = _strip_front_matter(text)
    rel = _relative(repo, path)
    return SourceDoc(
        id=rel,
        path=rel,
        type=pilr_type,
        title=_first_title(text, fmt) or path.stem.replace("-", " ").replace("_", " "),
        body=text,
        fmt=fmt,
        content_hash=hashlib.sha256(raw).hexdigest(),
        origin="source",
    )


def _source_docs(repo: FlowRepo) -> list[SourceDoc]:
    settings = repo.settings
    seen: set[Path] = set()
    docs = []
    flow_dir = repo.flow_dir.resolve()
    for position, source in enumerate(settings.sources):
        if Path(source.glob).is_absolute() or ".." in Path(source.glob).parts:
            raise IndexError_(
                f"source glob {source.glob!r} must be relative to the repository root",
                path=repo.config_path,
                field=f"sources[{position}].glob",
                hint="write it like 'docs/**/*.md'",
            )
        # Anything but a folder is read, so a dangling link is reported instead of skipped.
        matches = sorted(p for p in repo.root.glob(source.glob) if not p.is_dir())
        if not matches:
            raise IndexError_(
                f"source glob {source.glob!r} matches no files",
                path=repo.config_path,
                field=f"sources[{position}].glob",
                hint="fix the pattern (relative to the repository root) or remove the [[sources]] entry",
            )
        for path in matches:
            resolved = path.resolve() if path.exists() else path.absolute()
            if resolved in seen or flow_dir in resolved.parents:
                continue  # a file two globs match counts once; PILRs come from the store
            seen.add(resolved)
            docs.append(read_source_file(repo, path, source.type, settings.pilr.max_file_bytes))
    return docs


def collect(repo: FlowRepo) -> list[SourceDoc]:
    """Every document the index should hold, read strictly and in a stable order."""
    docs = _pilr_docs(repo) + _source_docs(repo)
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.id in seen:
            raise DocumentError(
                f"id {doc.id!r} is used twice (also by {seen[doc.id]})", path=repo.root / doc.path, field="id"
            )
        seen[doc.id] = doc.path
    return docs
