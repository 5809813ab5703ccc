"""The documents and their history as of a moment: what retrieval pairs may be mined from.

Two readings of the repository, both bounded by a cut (``as_of``):

- :func:`corpus_as_of`: every documentation file (``[[sources]]``) and PILR as it was at the
  last commit at or before the cut (read from git, never from the working tree, so a later edit
  cannot leak in), split into sections exactly as the index splits them. PILRs not committed
  yet count when their ``created`` date is on or before the cut. Outside git (or with no cut)
  it is the working tree.
- :func:`doc_commits`: the non-merge commits up to the cut that changed documentation, oldest
  first, from one ``git log`` restricted to the documentation paths; each with the sections it
  changed (the versions before and after it are read through one ``git cat-file`` process).

A section's text is what the embedder reads in the index (``title: heading`` then the body).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.errors import FlowError, GitError
from flowloop.git import BlobReader, run_git, stream_git
from flowloop.index.chunking import document_sections
from flowloop.index.sources import source_from_bytes
from flowloop.pilr.model import Pilr
from flowloop.pilr.parse import decode, parse_text
from flowloop.repo import FLOW_DIR, FlowRepo

PILR_PREFIX = f"{FLOW_DIR}/pilrs/"
_RS, _FS = "\x1e", "\x1f"


@dataclass(frozen=True)
class Section:
    """One retrievable section of one document; ``doc`` is the index's document id."""

    doc: str
    path: str
    title: str
    heading: str
    body: str
    doc_type: str

    def text(self, limit: int = 1500) -> str:
        head = f"{self.title}: {self.heading}" if self.heading else self.title
        full = f"{head}\n{self.body}"
        return full if len(full) <= limit else full[:limit].rstrip()


@dataclass
class Corpus:
    """The documents as of a moment: sections, PILRs, and the commit they were read at."""

    sections: list[Section]
    pilrs: list[Pilr]
    commit: str | None
    files: dict[str, str] = field(default_factory=dict)  # code path -> text, read on demand


@dataclass(frozen=True)
class DocChange:
    """What one commit did to one document: the sections it added or changed."""

    doc: str
    path: str
    sections: list[Section]


@dataclass(frozen=True)
class DocCommit:
    sha: str
    parent: str | None
    time: dt.datetime  # committer time: when the commit existed
    author_time: dt.datetime
    subject: str
    message: str
    docs: list[str]  # changed documentation paths
    code: list[str]  # other changed paths


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A ``[[sources]]`` glob (``docs/**/*.md``) as a regex over repository paths."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


class DocMatcher:
    """Which repository paths are documentation, and of which type."""

    def __init__(self, repo: FlowRepo) -> None:
        self.globs = [(glob_regex(s.glob), s.type, s.glob) for s in repo.settings.sources]

    def type_of(self, path: str) -> str | None:
        if path.startswith(PILR_PREFIX):
            return "pilr" if path.endswith(".md") else None
        for regex, doc_type, _ in self.globs:
            if regex.match(path):
                return doc_type
        return None

    def pathspecs(self) -> list[str]:
        return [f":(glob){glob}" for _, _, glob in self.globs] + [PILR_PREFIX]


def in_git(repo: FlowRepo) -> bool:
    try:
        return run_git(repo.root, "rev-parse", "--is-inside-work-tree").strip() == "true" and \
            bool(run_git(repo.root, "rev-parse", "--verify", "-q", "HEAD^{commit}").strip())
    except GitError:
        return False


def commit_at(repo: FlowRepo, as_of: dt.datetime) -> str | None:
    """The last commit on HEAD's history at or before ``as_of`` (committer time)."""
    out = run_git(repo.root, "rev-list", "-1", f"--before=@{int(as_of.timestamp())}", "HEAD").strip()
    return out or None


def _sections_of(doc: str, path: str, title: str, body: str, fmt: str, doc_type: str) -> list[Section]:
    return [Section(doc, path, title, heading, text.strip(), doc_type)
            for heading, text in document_sections(title, body, fmt)]


def parse_doc(path: str, raw: bytes, doc_type: str, max_bytes: int) -> tuple[list[Section], Pilr | None]:
    """A document's sections (and its PILR when it is one) from its bytes at some commit.

    A file that no longer reads (too big, not UTF-8, broken front matter) at that commit yields
    nothing: history may hold versions the current checks refuse, and they are not worth a stop."""
    try:
        if doc_type == "pilr":
            pilr = parse_text(Path(path), decode(Path(path), raw, max_bytes))
            meta = pilr.meta
            return _sections_of(meta.id, path, meta.title, pilr.body, "md", meta.type.value), pilr
        doc = source_from_bytes(path, raw, doc_type, max_bytes)
        return _sections_of(doc.id, path, doc.title, doc.body, doc.fmt, doc_type), None
    except FlowError:
        return [], None


def _tree_files(repo: FlowRepo, commit: str) -> list[str]:
    out = run_git(repo.root, "-c", "core.quotePath=false", "ls-tree", "-r", "--name-only", "-z", commit)
    return [name for name in out.split("\0") if name]


def corpus_as_of(repo: FlowRepo, as_of: dt.datetime | None) -> Corpus:
    """The documents at the cut (see the module docstring)."""
    max_bytes = repo.settings.pilr.max_file_bytes
    matcher = DocMatcher(repo)
    sections: list[Section] = []
    pilrs: list[Pilr] = []
    commit = commit_at(repo, as_of) if as_of is not None and in_git(repo) else None
    seen: set[str] = set()
    if commit is not None:
        with BlobReader(repo.root) as blobs:
            for path in _tree_files(repo, commit):
                doc_type = matcher.type_of(path)
                raw = blobs.read(commit, path) if doc_type else None
                if raw is None or doc_type is None:
                    continue
                found, pilr = parse_doc(path, raw, doc_type, max_bytes)
                sections += found
                seen.add(path)
                if pilr is not None:
                    pilrs.append(pilr)
    # The working tree: everything when there is no cut (or no git); with a cut in git, only
    # the PILRs git does not know yet, when created on or before the cut (the index's rule).
    git_cut = as_of is not None and in_git(repo)
    tracked = _tracked(repo) if git_cut else set()
    for path in _working_docs(repo, matcher):
        rel = path.relative_to(repo.root).as_posix()
        doc_type = matcher.type_of(rel)
        if rel in seen or doc_type is None or (git_cut and (doc_type != "pilr" or rel in tracked)):
            continue
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        found, pilr = parse_doc(rel, raw, doc_type, max_bytes)
        if pilr is not None and as_of is not None and pilr.meta.created > as_of.date():
            continue
        sections += found
        if pilr is not None:
            pilrs.append(pilr)
    sections.sort(key=lambda s: (s.path, s.doc))
    return Corpus(sections=sections, pilrs=pilrs, commit=commit)


def _tracked(repo: FlowRepo) -> set[str]:
    try:
        out = run_git(repo.root, "-c", "core.quotePath=false", "ls-files", "-z")
    except GitError:
        return set()
    return {name for name in out.split("\0") if name}


def _working_docs(repo: FlowRepo, matcher: DocMatcher) -> list[Path]:
    found = set(repo.pilrs_dir.rglob("*.md")) if repo.pilrs_dir.is_dir() else set()
    flow_dir = repo.flow_dir.resolve()
    for _, _, glob in matcher.globs:
        for path in repo.root.glob(glob):
            if path.is_file() and flow_dir not in path.resolve().parents:
                found.add(path)
    return sorted(found)


def doc_commits(repo: FlowRepo, until: dt.datetime | None, limit: int, since: dt.datetime | None = None) -> list[DocCommit]:
    """Non-merge commits in ``(since, until]`` that changed documentation, oldest first; the newest
    ``limit`` of them. Each lists every path it changed (docs and code)."""
    if not in_git(repo):
        return []
    matcher = DocMatcher(repo)
    args = ["-c", "core.quotePath=false", "log", "--no-renames", "--name-only", "-z",
            "--format=%x1e%H%x1f%P%x1f%ct%x1f%at%x1f%B%x1f"]
    shas = _doc_shas(repo, matcher, until, since, limit)
    if not shas:
        return []
    commits = []
    buffer = ""
    for chunk in stream_git(repo.root, *args, "--no-walk=unsorted", *shas, "--"):
        records = (buffer + chunk).split(_RS)
        buffer = records.pop()
        commits += [c for c in map(lambda r: _parse(r, matcher), records) if c is not None]
    last = _parse(buffer, matcher)
    if last is not None:
        commits.append(last)
    bounded = [c for c in commits if (until is None or max(c.time, c.author_time) <= until) and c.docs]
    return sorted(bounded, key=lambda c: (c.time, c.sha))


def _doc_shas(repo: FlowRepo, matcher: DocMatcher, until: dt.datetime | None, since: dt.datetime | None,
              limit: int) -> list[str]:
    """The commits touching documentation (one ``rev-list`` restricted to its paths)."""
    args = ["rev-list", "--no-merges", f"--max-count={limit}"]
    if until is not None:
        args.append(f"--until=@{int(until.timestamp())}")
    if since is not None:
        args.append(f"--since=@{int(since.timestamp()) + 1}")
    out = run_git(repo.root, *args, "HEAD", "--", *matcher.pathspecs())
    return out.split()


def _parse(record: str, matcher: DocMatcher) -> DocCommit | None:
    if not record.strip():
        return None
    fields = record.split(_FS)
    if len(fields) < 6:
        return None
    sha, parents, ctime, atime = fields[0].strip(), fields[1].split(), fields[2], fields[3]
    message = _FS.join(fields[4:-1]).strip()
    files = [name.strip("\n") for name in fields[-1].split("\0") if name.strip("\n")]
    docs = [f for f in files if matcher.type_of(f)]
    return DocCommit(
        sha=sha, parent=parents[0] if parents else None,
        time=dt.datetime.fromtimestamp(int(ctime), tz=dt.timezone.utc),
        author_time=dt.datetime.fromtimestamp(int(atime), tz=dt.timezone.utc),
        subject=message.split("\n", 1)[0].strip(), message=message, docs=docs,
        code=[f for f in files if f not in docs and not f.startswith(f"{FLOW_DIR}/")],
    )


def changed_sections(repo: FlowRepo, commits: list[DocCommit], per_doc: int) -> Iterator[tuple[DocCommit, list[DocChange]]]:
    """For each commit, the sections of each document it added or changed (as of that commit)."""
    matcher = DocMatcher(repo)
    max_bytes = repo.settings.pilr.max_file_bytes
    with BlobReader(repo.root) as blobs:
        for commit in commits:
            changes = []
            for path in commit.docs:
                doc_type = matcher.type_of(path)
                new_raw = blobs.read(commit.sha, path)
                if new_raw is None or doc_type is None:
                    continue  # deleted by this commit
                new, _ = parse_doc(path, new_raw, doc_type, max_bytes)
                old_raw = blobs.read(commit.parent, path) if commit.parent else None
                old, _ = parse_doc(path, old_raw, doc_type, max_bytes) if old_raw is not None else ([], None)
                before = {(s.heading, s.body) for s in old}
                touched = [s for s in new if (s.heading, s.body) not in before]
                if touched:
                    changes.append(DocChange(touched[0].doc, path, touched[:per_doc]))
            yield commit, changes


def read_file_at(repo: FlowRepo, commit: str | None, path: str) -> str | None:
    """A file's text at ``commit`` (the working tree when None); None when absent or binary."""
    if commit is None:
        try:
            raw = (repo.root / path).read_bytes()
        except OSError:
            return None
    else:
        with BlobReader(repo.root) as blobs:
            raw = blobs.read(commit, path)
        if raw is None:
            return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
