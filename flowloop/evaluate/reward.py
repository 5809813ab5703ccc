"""The reward model measured, compared with the generative reviewer, and promoted through its gate.

Both reviewers score the same held-out items (``eval_validation``: the labelled outputs of the
held-out tasks): the reward model gives P(compliant) from its head; the generative reviewer
(the specialist in its review role, as the validation suite asks it) gives P(OK) against
P(VIOLATION) of its first word. A violation is flagged when the score is below the threshold,
and for each: precision, recall and F1 of flagging violations at its threshold, AUROC across
thresholds (threshold-free, so the two are comparable even though their scales differ), each
with a bootstrap 95% interval, and the precision-recall curve.

The gate (``promote_reward``, the reward pass's record names it): a candidate becomes the
``current`` reward model when its AUROC is better than chance beyond noise (interval above 0.5)
with nothing promoted yet, or better than the current reward model's by a paired interval above
0 on the same items. The reward family has its own pointer, so the specialist's is untouched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import EvaluationError
from flowloop.evaluate import data as eval_data
from flowloop.evaluate.stats import auroc, binary_detection, bootstrap_intervals
from flowloop.evaluate.suites.validation import ValidationItem
from flowloop.repo import FlowRepo


def detection(scores: Sequence[float], compliant: Sequence[bool], threshold: float) -> dict[str, float]:
    """Precision / recall / F1 / accuracy of flagging violations (score below ``threshold``) and AUROC."""
    out = binary_detection([s < threshold for s in scores], [not ok for ok in compliant])
    out["auroc"] = auroc(scores, compliant)
    return out


def pr_curve(scores: Sequence[float], compliant: Sequence[bool]) -> list[dict[str, float]]:
    """Precision and recall of flagging violations at each distinct threshold (lowest first)."""
    points = []
    for cut in sorted(set(scores)) + [math.inf]:
        found = binary_detection([s < cut for s in scores], [not ok for ok in compliant])
        points.append({"threshold": cut if cut != math.inf else 1.0, "precision": round(found["precision"], 4),
                       "recall": round(found["recall"], 4)})
    return points


@dataclass
class ReviewerScores:
    """One reviewer's scores of the shared items and what they measure."""

    name: str
    threshold: float
    scores: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    curve: list[dict[str, float]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)  # the validation suite's shape

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": round(self.threshold, 6),
                "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
                "ci": {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in self.ci.items()}, "curve": self.curve}


def scored_details(ids: Sequence[str], scores: Sequence[float], compliant: Sequence[bool], threshold: float,
                   /, **extra: Any) -> list[dict[str, Any]]:
    """Per-item details of the validation suite's shape for scores read at ``threshold``."""
    return [{"id": i, "violating": not ok, "flagged": s < threshold, "score": round(s, 6), **extra}
            for i, s, ok in zip(ids, scores, compliant)]


def measure(name: str, scores: list[float], compliant: list[bool], threshold: float, samples: int, seed: int,
            ids: Sequence[str] = ()) -> ReviewerScores:
    """A reviewer's metrics with bootstrap intervals, computed as the validation suite computes
    them (one statistic, the same resamples for every metric), and its precision-recall curve."""
    from flowloop.evaluate.suites import summarise

    details = scored_details(list(ids) or [str(n) for n in range(len(scores))], scores, compliant, threshold)
    found = summarise("validation", details, samples, seed)
    return ReviewerScores(name, threshold, scores, found.metrics, found.ci, pr_curve(scores, compliant), details)


def paired_differences(ours: ReviewerScores, theirs: ReviewerScores, samples: int, seed: int) -> dict[str, Any]:
    """``ours`` minus ``theirs`` for each metric, each at its own threshold, with a paired
    bootstrap 95% interval: both are resampled on the same items, so item difficulty cancels."""
    from flowloop.evaluate.suites import SUITES

    statistic, reported, _ = SUITES["validation"]

    def diff(idx: Sequence[int]) -> dict[str, float]:
        a, b = statistic(ours.details, idx), statistic(theirs.details, idx)
        return {k: a[k] - b[k] for k in reported}

    point = diff(range(len(ours.details)))
    ci = bootstrap_intervals(len(ours.details), diff, samples, seed)
    return {k: {"diff": round(point[k], 4), "ci": [round(ci[k][0], 4), round(ci[k][1], 4)]} for k in reported}


def reward_details(repo: FlowRepo, items: Sequence[ValidationItem], which: str = "current") -> list[dict[str, Any]] | None:
    """The reward model's row of the validation suite on ``items`` (None when there is no such
    reward model): each item's P(compliant), flagged below the threshold recorded with it."""
    from flowloop.models.reward import resolve_version, threshold_of

    version = resolve_version(repo, which)
    if version is None or not items:
        return None
    scores = reward_scores(repo, version, items)
    return scored_details([i.id for i in items], scores, [not i.violating for i in items], threshold_of(version),
                          version=version.version, threshold=threshold_of(version))


def heldout_items(repo: FlowRepo, dataset: str = "latest", limit: int = 0) -> tuple[eval_data.DatasetRef, list[ValidationItem]]:
    """The held-out labelled items of ``dataset``; an error naming the file when there are none."""
    ds = eval_data.resolve_dataset(repo, dataset)
    items = eval_data.validation_items(ds, limit or 10**9, repo.settings.eval.seed)
    if not items:
        raise EvaluationError(f"dataset {ds.version} has no held-out labelled outputs", path=ds.path,
                              hint="record corrections or preferences on newer tasks and rebuild (`flow dataset build`)")
    return ds, items


def reward_scores(repo: FlowRepo, version: Any, items: Sequence[ValidationItem]) -> list[float]:
    from flowloop.models.reward import load_reward, reward_input

    return load_reward(repo, version).score([reward_input(i.text, i.context) for i in items])


def reviewer_scores(repo: FlowRepo, model: str, items: Sequence[ValidationItem]) -> list[float]:
    """The generative reviewer's P(OK) of each item, read as the validation suite reads it and
    as `flow validate` does without a reward model (one function for both)."""
    from flowloop.inference.registry import get_model
    from flowloop.specialist.validate import review_scores

    return review_scores(get_model(repo, model), repo.settings, [(i.text, i.context) for i in items])


def compare_reviewers(repo: FlowRepo, reward: str = "current", reviewer: str = "current", dataset: str = "latest",
                      limit: int = 0) -> dict[str, Any]:
    """Both reviewers on the same held-out items (see the module docstring), with n, intervals
    and the paired differences (reward model minus reviewer, ``paired``)."""
    from flowloop.models.reward import resolve_version, threshold_of

    version = resolve_version(repo, reward)
    if version is None:
        raise EvaluationError(f"no {reward} reward model", hint="train one (`flow train reward`) or pass --reward vN")
    ds, items = heldout_items(repo, dataset, limit)
    compliant = [not i.violating for i in items]
    samples, seed = repo.settings.eval.bootstrap_samples, repo.settings.eval.seed
    ids = [i.id for i in items]
    ours = measure(f"reward {version.version}", reward_scores(repo, version, items), compliant,
                   threshold_of(version), samples, seed, ids)
    theirs = measure(f"reviewer {reviewer}", reviewer_scores(repo, reviewer, items), compliant, 0.5, samples, seed, ids)
    return {"dataset": ds.version, "n": len(items), "violating": sum(1 for i in items if i.violating),
            "reward_model": ours.to_json(), "generative_reviewer": theirs.to_json(),
            "paired": paired_differences(ours, theirs, samples, seed),
            # per item, for paired comparisons without scoring again
            "items": [{"id": i.id, "compliant": ok, "reward_score": round(a, 6), "reviewer_score": round(b, 6)}
                      for i, ok, a, b in zip(items, compliant, ours.scores, theirs.scores)]}


@dataclass
class RewardDecision:
    candidate: str
    reference: str | None
    promoted: bool
    reason: str
    auroc: float = 0.5
    auroc_ci: tuple[float, float] = (0.5, 0.5)
    n: int = 0


def promote_reward(repo: FlowRepo, version: str, dataset: str = "latest", force: bool = False) -> RewardDecision:
    """The reward gate (see the module docstring); ``force`` promotes whatever the verdict."""
    from flowloop.models.registry import Registry
    from flowloop.models.reward import FAMILY

    registry = Registry(repo, FAMILY)
    candidate = registry.get(version)
    current = registry.current()
    if current is not None and current.version == candidate.version:
        raise EvaluationError(f"reward {candidate.version} is already current", field="version")
    trained_on = candidate.manifest.get("dataset_version")
    _, items = heldout_items(repo, str(trained_on) if dataset == "latest" and trained_on else dataset)
    compliant = [not i.violating for i in items]
    ev = repo.settings.eval
    cand = reward_scores(repo, candidate, items)
    decision = RewardDecision(candidate.version, current.version if current else None, False, "", n=len(items))

    def one(idx: Sequence[int]) -> dict[str, float]:
        return {"auroc": auroc([cand[i] for i in idx], [compliant[i] for i in idx])}

    decision.auroc = one(range(len(items)))["auroc"]
    decision.auroc_ci = bootstrap_intervals(len(items), one, ev.bootstrap_samples, ev.seed)["auroc"]
    lo, hi = decision.auroc_ci
    if current is None:
        passed = lo > 0.5
        decision.reason = (f"AUROC {decision.auroc:.3f} (95% CI [{lo:.3f}, {hi:.3f}], n={len(items)}) "
                           + ("is above chance" if passed else "does not exclude chance (0.5)"))
    else:
        ref = reward_scores(repo, current, items)

        def diff(idx: Sequence[int]) -> dict[str, float]:
            labels = [compliant[i] for i in idx]
            return {"d": auroc([cand[i] for i in idx], labels) - auroc([ref[i] for i in idx], labels)}

        point = diff(range(len(items)))["d"]
        d_lo, d_hi = bootstrap_intervals(len(items), diff, ev.bootstrap_samples, ev.seed)["d"]
        passed = d_lo > 0
        decision.reason = (f"AUROC {decision.auroc:.3f} vs {current.version}: paired difference {point:+.3f} "
                           f"(95% CI [{d_lo:+.3f}, {d_hi:+.3f}], n={len(items)})"
                           + ("" if passed else " does not exclude 0"))
    if passed or force:
        note = decision.reason if passed else f"forced over the gate: {decision.reason}"
        registry.promote(candidate.version, note, forced=not passed)
        decision.promoted = True
    return decision
