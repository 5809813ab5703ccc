"""The index's public API (cross-team contract 2): build, search, context packs, a warm Retriever.

``build_index`` keeps ``.flow/state/index/`` in step with the files. ``search`` and
``context_pack`` answer one query each; a :class:`Retriever` answers many with the index and the
query embedder kept loaded (MCP server, warm server, evaluation, dataset building), and reopens
the index by itself when ``flow index`` writes a new generation. Every search and context call
records a ``RetrievalEvent`` unless ``log=False``; how it is written is ``usage_log``'s job.

Importing this module is cheap (numpy, SQLite and models load on first use), so the CLI and
hooks can import it freely.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from flowloop.errors import DocumentNotFoundError, QueryError
from flowloop.index.build import build_index
from flowloop.index.types import ContextPack, Hit, IndexStats, PackDocument
from flowloop.index.usage_log import MODES as LOG_MODES
from flowloop.index.usage_log import UsageLog
from flowloop.repo import PILR_TYPES, FlowRepo

if TYPE_CHECKING:
    import numpy as np

    from flowloop.index.ranking import Candidate
    from flowloop.index.store import IndexReader

__all__ = [
    "ContextPack",
    "Hit",
    "IndexStats",
    "PackDocument",
    "Retriever",
    "build_index",
    "context_pack",
    "search",
]

ACTIVE = ("active",)
EVERY_STATUS = ("active", "archived", "superseded")
SNIPPET_CHARS = 240
MODES = ("hybrid", "lexical", "dense", "rerank")
LOGGED_CANDIDATES = 20


def _check_query(text: str, max_chars: int, what: str = "query") -> str:
    text = (text or "").strip()
    if not text:
        raise QueryError(f"the {what} is empty", field=what, hint=f"give a non-empty {what}")
    if len(text) > max_chars:
        raise QueryError(
            f"the {what} is {len(text)} characters, over the {max_chars}-character limit",
            field=what,
            hint="shorten it, or raise [index] max_query_chars",
        )
    return text


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"


class Retriever:
    """Keeps the index, the query embedder and the reranker loaded for repeated queries."""

    def __init__(self, repo: FlowRepo, log_mode: str = "direct") -> None:
        """``log_mode`` says how usage events are written (see ``usage_log``): ``direct`` into
        the signals store, ``pending`` as a JSON line (the cold CLI path), ``background`` by a
        thread after the answer has gone out (servers)."""
        from flowloop.index.active import effective_embedder
        from flowloop.index.embedder import resolve_model

        if log_mode not in LOG_MODES:
            raise ValueError(f"unknown log_mode {log_mode!r}")
        self.repo = repo.require_initialized()
        self._settings: tuple[tuple[float, ...], Any] | None = None
        self._configured_dir = resolve_model(effective_embedder(self.repo), repo.root)
        self._reader: IndexReader | None = None
        self._reranker: Any = None
        self.use_priors = True  # helpfulness and staleness multipliers (``priors``); off to measure without
        self.usage = UsageLog(self.repo, log_mode)  # last: a background thread starts only for a usable index

    @property
    def settings(self) -> Any:
        """``[index]`` with the promoted fusion applied; re-read when a promotion or rollback
        rewrites one of the pointers (a few ``stat`` calls per query)."""
        from flowloop.index.active import ACTIVE, ACTIVE_RERANKER, effective_index_settings, fusion_path

        folder = fusion_path(self.repo).parent
        stamp = tuple(_mtime(folder / name) for name in (fusion_path(self.repo).name, ACTIVE, ACTIVE_RERANKER))
        if self._settings is None or self._settings[0] != stamp:
            self._settings = (stamp, effective_index_settings(self.repo))
        return self._settings[1]

    @property
    def log_mode(self) -> str:
        return self.usage.mode

    @property
    def log_errors(self) -> list[str]:
        """Usage events the background thread could not store (their messages)."""
        return self.usage.errors

    # -- loading -------------------------------------------------------------------------------
    @property
    def reader(self) -> "IndexReader":
        """The current generation; reopened when ``flow index`` has swapped in a new one."""
        from flowloop.index.store import IndexReader, read_pointer

        pointer = read_pointer(self.repo)
        if self._reader is None or pointer is None or int(pointer["generation"]) != self._reader.generation:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self._reader = IndexReader(self.repo)
        return self._reader

    @property
    def model_dir(self) -> Path:
        """The embedder that wrote the current generation's vectors (queries must match them)."""
        if self._reader is not None or read_pointer_safe(self.repo):
            recorded = self.reader.meta.get("embedder_dir")
            if recorded and Path(recorded).is_dir():
                return Path(recorded)
        return self._configured_dir

    @property
    def embedder(self) -> Any:
        from flowloop.index.embedder import query_embedder

        return query_embedder(self.model_dir)

    @property
    def counter(self) -> Any:
        from flowloop.index.tokens import counter_for

        return counter_for(self.model_dir)

    def warm_up(self) -> "Retriever":
        """Load everything now (servers call this before accepting requests)."""
        _ = self.reader, self.counter
        self.embedder.encode(["warm up"])
        self._rerank_scorer()
        return self

    def _rerank_scorer(self) -> Any:
        from flowloop.index.active import effective_reranker

        name = effective_reranker(self.repo)
        if not name:
            return None
        if self._reranker is None:
            from flowloop.index.embedder import load_reranker, resolve_model

            self._reranker = load_reranker(resolve_model(name, self.repo.root, kind="reranker"))
        return self._reranker.score

    # -- ranking -------------------------------------------------------------------------------
    def _candidates(
        self,
        reader: "IndexReader",
        query: str,
        types: Iterable[str] | None,
        statuses: Iterable[str],
        as_of: dt.datetime | dt.date | None,
        mode: str = "hybrid",
    ) -> tuple[list["Candidate"], "np.ndarray", "np.ndarray"]:
        from flowloop.index.ranking import eligible_docs, rank, rerank

        if types is not None:
            types = list(types)
            unknown = sorted(set(types) - set(PILR_TYPES))
            if unknown:
                raise QueryError(f"unknown type {unknown[0]!r}", field="type", hint=f"use one of: {', '.join(PILR_TYPES)}")
        vector = self.embedder.encode([query])[0]
        mask = eligible_docs(reader, types, statuses, as_of)
        settings = self.settings
        pool = max(settings.rerank_top, 50)
        candidates = rank(
            reader, query, vector, settings, mask, pool=pool,
            use_lexical=mode in ("hybrid", "lexical", "rerank"), use_dense=mode in ("hybrid", "dense", "rerank"),
        )
        if self.use_priors:
            from flowloop.index import priors

            candidates = priors.apply(candidates, priors.load(self.repo)[0])
        scorer = self._rerank_scorer() if mode in ("hybrid", "rerank") else None
        if scorer is not None:
            candidates = rerank(reader, query, candidates, settings.rerank_top, scorer, settings.rerank_blend, settings.rrf_k)
        return candidates, vector, mask

    def search(
        self,
        query: str,
        k: int = 10,
        types: Iterable[str] | None = None,
        *,
        include_archived: bool = False,
        as_of: dt.datetime | dt.date | None = None,
        log: bool = True,
        mode: str = "hybrid",
        session: str | None = None,
    ) -> list[Hit]:
        """The ``k`` best documents for ``query`` (one hit per document, its best chunk).

        ``mode``: ``hybrid`` (default; re-ranked when a reranker is configured), or ``lexical`` /
        ``dense`` alone (to measure each side)."""
        from flowloop.index.ranking import best_per_document

        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}", field="mode", hint=f"use one of: {', '.join(MODES)}")
        query = _check_query(query, self.settings.max_query_chars)
        if k < 1:
            raise QueryError("k must be at least 1", field="k")
        statuses = EVERY_STATUS if include_archived else ACTIVE
        reader = self.reader  # one generation for the whole call, even if `flow index` swaps mid-way
        candidates, _, _ = self._candidates(reader, query, types, statuses, as_of, mode)
        best = best_per_document(candidates)[:k]
        rows = reader.chunks([c.rowid for c in best])
        hits = []
        for c in best:
            doc, row = reader.documents[c.doc_id], rows[c.rowid]
            hits.append(
                Hit(id=doc.id, type=doc.type, path=doc.path, title=doc.title, score=round(c.score, 6),
                    snippet=_snippet(row.text), heading=row.heading, status=doc.status,
                    dense=round(c.dense, 4), lexical=round(c.lexical, 4))
            )
        if log:
            self.usage.record("search", query, [(h.id, h.score, h.path) for h in hits], [h.id for h in hits], session=session)
        return hits

    def context_pack(
        self,
        task: str,
        budget: int | None = None,
        as_of: dt.datetime | dt.date | None = None,
        log: bool = True,
        *,
        include_archived: bool = False,
        types: Iterable[str] | None = None,
        session: str | None = None,
    ) -> ContextPack:
        """The documents an agent needs for ``task`` within ``budget`` tokens (see ``pack``)."""
        from flowloop.index.pack import build_pack
        from flowloop.index.ranking import best_per_document

        task = _check_query(task, self.settings.max_query_chars, what="task")
        budget = self.settings.budget if budget is None else int(budget)
        if budget < 1:
            raise QueryError(f"budget must be a positive number of tokens, not {budget}", field="budget")
        # Superseded documents are ranked too, so that a match can point to its replacement.
        statuses = EVERY_STATUS if include_archived else ("active", "superseded")
        reader = self.reader
        candidates, vector, mask = self._candidates(reader, task, types, statuses, as_of)
        allowed = {doc_id for doc_id, ok in zip(reader.doc_ids, mask) if ok}
        future: frozenset[str] = frozenset()
        if as_of is not None:
            from flowloop.index.as_of import created_after, cutoff_key

            cutoff = cutoff_key(as_of)
            future = frozenset(d.id for d in reader.documents.values() if created_after(d.created, cutoff))
        notes: dict[str, str] = {}
        if self.use_priors:
            from flowloop.index import priors

            notes = priors.load(self.repo)[1]
        pack = build_pack(reader, task, candidates, vector, self.settings, budget, self.counter, allowed,
                          include_archived, future, notes)
        if log:
            ranked = best_per_document(candidates)[:LOGGED_CANDIDATES]
            self.usage.record(
                "context", task, [(c.doc_id, c.score, reader.documents[c.doc_id].path) for c in ranked],
                [d.id for d in pack.documents], session=session,
            )
        return pack

    # -- documents -----------------------------------------------------------------------------
    def list_documents(self, type: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Indexed documents (id, type, status, title, path, created, chunks), sorted by id."""
        if type is not None and type not in PILR_TYPES:
            raise QueryError(f"unknown type {type!r}", field="type", hint=f"use one of: {', '.join(PILR_TYPES)}")
        if status is not None and status not in EVERY_STATUS:
            raise QueryError(f"unknown status {status!r}", field="status", hint=f"use one of: {', '.join(EVERY_STATUS)}")
        docs = sorted(self.reader.documents.values(), key=lambda d: d.id)
        return [
            {"id": d.id, "type": d.type, "status": d.status, "title": d.title, "path": d.path,
             "created": d.created, "superseded_by": d.superseded_by, "chunks": d.n_chunks}
            for d in docs
            if (type is None or d.type == type) and (status is None or d.status == status)
        ]

    def get_document(self, doc_id: str) -> dict[str, Any]:
        """One document's metadata and its current text, read from the file itself."""
        doc = self.reader.documents.get(doc_id)
        if doc is None:
            raise DocumentNotFoundError(f"no indexed document with id {doc_id!r}",
                                        hint="list ids with `flow search` or the list_documents tool")
        path = self.repo.root / doc.path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            # The file moved or broke since indexing: the indexed chunks are still the knowledge.
            text = "\n\n".join(c.text for c in self.reader.chunks_of(doc_id))
        return {**{k: v for k, v in doc.to_dict().items() if k not in ("content_hash", "origin")}, "text": text}

    def close(self) -> None:
        """Write pending usage events, then release the index."""
        self.usage.close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def search(repo: FlowRepo, query: str, k: int = 10, types: Iterable[str] | None = None, **kwargs: Any) -> list[Hit]:
    """One search (see :meth:`Retriever.search`). Its usage event is written as a pending line,
    which keeps a cold call fast (see ``usage_log``)."""
    retriever = Retriever(repo, log_mode="pending")
    try:
        return retriever.search(query, k=k, types=types, **kwargs)
    finally:
        retriever.close()


def context_pack(
    repo: FlowRepo,
    task: str,
    budget: int | None = None,
    as_of: dt.datetime | dt.date | None = None,
    log: bool = True,
    **kwargs: Any,
) -> ContextPack:
    """One context pack (see :meth:`Retriever.context_pack`); usage logged as a pending line."""
    retriever = Retriever(repo, log_mode="pending")
    try:
        return retriever.context_pack(task, budget=budget, as_of=as_of, log=log, **kwargs)
    finally:
        retriever.close()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0.0


def read_pointer_safe(repo: FlowRepo) -> bool:
    """Whether an index generation exists (without raising on a missing one)."""
    from flowloop.index.store import read_pointer

    return read_pointer(repo) is not None


def index_path(repo: FlowRepo) -> Path:
    from flowloop.index.store import index_dir

    return index_dir(repo)
