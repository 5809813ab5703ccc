"""Retrieval systems scored on held-out future queries: what the ``retrieval`` suite, the
retrieval gates and the fusion fit all measure with.

The queries are the dataset's ``eval_retrieval.jsonl``: commits after the held-out cutoff, their
subject as the query, the documents they changed as the answer (and the code files they
touched), each searched as of the moment before its commit (later documents are invisible). A
:class:`System` is one way to rank the current index's chunks: lexical and/or dense with one
embedder (a candidate's vectors are computed here, in memory, so it is scored without touching
the served index), ``[index]`` overrides (a fusion being tried), optionally re-scored by a
cross-encoder and cut at the relevance floor as a context pack is. Every query gets recall@5,
nDCG@10 and reciprocal rank at document level.

A :class:`Bench` holds one index generation and every model tried on it, each loaded or
embedded once; cross-encoder scores are memoised, so a fusion grid re-ranking the same chunks
pays for them once.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from flowloop.errors import EvaluationError
from flowloop.evaluate.stats import mean
from flowloop.repo import FlowRepo

if TYPE_CHECKING:
    import numpy as np

    from flowloop.index.ranking import Candidate

METRICS = ("recall@5", "ndcg@10", "mrr")
FILES_METRIC = "recall@10"
EVERY_STATUS = ("active", "archived", "superseded")


def query_scores(ranked: list[str], relevant: list[str]) -> dict[str, float]:
    """recall@5, nDCG@10 (binary gains) and reciprocal rank of one ranking."""
    wanted = set(relevant)
    recall = len([d for d in ranked[:5] if d in wanted]) / len(wanted) if wanted else 0.0
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in wanted)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(wanted), 10)))
    rr = next((1 / (i + 1) for i, d in enumerate(ranked) if d in wanted), 0.0)
    return {"recall@5": recall, "ndcg@10": dcg / ideal if ideal else 0.0, "mrr": rr}


def load_queries(repo: FlowRepo, dataset: str | int = "latest", limit: int | None = None) -> list[dict[str, Any]]:
    """The held-out retrieval queries of a dataset version, oldest first (a clear error when it
    has none)."""
    from flowloop.pipeline.api import load_manifest, read_rows

    manifest = load_manifest(repo, dataset)
    rows = read_rows(manifest.file("eval_retrieval")) if "eval_retrieval" in manifest.files else []
    if not rows:
        raise EvaluationError(
            f"dataset v{manifest.version} has no held-out retrieval queries", path=manifest.path,
            hint="they are the commits after the held-out cutoff that changed documentation: commit docs changes, "
            "`flow collect git`, then `flow dataset build`",
        )
    rows.sort(key=lambda r: (r.get("time") or "", r["id"]))
    return rows[: limit or repo.settings.retrieval.eval_max_queries]


def summary(details: list[dict[str, Any]]) -> dict[str, float]:
    return {m: round(mean([d[m] for d in details]), 4) for m in METRICS} | {"n": len(details)}


@dataclass
class System:
    """One way to rank: lexical and/or dense (with which embedder), optionally re-scored."""

    name: str
    embedder: Path | None = None  # None: the vectors the index already holds
    reranker: Path | None = None
    lexical: bool = True
    dense: bool = True
    overrides: dict[str, float] = field(default_factory=dict)  # [index] settings replaced (a fusion)
    floor: bool = False  # drop chunks under [index] relevance_floor, as a context pack does
    label: str = ""  # what it is, in words (versions), for tables

    def index_settings(self, base: Any) -> Any:
        return base.model_copy(update=self.overrides) if self.overrides else base

    def spec(self, served: Path) -> dict[str, Any]:
        """What decides its scores: a stored result scored with the same spec is reused."""
        return {"embedder_dir": str(self.embedder or served), "reranker_dir": str(self.reranker or ""),
                "lexical": self.lexical, "dense": self.dense, "overrides": dict(sorted(self.overrides.items())),
                "floor": self.floor}

    def key(self, served: Path) -> str:
        return json.dumps(self.spec(served), sort_keys=True)


class _VectorsView:
    """An index generation seen through other vectors (a candidate embedder's), nothing else changed."""

    def __init__(self, reader: Any, vectors: Any) -> None:
        self._reader, self.vectors = reader, vectors

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def chunk_vectors(reader: Any, model_dir: Path) -> "np.ndarray":
    """Every chunk of ``reader`` embedded by ``model_dir`` exactly as the index embeds it."""
    from flowloop.index.chunking import Chunk, embed_text
    from flowloop.index.embedder import bulk_embedder

    texts = [embed_text(reader.documents[c.doc_id].title, Chunk(c.ord, c.heading, c.text, c.tokens))
             for c in reader.all_chunks()]
    return bulk_embedder(model_dir, len(texts)).encode(texts)


class Bench:
    """One index generation and the models tried on it (see the module docstring)."""

    def __init__(self, repo: FlowRepo, reader: Any) -> None:
        self.repo, self.reader = repo, reader
        self.served = Path(reader.meta.get("embedder_dir", ""))
        self._vectors: dict[Path, Any] = {}
        self._encoders: dict[Path, Any] = {}
        self._query_vectors: dict[tuple[Path, str], Any] = {}
        self._rerankers: dict[Path, Any] = {}
        self._rerank_scores: dict[tuple[Path, str, str], float] = {}
        self._masks: dict[str, Any] = {}

    def view(self, embedder: Path | None) -> Any:
        """The reader as ``embedder``'s vectors see it (the served vectors when it wrote them)."""
        if embedder is None or embedder == self.served:
            return self.reader
        if embedder not in self._vectors:
            self._vectors[embedder] = chunk_vectors(self.reader, embedder)
        return _VectorsView(self.reader, self._vectors[embedder])

    def query_vector(self, embedder: Path | None, text: str) -> "np.ndarray":
        from flowloop.index.embedder import query_embedder

        model = embedder or self.served
        if (model, text) not in self._query_vectors:
            if model not in self._encoders:
                self._encoders[model] = query_embedder(model)
            self._query_vectors[(model, text)] = self._encoders[model].encode([text])[0]
        return self._query_vectors[(model, text)]

    def scorer(self, reranker: Path) -> Callable[[str, list[str]], list[float]]:
        """The cross-encoder's ``score(query, passages)``, memoised per (query, passage)."""
        from flowloop.index.embedder import load_reranker

        if reranker not in self._rerankers:
            self._rerankers[reranker] = load_reranker(reranker)
        model = self._rerankers[reranker]

        def score(query: str, passages: list[str]) -> list[float]:
            todo = [p for p in dict.fromkeys(passages) if (reranker, query, p) not in self._rerank_scores]
            if todo:
                for passage, value in zip(todo, model.score(query, todo)):
                    self._rerank_scores[(reranker, query, passage)] = float(value)
            return [self._rerank_scores[(reranker, query, p)] for p in passages]

        return score

    def _mask(self, as_of: str) -> Any:
        from flowloop.index.ranking import eligible_docs

        if as_of not in self._masks:
            moment = dt.datetime.fromisoformat(as_of) if as_of else None
            self._masks[as_of] = eligible_docs(self.reader, None, EVERY_STATUS, moment)
        return self._masks[as_of]

    def candidates(self, system: System, row: dict[str, Any]) -> list["Candidate"]:
        """Every candidate chunk of one query, best first, before the relevance floor."""
        import numpy as np

        from flowloop.index.ranking import rank, rerank

        settings = system.index_settings(self.repo.settings.index)
        view = self.view(system.embedder if system.dense else None)  # BM25 alone needs no vectors
        vector = (self.query_vector(system.embedder, row["query"]) if system.dense
                  else np.zeros(view.vectors.shape[1], np.float32))
        found = rank(view, row["query"], vector, settings, self._mask(row.get("as_of") or ""),
                     pool=max(settings.rerank_top, 50), use_lexical=system.lexical, use_dense=system.dense)
        if system.reranker is not None:
            found = rerank(view, row["query"], found, settings.rerank_top, self.scorer(system.reranker),
                           settings.rerank_blend, settings.rrf_k)
        return found

    def ranked(self, system: System, row: dict[str, Any], found: list["Candidate"] | None = None) -> list[str]:
        """The ten best document ids of one query."""
        from flowloop.index.ranking import best_per_document

        found = self.candidates(system, row) if found is None else found
        if system.floor and system.dense:
            floor = system.index_settings(self.repo.settings.index).relevance_floor
            found = [c for c in found if c.dense >= floor]
        return [c.doc_id for c in best_per_document(found)[:10]]

    def score(self, system: System, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Per-query details (``id`` + each metric) of one system."""
        return [{"id": q["id"], **query_scores(self.ranked(system, q), q["relevant"])} for q in queries]


def open_bench(repo: FlowRepo) -> Bench:
    """A bench on the current index generation (brought up to date first); close its reader."""
    from flowloop.index.api import build_index
    from flowloop.index.store import IndexReader

    build_index(repo)
    return Bench(repo, IndexReader(repo))
