"""Scores and their uncertainty: set overlap per task, percentile bootstrap intervals.

Held-out sets here are small (tens of tasks), so a point estimate alone invites reading noise
as progress. Every metric is reported with a seeded percentile bootstrap 95% interval over the
examples, and the promotion gate compares two models with a *paired* bootstrap of the
difference (both models scored on the same examples, so the resampling keeps the pairs).

numpy is imported inside the functions: this module is reachable from the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Interval = tuple[float, float]


@dataclass(frozen=True)
class SetScore:
    """Precision, recall and F1 of one predicted set against the true set."""

    precision: float
    recall: float
    f1: float


def set_score(predicted: Sequence[str], truth: Sequence[str]) -> SetScore:
    """Overlap of two sets of names (files). Empty prediction: precision 0, so silence never wins."""
    pred, true = set(predicted), set(truth)
    hit = len(pred & true)
    precision = hit / len(pred) if pred else 0.0
    recall = hit / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return SetScore(precision, recall, f1)


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def bootstrap_intervals(
    n: int,
    statistic: Callable[[Sequence[int]], dict[str, float]],
    samples: int,
    seed: int,
    level: float = 0.95,
) -> dict[str, Interval]:
    """Percentile bootstrap: resample ``n`` example indices with replacement ``samples`` times.

    ``statistic(indices)`` returns named metrics for one resample (so precision and recall of
    one resample stay consistent). Returns ``{name: (low, high)}``; a single example (or none)
    gives a degenerate interval at the point estimate.
    """
    import numpy as np

    point = statistic(list(range(n)))
    if n < 2 or samples < 1:
        return {name: (value, value) for name, value in point.items()}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(samples, n))
    collected: dict[str, list[float]] = {name: [] for name in point}
    for row in draws:
        stats = statistic(row.tolist())
        for name in collected:
            collected[name].append(stats[name])
    alpha = (1.0 - level) / 2.0
    out: dict[str, Interval] = {}
    for name, values in collected.items():
        arr = np.asarray(values, dtype=float)
        out[name] = (float(np.quantile(arr, alpha)), float(np.quantile(arr, 1.0 - alpha)))
    return out


def mean_intervals(
    columns: dict[str, Sequence[float]], samples: int, seed: int
) -> dict[str, Interval]:
    """Bootstrap intervals of the mean of each per-example column (all of one length)."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError("every column needs one value per example")
    n = lengths.pop() if lengths else 0

    def stat(idx: Sequence[int]) -> dict[str, float]:
        return {name: mean([vals[i] for i in idx]) for name, vals in columns.items()}

    return bootstrap_intervals(n, stat, samples, seed)


def paired_difference(
    candidate: Sequence[float], reference: Sequence[float], samples: int, seed: int
) -> tuple[float, Interval]:
    """Mean of ``candidate - reference`` over paired examples and its bootstrap 95% interval.

    The interval excluding 0 from above (low > 0) means the candidate is better beyond noise.
    """
    if len(candidate) != len(reference):
        raise ValueError("paired scores need the same examples on both sides")
    diffs = [c - r for c, r in zip(candidate, reference)]
    interval = mean_intervals({"diff": diffs}, samples, seed)["diff"]
    return mean(diffs), interval


def auroc(scores: Sequence[float], compliant: Sequence[bool]) -> float:
    """P(a violating item scores below a compliant one), ties counted half (0.5 when undefined).

    Scores are P(compliant): a reviewer that ranks every violation below every compliant item
    has AUROC 1, whatever threshold it is later used at."""
    bad = sorted(s for s, ok in zip(scores, compliant) if not ok)
    good = sorted(s for s, ok in zip(scores, compliant) if ok)
    if not bad or not good:
        return 0.5
    import bisect

    # for each compliant score: violations strictly below it, plus half of those equal to it
    wins = sum(bisect.bisect_left(bad, g) + 0.5 * (bisect.bisect_right(bad, g) - bisect.bisect_left(bad, g))
               for g in good)
    return wins / (len(bad) * len(good))


def binary_detection(predicted: Sequence[bool], actual: Sequence[bool]) -> dict[str, float]:
    """Precision and recall of catching positives (violations); 0 when undefined."""
    tp = sum(1 for p, a in zip(predicted, actual) if p and a)
    fp = sum(1 for p, a in zip(predicted, actual) if p and not a)
    fn = sum(1 for p, a in zip(predicted, actual) if a and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    correct = sum(1 for p, a in zip(predicted, actual) if p == a)
    accuracy = correct / len(actual) if actual else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}
