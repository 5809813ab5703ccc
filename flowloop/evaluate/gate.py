"""The promotion gate: a candidate becomes ``current`` only if it is measurably better.

Both models are scored on the same held-out data (the candidate's dataset). The rule:

- **Primary metric** (``eval.primary_metric``, default ``planner.f1``: the F1 of the files the
  full planner, the localizer's ranked files plus the specialist's plan, names for a held-out
  task, which is how ``flow plan`` uses the specialist) must improve beyond noise. We use a *paired* bootstrap of the difference: the examples are resampled together for
  both models (they answered the same tasks), and the 95% interval of candidate minus reference
  must lie above 0. Pairing removes the between-task variance that an unpaired rule
  (candidate's lower bound above the reference's point) would keep, so it neither waves through
  noise nor demands a huge effect from a small held-out set.
- **Every other gated metric** must not regress beyond ``eval.tolerance``: refused when the
  candidate is lower by more than the tolerance *and* the paired interval lies below 0 (a drop
  the data cannot tell from noise is not read as a loss, the same standard as a win).
- **The general instruction-following check** only blocks when it collapses: a drop of
  ``eval.general_collapse`` or more.

``force=True`` promotes whatever the verdict and the registry's promotion log records that it
was forced, with the verdict it overrode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import EvaluationError, FlowError
from flowloop.evaluate.lineage import BASE, current_version, resolve_model
from flowloop.evaluate.results import EvalResult
from flowloop.evaluate.stats import Interval, bootstrap_intervals
from flowloop.evaluate.suites import GUARD_SUITES, SUITES
from flowloop.repo import FlowRepo
from flowloop.types import StageProgress


@dataclass
class GateRow:
    """One metric side by side: reference, candidate, the paired difference and its verdict."""

    metric: str
    reference: float
    candidate: float
    diff: float
    diff_ci: Interval
    n: int
    verdict: str  # improved | not improved | ok | regressed | collapsed
    primary: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "reference": round(self.reference, 4),
            "candidate": round(self.candidate, 4),
            "diff": round(self.diff, 4),
            "diff_ci": [round(self.diff_ci[0], 4), round(self.diff_ci[1], 4)],
            "n": self.n,
            "verdict": self.verdict,
            "primary": self.primary,
        }


@dataclass
class GateDecision:
    candidate: str
    reference: str
    dataset: str
    passed: bool
    promoted: bool
    forced: bool
    reason: str
    rows: list[GateRow] = field(default_factory=list)
    results: dict[str, EvalResult] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "reference": self.reference,
            "dataset": self.dataset,
            "passed": self.passed,
            "promoted": self.promoted,
            "forced": self.forced,
            "reason": self.reason,
            "rows": [r.to_json() for r in self.rows],
            "results": {k: v.to_json() for k, v in self.results.items()},
        }


def paired_diff(suite: str, metric: str, candidate: EvalResult, reference: EvalResult, samples: int, seed: int) -> tuple[float, Interval, int]:
    """Difference of ``suite.metric`` (candidate - reference) over shared examples, with its 95% interval."""
    statistic = SUITES[suite][0]
    cand = {d["id"]: d for d in candidate.suites[suite].details}
    ref = {d["id"]: d for d in reference.suites[suite].details}
    ids = [i for i in cand if i in ref]
    if not ids:
        # No per-example scores in common: fall back to the unpaired rule, expressed as an interval.
        c, r = candidate.suites[suite], reference.suites[suite]
        lo = c.ci.get(metric, (c.metrics[metric],) * 2)[0] - r.metrics[metric]
        hi = c.ci.get(metric, (c.metrics[metric],) * 2)[1] - r.metrics[metric]
        return c.metrics[metric] - r.metrics[metric], (lo, hi), 0
    c_rows, r_rows = [cand[i] for i in ids], [ref[i] for i in ids]

    def diff(idx: Any) -> dict[str, float]:
        return {"diff": statistic(c_rows, idx)[metric] - statistic(r_rows, idx)[metric]}

    point = diff(range(len(ids)))["diff"]
    return point, bootstrap_intervals(len(ids), diff, samples, seed)["diff"], len(ids)


def compare(candidate: EvalResult, reference: EvalResult, settings: Any) -> tuple[bool, str, list[GateRow]]:
    """The gate's verdict on two results of the same dataset: (passed, reason, rows)."""
    ev = settings.eval
    primary_suite, _, primary_metric = ev.primary_metric.partition(".")
    if primary_suite not in SUITES or primary_metric not in SUITES[primary_suite][1]:
        raise EvaluationError(f"unknown primary metric {ev.primary_metric!r}", field="eval.primary_metric", hint="e.g. planner.f1, planning.f1, preference.win_rate")
    if primary_suite not in candidate.suites or primary_suite not in reference.suites:
        raise EvaluationError(
            f"the primary metric {ev.primary_metric} could not be measured (no held-out {primary_suite} data)",
            hint="record more work and rebuild the dataset, or promote with --force",
        )
    rows: list[GateRow] = []
    for suite, (_, _, gated) in SUITES.items():
        if suite not in candidate.suites or suite not in reference.suites:
            continue
        for metric in gated:
            diff, ci, n = paired_diff(suite, metric, candidate, reference, ev.bootstrap_samples, ev.seed)
            c, r = candidate.suites[suite].metrics[metric], reference.suites[suite].metrics[metric]
            is_primary = suite == primary_suite and metric == primary_metric
            if is_primary:
                verdict = "improved" if ci[0] > 0 else "not improved"
            elif suite in GUARD_SUITES:
                verdict = "collapsed" if r - c >= ev.general_collapse else "ok"
            else:
                verdict = "regressed" if (r - c > ev.tolerance and ci[1] < 0) else "ok"
            rows.append(GateRow(f"{suite}.{metric}", r, c, diff, ci, n, verdict, is_primary))
    primary = next(row for row in rows if row.primary)
    bad = [row for row in rows if row.verdict in ("regressed", "collapsed")]
    if primary.verdict != "improved":
        reason = (
            f"{primary.metric} did not improve beyond its interval: {primary.reference:.3f} -> {primary.candidate:.3f} "
            f"(paired difference {primary.diff:+.3f}, 95% CI [{primary.diff_ci[0]:+.3f}, {primary.diff_ci[1]:+.3f}] includes or is below 0)"
        )
        return False, reason, rows
    if bad:
        what = "; ".join(f"{row.metric} {row.verdict} {row.reference:.3f} -> {row.candidate:.3f}" for row in bad)
        return False, f"{primary.metric} improved, but {what} (tolerance {ev.tolerance})", rows
    reason = (
        f"{primary.metric} improved {primary.reference:.3f} -> {primary.candidate:.3f} "
        f"(paired difference {primary.diff:+.3f}, 95% CI [{primary.diff_ci[0]:+.3f}, {primary.diff_ci[1]:+.3f}]); "
        f"no other suite regressed beyond {ev.tolerance}"
    )
    return True, reason, rows


def gated_promote(
    repo: FlowRepo,
    version: str,
    force: bool = False,
    progress: StageProgress | None = None,
    *,
    note: str = "",
    actor: str = "flowloop",
    factory: Any = None,
    max_examples: int | None = None,
) -> GateDecision:
    """Evaluate ``version`` against ``current`` (or the base model) and promote it if the gate passes.

    ``note`` (a human's reason) and ``actor`` go into the registry's promotion log with the verdict.
    """
    from flowloop.evaluate import data as eval_data
    from flowloop.evaluate.runner import EvalData, evaluate_model
    from flowloop.models.registry import Registry

    candidate = resolve_model(repo, version)
    if candidate.is_base:
        raise EvaluationError("the base model cannot be promoted", field="version", hint="promote a trained version like v3")
    reference = current_version(repo) or BASE
    if reference == candidate.version:
        raise EvaluationError(f"{candidate.version} is already current", field="version")
    dataset = str(candidate.manifest.get("dataset_version") or "latest")
    decision = GateDecision(candidate.version, reference, dataset, passed=False, promoted=False, forced=False, reason="")
    try:
        shared = EvalData(repo, eval_data.resolve_dataset(repo, dataset), progress, max_examples)
        decision.dataset = shared.ds.version
        cand = evaluate_model(repo, candidate.version, progress=progress, factory=factory, data=shared)
        ref = evaluate_model(repo, reference, progress=progress, factory=factory, data=shared)
        decision.results = {candidate.version: cand, reference: ref}
        decision.passed, decision.reason, decision.rows = compare(cand, ref, repo.settings)
    except FlowError as exc:
        if not force:
            raise
        decision.reason = f"not evaluated: {exc.render()}"
    if decision.passed or force:
        decision.forced = not decision.passed
        log_reason = decision.reason if decision.passed else f"forced over the gate: {decision.reason}"
        if note:
            log_reason = f"{note} ({log_reason})"
        Registry(repo).promote(candidate.version, log_reason, forced=decision.forced, actor=actor)
        decision.promoted = True
    return decision
