"""Context packs of past builds, reused while the index is unchanged.

Every build retrieves one context pack per work record (as of its planning moment), and
embedding each query dominates build time on a CPU. A pack depends only on the query, the
``as_of`` moment, the budget and the index's contents and settings, so ``flow loop`` (which
rebuilds the dataset on every run) recomputes only the packs of new tasks. The cache is keyed
by the index generation and its database file's size and modification time: any change to
the index, however it happened, invalidates every entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.pipeline.planning_context import doc_dict
from flowloop.repo import FlowRepo

CACHE_FILE = "context-cache.json"
CACHE_VERSION = 1


@dataclass
class CachedPack:
    """The parts of a ``ContextPack`` the planning context uses."""

    text: str
    documents: list[dict[str, Any]] = field(default_factory=list)


def index_state(repo: FlowRepo) -> str:
    """A fingerprint of the current index generation and the settings that shape packs."""
    from flowloop.index.store import index_dir, read_pointer

    pointer = read_pointer(repo) or {}
    database = index_dir(repo) / str(pointer.get("dir", "")) / "index.db"
    try:
        stat = database.stat()
        files = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        files = "missing"
    settings = repo.settings.index.model_dump_json()
    return hashlib.sha256(f"{json.dumps(pointer, sort_keys=True)}|{files}|{settings}".encode()).hexdigest()


class CachingRetriever:
    """Wraps a retriever: ``context_pack`` answers from the cache when it can."""

    def __init__(self, repo: FlowRepo, retriever: Any) -> None:
        self.repo = repo
        self.retriever = retriever
        self.path = repo.state_dir / "datasets" / CACHE_FILE
        self.state = index_state(repo)
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # no cache or a damaged one: only time is lost
        if isinstance(data, dict) and data.get("version") == CACHE_VERSION and data.get("index") == self.state:
            entries = data.get("entries")
            self.entries = entries if isinstance(entries, dict) else {}

    @staticmethod
    def key(query: str, budget: int | None, as_of: dt.datetime | None) -> str:
        raw = json.dumps([query, budget, as_of.isoformat() if as_of else None])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]

    def context_pack(self, query: str, budget: int | None = None, as_of: dt.datetime | None = None,
                     log: bool = False) -> CachedPack:
        key = self.key(query, budget, as_of)
        self.used.add(key)
        entry = self.entries.get(key)
        if entry is not None:
            self.hits += 1
            return CachedPack(text=entry["text"], documents=list(entry["documents"]))
        self.misses += 1
        pack = self.retriever.context_pack(query, budget=budget, as_of=as_of, log=log)
        cached = CachedPack(text=pack.text, documents=[doc_dict(d) for d in pack.documents])
        self.entries[key] = {"text": cached.text, "documents": cached.documents}
        return cached

    def save(self) -> None:
        """Write the entries this build used (so the file never grows past one build)."""
        entries = {k: v for k, v in self.entries.items() if k in self.used}
        payload = {"version": CACHE_VERSION, "index": self.state, "entries": entries}
        atomic_write_text(self.path, json.dumps(payload, sort_keys=True) + "\n")

