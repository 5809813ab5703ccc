"""Staleness against the code: has what a document describes changed since it was last updated?

GitHub's Copilot Memory re-checks a memory's code citations before using it; here the citations
are a document's ``sources`` (files), paths it names in backticks, and code symbols it names in
backticks (``Money.from_minor``, ``apply_tax()``, ``TenantScope``) where they resolve. A document
is *possibly stale* when commits since its ``updated`` date touched those files (the file a
symbol is defined in counts as one), and more strongly so when a symbol that existed at its
``updated`` date no longer exists anywhere in the repository.

Checked incrementally: the result of each document is kept in ``.flow/state/pilr/staleness.json``
with the HEAD it was computed at; the next check re-examines only documents that changed, whose
watched files changed in the commits since, or (for a vanished symbol) any commit since. A
history rewrite (the old HEAD no longer an ancestor) checks everything again. All git goes
through ``flowloop.git``; a folder without git history has nothing to compare and no flags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.errors import GitError
from flowloop.git import head_commit, is_ancestor, is_toplevel, run_git
from flowloop.pilr.model import Pilr, PilrStatus
from flowloop.repo import FlowRepo

CACHE_VERSION = 1
_BACKTICK = re.compile(r"(?<!`)`([^`\n]{3,120})`(?!`)")
_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\(\))?")
_EXCLUDE = (":(exclude).flow", ":(exclude)*.md", ":(exclude)*.rst", ":(exclude)*.txt")
MAX_SYMBOLS = 40


@dataclass
class Staleness:
    """One document's standing against the code since its ``updated`` date."""

    doc_id: str
    since: str  # the document's updated date, ISO
    commits: int = 0
    files: dict[str, int] = field(default_factory=dict)  # watched file -> commits touching it since
    missing: list[str] = field(default_factory=list)  # symbols that existed then and exist nowhere now

    @property
    def stale(self) -> bool:
        return bool(self.commits or self.missing)

    def messages(self) -> list[str]:
        out = [f"possibly stale: {path} changed in {n} commit{'s' if n != 1 else ''} since {self.since}"
               for path, n in sorted(self.files.items(), key=lambda item: (-item[1], item[0]))]
        out += [f"likely stale: `{name}` no longer exists anywhere in the repository (it did on {self.since})"
                for name in self.missing]
        return out

    def note(self) -> str:
        """One short line for a context pack header."""
        if self.missing:
            return f"likely stale: {', '.join(self.missing[:3])} no longer in the code"
        return f"possibly stale: sources changed in {self.commits} commit(s) since {self.since}"


@dataclass
class StalenessReport:
    results: dict[str, Staleness] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)  # ids re-examined in this run (the rest from cache)

    def stale(self) -> dict[str, Staleness]:
        return {doc_id: s for doc_id, s in self.results.items() if s.stale}


def cache_path(repo: FlowRepo) -> Path:
    return repo.state_path("pilr", "staleness.json")


def _candidates(doc: Pilr) -> tuple[list[str], list[str]]:
    """Backticked paths and backticked code symbols of a document, in order, unique."""
    paths: list[str] = []
    symbols: list[str] = []
    for match in _BACKTICK.finditer(doc.body):
        token = match.group(1).strip()
        if "/" in token and " " not in token and not token.startswith(("http:", "https:")):
            paths.append(token.strip("/"))
        elif _SYMBOL.fullmatch(token):
            name = token.removesuffix("()")
            # Plain words ("status", "active") are prose; a code symbol has a mark of code.
            if len(name) >= 4 and ("_" in name or "." in name or token.endswith("()") or re.search(r"[a-z][A-Z]", name)):
                symbols.append(name)
    return list(dict.fromkeys(paths)), list(dict.fromkeys(symbols))[:MAX_SYMBOLS]


def _key(doc: Pilr) -> str:
    paths, symbols = _candidates(doc)
    raw = json.dumps([doc.meta.updated.isoformat(), doc.meta.sources, paths, symbols])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _grep(root: Path, pattern: str, revision: str | None, extended: bool = False) -> list[str]:
    args = ["grep", "-l", "-I", "-E" if extended else "-F", "-w", "-e", pattern]
    if revision:
        args.append(revision)
    try:
        out = run_git(root, *args, "--", ".", *_EXCLUDE, timeout=60)
    except GitError:  # no match exits 1
        return []
    prefix = f"{revision}:" if revision else ""
    return sorted({line.removeprefix(prefix) for line in out.splitlines() if line.strip()})


def _definitions(root: Path, name: str) -> list[str]:
    """Files that define ``name``'s last part (``def``/``class``/assignment at line start)."""
    last = re.escape(name.rsplit(".", 1)[-1])
    return _grep(root, rf"(def|class)[[:space:]]+{last}|^[[:space:]]*{last}[[:space:]]*(:[^=]*)?=", None, extended=True)[:5]


def _commit_at(root: Path, day: dt.date) -> str | None:
    end = (day + dt.timedelta(days=1)).isoformat()
    try:
        sha = run_git(root, "rev-list", "-1", f"--before={end}T00:00:00", "HEAD", timeout=60).strip()
    except GitError:
        return None
    return sha or None


def _commits_since(root: Path, day: dt.date, path: str) -> int:
    after = (day + dt.timedelta(days=1)).isoformat()
    try:
        out = run_git(root, "rev-list", "--count", f"--since={after}T00:00:00", "HEAD", "--", path, timeout=60)
    except GitError:
        return 0
    return int(out.strip() or 0)


def check_document(root: Path, doc: Pilr) -> tuple[Staleness, list[str]]:
    """A document's staleness and the files it watches (for the incremental check)."""
    day = doc.meta.updated
    paths, symbols = _candidates(doc)
    watched = list(dict.fromkeys([*doc.meta.sources, *(p for p in paths if (root / p).exists())]))
    missing: list[str] = []
    then: str | None = None
    for name in symbols:
        now = _grep(root, name.rsplit(".", 1)[-1], None)
        if now:
            watched.extend(f for f in _definitions(root, name) if f not in watched)
            continue
        then = then or _commit_at(root, day)
        if then and _grep(root, name.rsplit(".", 1)[-1], then):
            missing.append(name)  # it resolved when the document was written: the code moved on
    result = Staleness(doc_id=doc.id, since=day.isoformat(), missing=missing)
    for path in watched:
        n = _commits_since(root, day, path)
        if n:
            result.files[path] = n
    if result.files:
        after = (day + dt.timedelta(days=1)).isoformat()
        try:
            result.commits = int(run_git(root, "rev-list", "--count", f"--since={after}T00:00:00", "HEAD", "--",
                                         *result.files, timeout=60).strip() or 0)
        except GitError:
            result.commits = max(result.files.values())
    return result, watched


def _load_cache(repo: FlowRepo) -> dict:
    try:  # read without state_path: reading must not create folders
        data = json.loads((repo.state_dir / "pilr" / "staleness.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else {}


def _changed_files(root: Path, old: str | None, new: str) -> set[str] | None:
    """Files changed between two commits; None when everything must be checked again."""
    if not old or not is_ancestor(root, old, new):
        return None
    if old == new:
        return set()
    try:
        return {line for line in run_git(root, "diff", "--name-only", old, new, timeout=60).splitlines() if line}
    except GitError:
        return None


def check(repo: FlowRepo, documents: list[Pilr]) -> StalenessReport:
    """Staleness of every active document, re-examining only what may have changed."""
    root = repo.root
    report = StalenessReport()
    if not is_toplevel(root):
        return report
    head = head_commit(root)
    if head is None:
        return report
    cache = _load_cache(repo)
    changed = _changed_files(root, cache.get("head"), head)
    entries: dict[str, dict] = cache.get("docs", {}) if changed is not None else {}
    fresh: dict[str, dict] = {}
    for doc in documents:
        if doc.status is not PilrStatus.ACTIVE:
            continue
        entry, key = entries.get(doc.id), _key(doc)
        reuse = (entry is not None and entry.get("key") == key and changed is not None
                 and not (set(entry.get("watched", [])) & changed)
                 and not (changed and entry["result"].get("missing")))
        if reuse:
            result = Staleness(**entry["result"])
        else:
            result, watched = check_document(root, doc)
            entry = {"key": key, "watched": watched}
            report.checked.append(doc.id)
        fresh[doc.id] = {**entry, "result": asdict(result)}
        report.results[doc.id] = result
    atomic_write_text(cache_path(repo), json.dumps({"version": CACHE_VERSION, "head": head, "docs": fresh}, indent=1))
    return report


def cached_flags(repo: FlowRepo) -> dict[str, Staleness]:
    """The stale documents of the last check, without running git (for context packs)."""
    out = {}
    for doc_id, entry in _load_cache(repo).get("docs", {}).items():
        try:
            result = Staleness(**entry["result"])
        except (TypeError, KeyError):
            continue
        if result.stale:
            out[doc_id] = result
    return out
