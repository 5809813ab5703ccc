"""The ``retrieval`` suite and gate: retrieval models judged on held-out future queries.

The queries are the dataset's ``eval_retrieval.jsonl``: commits after the held-out cutoff, their
subject as the query, the documents they changed as the answer, each searched as of the moment
before its commit (later documents are invisible). A system is the current index's chunks
ranked with one embedder (its vectors computed here, in memory, so a candidate is scored
without touching the served index), optionally re-scored by a cross-encoder; every query gets
recall@5, nDCG@10 and reciprocal rank at document level.

The gate compares a candidate with the current model on the same queries with a paired
bootstrap of the difference (``evaluate.stats``); it passes when the 95% interval of
``[retrieval] primary_metric`` lies above 0. A passing embedder is promoted by re-embedding the
index atomically (``index.active.switch_embedder``) before the registry pointer moves; rolling
back switches to the previous embedder's parked vectors. Each decision is written next to the
candidate (``gate.json``) and promotions go into the registry's log.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from flowloop.atomic import atomic_write_text
from flowloop.errors import EvaluationError, FlowError
from flowloop.evaluate.stats import mean, paired_difference
from flowloop.repo import FlowRepo

METRICS = ("recall@5", "ndcg@10", "mrr")
Ranker = Callable[[dict[str, Any]], list[str]]


def query_scores(ranked: list[str], relevant: list[str]) -> dict[str, float]:
    """recall@5, nDCG@10 (binary gains) and reciprocal rank of one ranking."""
    wanted = set(relevant)
    recall = len([d for d in ranked[:5] if d in wanted]) / len(wanted) if wanted else 0.0
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in wanted)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(wanted), 10)))
    rr = next((1 / (i + 1) for i, d in enumerate(ranked) if d in wanted), 0.0)
    return {"recall@5": recall, "ndcg@10": dcg / ideal if ideal else 0.0, "mrr": rr}


def load_queries(repo: FlowRepo, dataset: str | int = "latest", limit: int | None = None) -> list[dict[str, Any]]:
    """The held-out retrieval queries of a dataset version (a clear error when it has none)."""
    from flowloop.pipeline.api import load_manifest, read_rows

    manifest = load_manifest(repo, dataset)
    if "eval_retrieval" not in manifest.files:
        raise EvaluationError(
            f"dataset v{manifest.version} has no held-out retrieval queries", path=manifest.path,
            hint="they are the commits after the held-out cutoff that changed documentation: commit docs changes, "
            "`flow collect git`, then `flow dataset build`",
        )
    rows = read_rows(manifest.file("eval_retrieval"))
    return rows[: limit or repo.settings.retrieval.eval_max_queries]


class _VectorsView:
    """An index generation seen through other vectors (a candidate embedder's), nothing else changed."""

    def __init__(self, reader: Any, vectors: Any) -> None:
        self._reader, self.vectors = reader, vectors

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def chunk_vectors(reader: Any, model_dir: Path) -> Any:
    """Every chunk of ``reader`` embedded by ``model_dir`` exactly as the index embeds it."""
    from flowloop.index.chunking import Chunk, embed_text
    from flowloop.index.embedder import bulk_embedder

    texts = [embed_text(reader.documents[c.doc_id].title, Chunk(c.ord, c.heading, c.text, c.tokens))
             for c in reader.all_chunks()]
    return bulk_embedder(model_dir, len(texts)).encode(texts)


@dataclass
class System:
    """One way to rank: lexical and/or dense (with which embedder), optionally re-scored."""

    name: str
    embedder: Path | None = None  # None: the vectors the index already holds
    reranker: Path | None = None
    lexical: bool = True
    dense: bool = True


def make_ranker(repo: FlowRepo, reader: Any, system: System, vectors: Any = None, index_settings: Any = None) -> Ranker:
    """A function from a query row to the ten best document ids; ``index_settings`` replaces
    ``[index]`` (the fusion weights being tried)."""
    from flowloop.index.embedder import load_reranker, query_embedder
    from flowloop.index.ranking import best_per_document, eligible_docs, rank, rerank

    settings = index_settings or repo.settings.index
    model_dir = system.embedder or Path(reader.meta.get("embedder_dir", ""))
    view = reader if vectors is None else _VectorsView(reader, vectors)
    encoder = query_embedder(model_dir) if system.dense else None
    scorer = load_reranker(system.reranker).score if system.reranker is not None else None

    def ranked(row: dict[str, Any]) -> list[str]:
        import numpy as np

        as_of = dt.datetime.fromisoformat(row["as_of"]) if row.get("as_of") else None
        vector = encoder.encode([row["query"]])[0] if encoder is not None else np.zeros(view.vectors.shape[1], np.float32)
        mask = eligible_docs(view, None, ("active", "archived", "superseded"), as_of)
        candidates = rank(view, row["query"], vector, settings, mask, pool=max(settings.rerank_top, 50),
                          use_lexical=system.lexical, use_dense=system.dense)
        if scorer is not None:
            candidates = rerank(view, row["query"], candidates, settings.rerank_top, scorer)
        return [c.doc_id for c in best_per_document(candidates)[:10]]

    return ranked


def score_system(repo: FlowRepo, reader: Any, system: System, queries: list[dict[str, Any]],
                 vectors: Any = None, index_settings: Any = None) -> list[dict[str, Any]]:
    """Per-query details (``id`` + each metric) of one system."""
    if system.embedder is not None and vectors is None and system.dense:
        vectors = chunk_vectors(reader, system.embedder)
    ranker = make_ranker(repo, reader, system, vectors, index_settings)
    return [{"id": q["id"], **query_scores(ranker(q), q["relevant"])} for q in queries]


def summary(details: list[dict[str, Any]]) -> dict[str, float]:
    return {m: round(mean([d[m] for d in details]), 4) for m in METRICS} | {"n": len(details)}


@dataclass
class RetrievalDecision:
    family: str
    candidate: str
    reference: str
    metric: str
    reference_score: float
    candidate_score: float
    diff: float
    ci: tuple[float, float]
    n: int
    passed: bool
    promoted: bool = False
    forced: bool = False
    reason: str = ""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def compare(family: str, candidate: str, reference: str, cand: list[dict[str, Any]], ref: list[dict[str, Any]],
            repo: FlowRepo) -> RetrievalDecision:
    """The gate's verdict: the primary metric's paired 95% interval must lie above 0."""
    metric = repo.settings.retrieval.primary_metric
    ev = repo.settings.eval
    by_id = {d["id"]: d for d in ref}
    shared = [d for d in cand if d["id"] in by_id]
    if not shared:
        raise EvaluationError("no held-out query was scored for both models", hint="rebuild the dataset")
    diff, ci = paired_difference([d[metric] for d in shared], [by_id[d["id"]][metric] for d in shared],
                                 ev.bootstrap_samples, ev.seed)
    c, r = mean([d[metric] for d in shared]), mean([by_id[d["id"]][metric] for d in shared])
    passed = ci[0] > 0
    verb = "improved" if passed else "did not improve beyond its interval"
    reason = (f"retrieval {metric} {verb}: {r:.3f} -> {c:.3f} (paired difference {diff:+.3f}, "
              f"95% CI [{ci[0]:+.3f}, {ci[1]:+.3f}], n={len(shared)})")
    return RetrievalDecision(family, candidate, reference, metric, r, c, diff, ci, len(shared), passed, reason=reason,
                             metrics={candidate: summary(cand), reference: summary(ref)})


def _record(version_dir: Path, decision: RetrievalDecision) -> None:
    atomic_write_text(version_dir / "gate.json", json.dumps(decision.to_json(), indent=2) + "\n")


def _current_reader(repo: FlowRepo) -> Any:
    from flowloop.index.api import build_index
    from flowloop.index.store import IndexReader

    build_index(repo)
    return IndexReader(repo)


def promote_embedder(repo: FlowRepo, version: str, *, force: bool = False, dataset: str | int = "latest",
                     actor: str = "flowloop", progress: Any = None) -> RetrievalDecision:
    """Score embedder ``version`` against the serving one; promote it (re-embedding the index
    atomically) only if the gate passes, or when ``force``."""
    from flowloop.index.active import switch_embedder
    from flowloop.models.registry import Registry

    registry = Registry(repo, "embedder")
    target = registry.get(version)
    current = registry.current()
    if current is not None and current.version == target.version:
        raise EvaluationError(f"embedder {target.version} is already current", field="version")
    reference = current.version if current is not None else "stock"
    decision = RetrievalDecision("embedder", target.version, reference, repo.settings.retrieval.primary_metric,
                                 0.0, 0.0, 0.0, (0.0, 0.0), 0, False)
    try:
        queries = load_queries(repo, dataset)
        reader = _current_reader(repo)
        try:
            ref = score_system(repo, reader, System(reference), queries)
            cand = score_system(repo, reader, System(target.version, embedder=target.model_dir), queries)
        finally:
            reader.close()
        decision = compare("embedder", target.version, reference, cand, ref, repo)
    except FlowError as exc:
        if not force:
            raise
        decision.reason = f"not evaluated: {exc.render()}"
    if decision.passed or force:
        switch_embedder(repo, str(target.model_dir), target.version, progress=progress)
        decision.forced = not decision.passed
        registry.promote(target.version, decision.reason if decision.passed else f"forced over the gate: {decision.reason}",
                         forced=decision.forced, actor=actor)
        decision.promoted = True
    _record(target.path, decision)
    return decision


def rollback_embedder(repo: FlowRepo, reason: str = "rollback", actor: str = "flowloop", progress: Any = None) -> str | None:
    """Undo the latest embedder promotion: the index goes back to the previous embedder (its
    parked vectors reused), then the registry pointer. Returns the version now serving (None: stock)."""
    from flowloop.index.active import switch_embedder
    from flowloop.models.registry import Registry

    registry = Registry(repo, "embedder")
    stack = list(registry._pointer().get("stack") or [])
    if not stack:
        registry.rollback(reason, actor)  # raises the registry's clear "nothing to roll back"
    back = stack[-2] if len(stack) > 1 else None
    switch_embedder(repo, str(registry.get(back).model_dir) if back else None, back, progress=progress)
    return registry.rollback(reason, actor).version


def promote_reranker(repo: FlowRepo, version: str, *, force: bool = False, dataset: str | int = "latest",
                     actor: str = "flowloop") -> RetrievalDecision:
    """Score reranker ``version`` on top of the serving hybrid against the serving reranker (or
    none); promote it only if the gate passes, or when ``force``."""
    from flowloop.index.active import effective_reranker, set_reranker
    from flowloop.index.embedder import check_cross_encoder, resolve_model
    from flowloop.models.registry import Registry

    registry = Registry(repo, "reranker")
    target = registry.get(version)
    check_cross_encoder(target.model_dir)
    serving = effective_reranker(repo)
    current = registry.current()
    reference = current.version if current is not None else (serving or "no reranker")
    decision = RetrievalDecision("reranker", target.version, reference, repo.settings.retrieval.primary_metric,
                                 0.0, 0.0, 0.0, (0.0, 0.0), 0, False)
    try:
        queries = load_queries(repo, dataset)
        reader = _current_reader(repo)
        try:
            ref_dir = resolve_model(serving, repo.root, kind="reranker") if serving else None
            ref = score_system(repo, reader, System(reference, reranker=ref_dir), queries)
            cand = score_system(repo, reader, System(target.version, reranker=target.model_dir), queries)
        finally:
            reader.close()
        decision = compare("reranker", target.version, reference, cand, ref, repo)
    except FlowError as exc:
        if not force:
            raise
        decision.reason = f"not evaluated: {exc.render()}"
    if decision.passed or force:
        set_reranker(repo, str(target.model_dir), target.version)
        decision.forced = not decision.passed
        registry.promote(target.version, decision.reason if decision.passed else f"forced over the gate: {decision.reason}",
                         forced=decision.forced, actor=actor)
        decision.promoted = True
    _record(target.path, decision)
    return decision


def rollback_reranker(repo: FlowRepo, reason: str = "rollback", actor: str = "flowloop") -> str | None:
    """Undo the latest reranker promotion; returns the version now serving (None: ``[index] reranker``)."""
    from flowloop.index.active import set_reranker
    from flowloop.models.registry import Registry

    registry = Registry(repo, "reranker")
    entry = registry.rollback(reason, actor)
    set_reranker(repo, str(registry.get(entry.version).model_dir) if entry.version else None, entry.version)
    return entry.version
