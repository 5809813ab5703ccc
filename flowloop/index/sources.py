"""What gets indexed: every PILR, plus the repository's own docs named in ``[[sources]]``.

Sources are indexed in place (never copied): the id of such a document is its path relative to
the repository root, its type comes from the config entry that matched it, its title from its
first heading (or the file name), and its dates from git: created when the first commit added
the file, updated when the last one changed it (one ``git log`` for all of them). A file not
committed yet is dated by its modification time, so a past ``as_of`` never sees it; outside git
sources have no dates and count as always known. Everything is read strictly: a glob that matches nothing, an
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
    created: dt.date | dt.datetime | None = None  # PILRs: a date; sources: a moment (see as_of)
    updated: dt.date | dt.datetime | None = None
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
        if pilr.meta.status.value == "proposed":
            continue  # quarantined: never injected nor served until `flow pilr accept`
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
                updated=meta.updated,
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


def check_glob(repo: FlowRepo, glob: str, position: int | None = None) -> None:
    """A source glob must stay inside the repository."""
    if not glob.strip() or Path(glob).is_absolute() or ".." in Path(glob).parts:
        raise IndexError_(
            f"source glob {glob!r} must be relative to the repository root",
            path=repo.config_path,
            field=f"sources[{position}].glob" if position is not None else "glob",
            hint="write it like 'docs/**/*.md'",
        )


def match_source(repo: FlowRepo, glob: str) -> list[Path]:
    """The files a source glob names, sorted; PILRs (under ``.flow/``) are not sources."""
    flow_dir = repo.flow_dir.resolve()
    # Anything but a folder is read, so a dangling link is reported instead of skipped.
    found = []
    for path in sorted(p for p in repo.root.glob(glob) if not p.is_dir()):
        resolved = path.resolve() if path.exists() else path.absolute()
        if flow_dir not in resolved.parents:
            found.append(path)
    return found


def git_dates(root: Path, paths: list[str]) -> dict[str, tuple[dt.datetime, dt.datetime]] | None:
    """``{path: (first commit that added it, last commit that changed it)}`` (committer times,
    UTC) for the ``paths`` (relative to ``root``) git knows; None when ``root`` is not in git.

    Renames are not followed: a moved file is dated from the move, which can only hide it from
    an earlier ``as_of``, never show it early."""
    import subprocess

    if not paths:
        return {}
    # Thousands of docs would overflow the argument list: then walk every commit's names instead.
    pathspec = ["--", *paths] if sum(len(p) + 1 for p in paths) < 100_000 else []
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", "-C", str(root), "log", "--no-renames", "--relative",
             "--name-only", "--format=%x1e%cI", *pathspec],
            capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None  # not a git work tree (or git is missing): sources stay undated
    wanted = set(paths)
    first: dict[str, dt.datetime] = {}
    last: dict[str, dt.datetime] = {}
    for record in done.stdout.split("\x1e")[1:]:  # newest commit first
        lines = record.strip("\n").split("\n")
        try:
            when = dt.datetime.fromisoformat(lines[0].strip()).astimezone(dt.timezone.utc)
        except ValueError:
            continue
        for name in lines[1:]:
            if name in wanted:
                last.setdefault(name, when)
                first[name] = when
    return {name: (first[name], last[name]) for name in first}


def _date_sources(repo: FlowRepo, docs: list[SourceDoc]) -> None:
    dates = git_dates(repo.root, [doc.path for doc in docs])
    if dates is None:
        return
    for doc in docs:
        if doc.path in dates:
            doc.created, doc.updated = dates[doc.path]
        else:  # in git but not committed yet: written now-ish, after every past task
            try:
                mtime = (repo.root / doc.path).stat().st_mtime
            except OSError:
                continue
            doc.created = doc.updated = dt.datetime.fromtimestamp(int(mtime), dt.timezone.utc)


def _source_docs(repo: FlowRepo) -> list[SourceDoc]:
    settings = repo.settings
    seen: set[Path] = set()
    docs = []
    for position, source in enumerate(settings.sources):
        check_glob(repo, source.glob, position)
        matches = match_source(repo, source.glob)
        if not matches:
            raise IndexError_(
                f"source glob {source.glob!r} matches no files",
                path=repo.config_path,
                field=f"sources[{position}].glob",
                hint="fix the pattern (relative to the repository root) or remove the [[sources]] entry",
            )
        for path in matches:
            resolved = path.resolve() if path.exists() else path.absolute()
            if resolved in seen:
                continue  # a file two globs match counts once
            seen.add(resolved)
            docs.append(read_source_file(repo, path, source.type, settings.pilr.max_file_bytes))
    _date_sources(repo, docs)
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
