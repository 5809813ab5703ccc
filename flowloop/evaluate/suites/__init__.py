"""The eval suites, registered in one dict, and how their per-example scores become metrics.

Each suite module scores examples one by one into ``details`` (one dict per example, with its
``id``) and defines ``statistic(details, indices) -> {metric: value}``. The same statistic gives
the point estimate, the bootstrap interval (resampled indices) and the gate's paired comparison,
so a metric can never be computed two different ways.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flowloop.evaluate.results import SuiteResult
from flowloop.evaluate.stats import bootstrap_intervals
from flowloop.evaluate.retrieval import FILES_METRIC, METRICS as RETRIEVAL_METRICS
from flowloop.evaluate.suites import general, knowledge, planning, preference, retrieval, validation

Details = list[dict[str, Any]]
Statistic = Callable[[Details, Sequence[int]], dict[str, float]]

# suite name -> (its statistic, the metrics it reports, the metrics the gate watches)
SUITES: dict[str, tuple[Statistic, tuple[str, ...], tuple[str, ...]]] = {
    "planning": (planning.statistic, ("f1", "precision", "recall"), ("f1",)),
    # the full planner (localizer + specialist), scored per task like planning
    "planner": (planning.statistic, ("f1", "precision", "recall"), ("f1",)),
    "knowledge": (knowledge.statistic, ("accuracy",), ("accuracy",)),
    "preference": (preference.statistic, ("win_rate", "ties"), ("win_rate",)),
    "validation": (validation.statistic, ("precision", "recall", "f1", "auroc"), ("precision", "recall")),
    "general": (general.statistic, ("accuracy",), ("accuracy",)),
}

# Suites of retrieval systems, not of a model (``flow eval --suite retrieval``): the documents
# and, beside them, the code files. Same shape as ``SUITES``; their gate is the retrieval gate.
SYSTEM_SUITES: dict[str, tuple[Statistic, tuple[str, ...], tuple[str, ...]]] = {
    "retrieval": (retrieval.statistic, RETRIEVAL_METRICS, RETRIEVAL_METRICS),
    "retrieval_files": (retrieval.files_statistic, (FILES_METRIC,), ()),
}

# Suites the gate treats as "reported, not gating unless it collapses".
GUARD_SUITES = ("general",)


def suite_names() -> tuple[str, ...]:
    return tuple(SUITES)


def summarise(name: str, details: Details, samples: int, seed: int) -> SuiteResult:
    """Point estimates, ``n`` and percentile-bootstrap 95% intervals of one suite's details."""
    statistic, reported, _ = SUITES[name] if name in SUITES else SYSTEM_SUITES[name]

    def stat(idx: Sequence[int]) -> dict[str, float]:
        values = statistic(details, idx)
        return {k: values[k] for k in reported}

    point = stat(range(len(details)))
    ci = bootstrap_intervals(len(details), stat, samples, seed)
    return SuiteResult(name=name, metrics=point, n=len(details), ci=ci, details=details)
