"""Learned fusion: how lexical, dense and reranker scores combine, fitted on the repository's history.

The fusion that suits one repository is wrong for another (issue 16: BM25 fused by reciprocal
rank helped one history and hurt another), and a tuned embedder moves the cosine scale the
relevance floor is written in. So the ``[index]`` weights (``lexical_weight``, ``dense_weight``,
``rrf_k``, ``rerank_blend`` when a reranker serves, and ``relevance_floor``) are chosen by a
small grid on the *earlier* held-out queries (the first ``[retrieval] fusion_fit_share`` of
them by time; none of them reached the retrieval models' training pairs), and applied only if
they beat the current settings on the *later* ones by the paired interval. Rankings are scored
as a context pack sees them: chunks under the relevance floor are dropped.

:func:`promote_fusion` registers every fit as a version of the ``fusion`` family (its settings,
the models it was fitted for, the queries behind it; the gate's decision beside it) and promotes
it through the gate like a model; ``index.active.set_fusion`` then makes ``flow search`` and the
context packs rank with it, for as long as the embedder and reranker it was fitted for serve.
:func:`rollback_fusion` restores the previous one.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.errors import EvaluationError
from flowloop.evaluate.retrieval import METRICS, Bench, System, load_queries, open_bench, query_scores
from flowloop.evaluate.retrieval_gate import RetrievalDecision, compare, gated, record, rolled_back
from flowloop.repo import FlowRepo

LEXICAL_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
RRF_KS = (5, 20, 60)
BLENDS = (1.0, 0.75, 0.5, 0.25)
FLOORS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.4)
FAMILY = "fusion"


@dataclass
class FusionFit:
    settings: dict[str, float]  # every fusion key (``index.active.FUSION_KEYS``)
    scores: dict[str, float]
    grid: list[dict[str, Any]] = field(default_factory=list)


def _key(scores: dict[str, float], primary: str) -> tuple[float, ...]:
    return (scores[primary], *(scores[m] for m in METRICS))


def current_fusion(repo: FlowRepo) -> dict[str, float]:
    """The fusion settings ``flow search`` ranks with now (the promoted ones where they apply)."""
    from flowloop.index.active import FUSION_KEYS, effective_index_settings

    settings = effective_index_settings(repo)
    return {k: getattr(settings, k) for k in FUSION_KEYS}


def weight_points(current: dict[str, float], reranked: bool) -> list[dict[str, float]]:
    """The grid's weights (the current point first, so it wins ties)."""
    blends = BLENDS if reranked else (current["rerank_blend"],)
    points = [{k: v for k, v in current.items() if k != "relevance_floor"}]
    points += [{"lexical_weight": w, "dense_weight": 1.0, "rrf_k": k, "rerank_blend": b}
               for w in LEXICAL_WEIGHTS for k in RRF_KS for b in blends]
    points.append({"lexical_weight": 1.0, "dense_weight": 0.0, "rrf_k": current["rrf_k"], "rerank_blend": blends[0]})
    return points


def fit_fusion(bench: Bench, base: System, queries: list[dict[str, Any]], current: dict[str, float]) -> FusionFit:
    """The grid point with the best primary metric (then recall@5, nDCG@10, MRR) on ``queries``
    with ``base``'s models; the current settings win ties, so nothing changes without evidence."""
    primary = bench.repo.settings.retrieval.primary_metric
    floors = tuple(dict.fromkeys((current["relevance_floor"], *FLOORS)))
    best: FusionFit | None = None
    grid = []
    for weights in weight_points(current, base.reranker is not None):
        tried = System("fusion", base.embedder, base.reranker, overrides=dict(weights), floor=True)
        found = [bench.candidates(tried, q) for q in queries]
        for floor in floors:
            point = {**weights, "relevance_floor": floor}
            system = System("fusion", base.embedder, base.reranker, overrides=point, floor=True)
            details = [query_scores(bench.ranked(system, q, f), q["relevant"]) for q, f in zip(queries, found)]
            scores = {m: round(sum(d[m] for d in details) / len(details), 4) for m in METRICS}
            grid.append({**point, **scores})
            if best is None or _key(scores, primary) > _key(best.scores, primary):
                best = FusionFit(point, scores)
    assert best is not None
    best.grid = grid
    return best


def split_queries(repo: FlowRepo, queries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The earlier held-out queries (to fit on) and the later ones (to judge on), by time."""
    s = repo.settings.retrieval
    cut = int(len(queries) * s.fusion_fit_share)
    fit, later = queries[:cut], queries[cut:]
    if min(len(fit), len(later)) < s.fusion_min_queries:
        raise EvaluationError(
            f"fitting the fusion needs {s.fusion_min_queries} held-out retrieval queries on each side of its split "
            f"and has {len(fit)} to fit on and {len(later)} to judge on",
            field="retrieval.fusion_min_queries",
            hint="more documentation commits after the held-out cutoff (`flow collect git`, `flow dataset build`), "
                 "or lower [retrieval] fusion_min_queries",
        )
    return fit, later


def _register(repo: FlowRepo, fit: FusionFit, current: dict[str, float], manifest: Any, fit_rows: list[dict[str, Any]],
              later: list[dict[str, Any]]) -> Any:
    from flowloop.index.active import effective_embedder, effective_reranker
    from flowloop.models.registry import Registry

    pointer = {"settings": fit.settings, "for_embedder": effective_embedder(repo), "for_reranker": effective_reranker(repo)}
    with tempfile.TemporaryDirectory(prefix="fusion-") as tmp:
        (Path(tmp) / "fusion.json").write_text(json.dumps(pointer, indent=2) + "\n", encoding="utf-8")
        return Registry(repo, FAMILY).register(Path(tmp), {
            "pass": FAMILY, "base_model": pointer["for_embedder"], "for_reranker": pointer["for_reranker"], "parent": None,
            "settings": fit.settings, "replaces": current, "dataset_version": manifest.version,
            "dataset_hash": manifest.content_hash, "metrics": {"fit": fit.scores},
            "data": {"fit_queries": len(fit_rows), "judged_on": len(later),
                     "fit_window": [fit_rows[0].get("time"), fit_rows[-1].get("time")],
                     "judge_window": [later[0].get("time"), later[-1].get("time")]},
            "grid": sorted(fit.grid, key=lambda g: -g[repo.settings.retrieval.primary_metric])[:20],
        })


def pointer_of(version: Any) -> dict[str, Any]:
    """What ``index.active.set_fusion`` is given for a registered fusion version."""
    data = json.loads((version.model_dir / "fusion.json").read_text(encoding="utf-8"))
    return {**data, "version": version.version}


def promote_fusion(repo: FlowRepo, *, force: bool = False, dataset: str | int = "latest",
                   actor: str = "flowloop") -> RetrievalDecision:
    """Fit the fusion on the earlier held-out queries and promote it if it beats the current
    settings on the later ones (or when ``force``); the decision carries the fit."""
    from flowloop.evaluate.retrieval_suite import serving_system
    from flowloop.index.active import set_fusion
    from flowloop.pipeline.api import load_manifest

    manifest = load_manifest(repo, dataset)
    fit_rows, later = split_queries(repo, load_queries(repo, manifest.version))
    current = current_fusion(repo)
    base = serving_system(repo)
    bench = open_bench(repo)
    try:
        fit = fit_fusion(bench, base, fit_rows, current)
        fitted = System("fusion fitted", reranker=base.reranker, overrides=fit.settings, floor=True)
        now = System("fusion current", reranker=base.reranker, overrides=current, floor=True)
        scores = (bench.score(fitted, later), bench.score(now, later))
    finally:
        bench.reader.close()
    about = {"settings": fit.settings, "current": current, "fit": fit.scores, "fit_queries": len(fit_rows),
             "judged_on": len(later)}
    if fit.settings == current and not force:  # nothing to judge: no version is registered
        decision = compare(FAMILY, "fitted", "current", *scores, repo)
        decision.passed, decision.fusion = False, about
        decision.reason = "the weights fitted on the earlier queries are the current ones: nothing changes"
        return decision
    target = _register(repo, fit, current, manifest, fit_rows, later)
    decision = gated(repo, FAMILY, target, "current", fitted, now, lambda: set_fusion(repo, pointer_of(target)),
                     force=force, dataset=manifest.version, actor=actor, score=lambda: scores)
    decision.fusion = about
    record(target.path, decision)
    return decision


def rollback_fusion(repo: FlowRepo, reason: str = "rollback", actor: str = "flowloop") -> str | None:
    """Undo the latest fusion promotion; returns the version now ranking (None: ``[index]``)."""
    from flowloop.index.active import set_fusion

    return rolled_back(repo, FAMILY, lambda back: set_fusion(repo, pointer_of(back) if back else None), reason, actor)

