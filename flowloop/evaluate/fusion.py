"""Learned fusion: the lexical/dense weights and the rank constant, fitted on earlier history.

The fusion that suits one repository is wrong for another (issue 16: BM25 fused by reciprocal
rank helped one history and hurt another), so the weights are chosen on the repository's own
queries from *before* the held-out cut (a validation window of the training history) by a
small grid, and :func:`fusion_gate` applies them only if they beat the current settings on the
later held-out queries by the paired interval; the result says which was kept and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowloop.evaluate.retrieval import METRICS, System, compare, score_system, summary
from flowloop.repo import FlowRepo

LEXICAL_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
RRF_KS = (5, 20, 60)


@dataclass
class FusionFit:
    settings: dict[str, float]  # lexical_weight, dense_weight, rrf_k
    scores: dict[str, float]
    grid: list[dict[str, Any]] = field(default_factory=list)


def _key(scores: dict[str, float]) -> tuple[float, ...]:
    return tuple(scores[m] for m in METRICS)


def fit_fusion(repo: FlowRepo, reader: Any, system: System, queries: list[dict[str, Any]], vectors: Any = None) -> FusionFit:
    """The grid point with the best recall@5 (then nDCG@10, MRR) on ``queries``; the current
    ``[index]`` values win ties, so nothing changes without evidence."""
    current = repo.settings.index
    points = [{"lexical_weight": current.lexical_weight, "dense_weight": current.dense_weight, "rrf_k": current.rrf_k}]
    points += [{"lexical_weight": w, "dense_weight": 1.0, "rrf_k": k} for w in LEXICAL_WEIGHTS for k in RRF_KS]
    best: FusionFit | None = None
    grid = []
    for point in points:
        tried = current.model_copy(update=point)
        scores = summary(score_system(repo, reader, System(system.name, system.embedder, system.reranker,
                                                           lexical=point["lexical_weight"] > 0, dense=True),
                                      queries, vectors, tried))
        grid.append({**point, **scores})
        if best is None or _key(scores) > _key(best.scores):
            best = FusionFit(point, scores)
    assert best is not None
    best.grid = grid
    return best


def fusion_gate(repo: FlowRepo, reader: Any, system: System, fit: FusionFit, heldout: list[dict[str, Any]],
                vectors: Any = None) -> dict[str, Any]:
    """The fitted weights against the current ones on later held-out queries (paired interval)."""
    tried = repo.settings.index.model_copy(update=fit.settings)
    fused = score_system(repo, reader, System("fused", system.embedder, system.reranker,
                                              lexical=fit.settings["lexical_weight"] > 0), heldout, vectors, tried)
    plain = score_system(repo, reader, System("current", system.embedder, system.reranker), heldout, vectors)
    decision = compare("fusion", "fused", "current", fused, plain, repo)
    return {"settings": fit.settings, "applied": decision.passed, "reason": decision.reason,
            "fused": summary(fused), "current": summary(plain), "details": {"fused": fused, "current": plain}}
