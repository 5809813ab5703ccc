"""Outcome weights: how what happened after a task scales the examples of that task.

Outcome events (category B) never make a training pair on their own (seed: "use it to weight
the preference data from category A, not to construct training pairs"). Each example whose
``task`` has outcomes gets a weight; examples of tasks without outcomes keep 1.0.

    weight = 1.0
    reverted > 0                      -> dropped (weight 0: the work did not hold up)
    hotfix > 0                        -> x 0.5   (needed an urgent fix within days)
    ci_passed == 0 (any run)          -> x 0.7   (did not pass CI first time)
    min time_to_green_s <= fast_green_s -> x 1.1 (green quickly: the plan was right)
    max error_rate > error_rate_threshold -> x 0.6 (post-deploy errors)
    weight = clip(weight, 0.2, 1.5)

Each factor applies at most once per task however many events report it. ``fast_green_s``
and ``error_rate_threshold`` are ``[dataset]`` settings. Unknown metrics are ignored.
"""

from __future__ import annotations

from typing import Any, Iterable

from flowloop.signals.events import OutcomeEvent

MIN_WEIGHT = 0.2
MAX_WEIGHT = 1.5
HOTFIX = 0.5
CI_FAILED = 0.7
FAST_GREEN = 1.1
ERRORS = 0.6


def outcome_weight(outcomes: Iterable[OutcomeEvent], fast_green_s: float, error_rate_threshold: float) -> float:
    """The weight of a task's examples given its outcomes (0.0 means drop them)."""
    by_metric: dict[str, list[float]] = {}
    for event in outcomes:
        by_metric.setdefault(event.metric, []).append(float(event.value))
    if any(v > 0 for v in by_metric.get("reverted", [])):
        return 0.0
    weight = 1.0
    if any(v > 0 for v in by_metric.get("hotfix", [])):
        weight *= HOTFIX
    if any(v == 0 for v in by_metric.get("ci_passed", [])):
        weight *= CI_FAILED
    greens = by_metric.get("time_to_green_s", [])
    if greens and min(greens) <= fast_green_s:
        weight *= FAST_GREEN
    rates = by_metric.get("error_rate", [])
    if rates and max(rates) > error_rate_threshold:
        weight *= ERRORS
    return min(max(weight, MIN_WEIGHT), MAX_WEIGHT)


def task_weights(outcomes: dict[str, list[OutcomeEvent]], settings: Any) -> dict[str, float]:
    """The weight of every task that has outcomes."""
    ds = settings.dataset
    return {
        task: outcome_weight(events, ds.fast_green_s, ds.error_rate_threshold) for task, events in outcomes.items()
    }
