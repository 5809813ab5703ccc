"""The retrieval gates: an embedder, a reranker or a fitted fusion serves only if it is better.

Each gate scores a candidate system and the serving one on the same held-out future queries
through the retrieval suite (:func:`~flowloop.evaluate.retrieval_suite.gate_pair`, so the
scores are stored with the suite's and the report shows them), and compares them with a paired
bootstrap of the difference (``evaluate.stats``): it passes when the 95% interval of
``[retrieval] primary_metric`` lies above 0. A passing model is applied (an embedder by
re-embedding the index atomically: ``index.active.switch_embedder``) before the registry pointer
moves; rolling back re-applies the previous version (an embedder's parked vectors are reused)
and then moves the pointer. Each decision is written next to the candidate (``gate.json``) and
promotions go into the registry's log. After a promoted embedder or reranker, the fusion is
refitted for the new models through its own gate (``flowloop.evaluate.fusion``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from flowloop.atomic import atomic_write_text
from flowloop.errors import EvaluationError, FlowError
from flowloop.evaluate.retrieval import System, summary
from flowloop.evaluate.stats import mean, paired_difference
from flowloop.repo import FlowRepo


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
    fusion: dict[str, Any] | None = None  # the refit after a promotion (its own decision)

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


def record(version_dir: Path, decision: RetrievalDecision) -> None:
    atomic_write_text(version_dir / "gate.json", json.dumps(decision.to_json(), indent=2) + "\n")


def gated(repo: FlowRepo, family: str, target: Any, reference_name: str, candidate: System, reference: System,
          apply: Callable[[], None], *, force: bool, dataset: str | int, actor: str,
          score: Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]] | None = None) -> RetrievalDecision:
    """Score ``candidate`` against ``reference`` (or ``score()``: candidate and reference details),
    then ``apply`` and promote ``target`` in ``family`` only if the gate passes, or when ``force``."""
    from flowloop.evaluate.retrieval_suite import gate_pair
    from flowloop.models.registry import Registry

    decision = RetrievalDecision(family, target.version, reference_name, repo.settings.retrieval.primary_metric,
                                 0.0, 0.0, 0.0, (0.0, 0.0), 0, False)
    try:
        if score is None:
            _, cand, ref = gate_pair(repo, dataset, candidate, reference)
            details = cand.details, ref.details
        else:
            details = score()
        decision = compare(family, target.version, reference_name, details[0], details[1], repo)
    except FlowError as exc:
        if not force:
            raise
        decision.reason = f"not evaluated: {exc.render()}"
    if decision.passed or force:
        apply()
        decision.forced = not decision.passed
        Registry(repo, family).promote(target.version, decision.reason if decision.passed else
                                       f"forced over the gate: {decision.reason}", forced=decision.forced, actor=actor)
        decision.promoted = True
    record(target.path, decision)
    return decision


def rolled_back(repo: FlowRepo, family: str, restore: Callable[[Any], None], reason: str, actor: str) -> str | None:
    """Undo ``family``'s latest promotion: ``restore(previous version or None)`` first, then the
    registry pointer. Returns the version now serving (None: the configured model)."""
    from flowloop.models.registry import Registry

    registry = Registry(repo, family)
    stack = list(registry._pointer().get("stack") or [])
    if not stack:
        registry.rollback(reason, actor)  # raises the registry's clear "nothing to roll back"
    back = registry.get(stack[-2]) if len(stack) > 1 else None
    restore(back)
    return registry.rollback(reason, actor).version


def _refit_fusion(repo: FlowRepo, dataset: str | int, actor: str) -> dict[str, Any]:
    """The fusion refitted for newly promoted models; its refusal never undoes the promotion."""
    from flowloop.evaluate.fusion import promote_fusion

    try:
        return promote_fusion(repo, dataset=dataset, actor=actor).to_json()
    except EvaluationError as exc:
        return {"promoted": False, "reason": f"not fitted: {exc.render()}"}


def promote_embedder(repo: FlowRepo, version: str, *, force: bool = False, dataset: str | int = "latest",
                     actor: str = "flowloop", progress: Any = None) -> RetrievalDecision:
    """Score embedder ``version`` against the serving one; promote it (re-embedding the index
    atomically) only if the gate passes, or when ``force``."""
    from flowloop.evaluate.retrieval_suite import REFERENCE, stock_system
    from flowloop.index.active import switch_embedder
    from flowloop.models.registry import Registry

    registry = Registry(repo, "embedder")
    target = registry.get(version)
    current = registry.current()
    if current is not None and current.version == target.version:
        raise EvaluationError(f"embedder {target.version} is already current", field="version")
    reference = current.version if current is not None else REFERENCE
    ref_system = (System(f"embedder {reference}", current.model_dir, label=f"serving embedder {reference}")
                  if current is not None else stock_system(repo))
    decision = gated(repo, "embedder", target, reference, System(f"embedder {target.version}", target.model_dir,
                                                                 label=f"candidate embedder {target.version}"),
                     ref_system, lambda: switch_embedder(repo, str(target.model_dir), target.version, progress=progress),
                     force=force, dataset=dataset, actor=actor)
    if decision.promoted:
        decision.fusion = _refit_fusion(repo, dataset, actor)
        record(target.path, decision)
    return decision


def rollback_embedder(repo: FlowRepo, reason: str = "rollback", actor: str = "flowloop", progress: Any = None) -> str | None:
    """Undo the latest embedder promotion: the index goes back to the previous embedder (its
    parked vectors reused), then the registry pointer. Returns the version now serving (None: stock)."""
    from flowloop.index.active import switch_embedder

    return rolled_back(repo, "embedder", lambda back: switch_embedder(
        repo, str(back.model_dir) if back else None, back.version if back else None, progress=progress), reason, actor)


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
    if current is not None and current.version == target.version:
        raise EvaluationError(f"reranker {target.version} is already current", field="version")
    reference = current.version if current is not None else (serving or "no reranker")
    ref_dir = resolve_model(serving, repo.root, kind="reranker") if serving else None
    decision = gated(repo, "reranker", target, reference,
                     System(f"reranker {target.version}", reranker=target.model_dir, label=f"candidate reranker {target.version}"),
                     System(f"reranker {reference}" if serving else "serving hybrid", reranker=ref_dir,
                            label=f"serving hybrid, reranker: {reference}"),
                     lambda: set_reranker(repo, str(target.model_dir), target.version),
                     force=force, dataset=dataset, actor=actor)
    if decision.promoted:
        decision.fusion = _refit_fusion(repo, dataset, actor)
        record(target.path, decision)
    return decision


def rollback_reranker(repo: FlowRepo, reason: str = "rollback", actor: str = "flowloop") -> str | None:
    """Undo the latest reranker promotion; returns the version now serving (None: ``[index] reranker``)."""
    from flowloop.index.active import set_reranker

    return rolled_back(repo, "reranker", lambda back: set_reranker(
        repo, str(back.model_dir) if back else None, back.version if back else None), reason, actor)
