"""The learning curve: knowledge accuracy against minutes trained, from the registry alone.

A training run stopped by its time budget (``[train] max_minutes``, a pass's ``loop_minutes``)
registers what it has and resumes the next night, so one run leaves several versions with the
same ``run_id``, each with the seconds its session trained. Summed in version order they give
the minutes behind each version; the stored evaluations of those versions give the curve.
Nothing is measured here: a version that was never evaluated on the knowledge suite is not on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowloop.evaluate.results import EvalResult
from flowloop.report import svg

METRICS = (("knowledge", "accuracy", "knowledge accuracy"), ("general", "accuracy", "general check"))


@dataclass
class CurvePoint:
    version: str
    minutes: float
    steps: int
    result: EvalResult


@dataclass
class Curve:
    """One run's evaluated versions, oldest first; ``base`` the base model's result (0 minutes)."""

    run_id: str
    points: list[CurvePoint] = field(default_factory=list)
    base: EvalResult | None = None


def training_curve(versions: list[Any], results: dict[str, EvalResult]) -> Curve | None:
    """The newest run with at least two versions evaluated on the knowledge suite, or None.

    ``versions``: the registry's versions, oldest first; ``results``: the latest result per model."""
    runs: dict[str, list[Any]] = {}
    for version in versions:
        run_id = version.manifest.get("run_id")
        if run_id:
            runs.setdefault(str(run_id), []).append(version)
    for run_id, members in reversed(list(runs.items())):
        curve, minutes = Curve(run_id, base=results.get("base")), 0.0
        for version in members:
            minutes += float(version.metrics.get("seconds") or 0.0) / 60.0
            result = results.get(version.version)
            if result is not None and "knowledge" in result.suites:
                curve.points.append(CurvePoint(version.version, minutes, int(version.metrics.get("steps") or 0), result))
        if len(curve.points) >= 2:
            return curve
    return None


def curve_chart(curve: Curve) -> str:
    """Knowledge accuracy and the general check against minutes trained, with chance as a line."""
    rows: list[tuple[str, EvalResult]] = [(f"{p.minutes:.0f} min ({p.version})", p.result) for p in curve.points]
    if curve.base is not None and "knowledge" in curve.base.suites:
        rows.insert(0, ("0 min (base)", curve.base))
    series = []
    for suite, metric, name in METRICS:
        found = [r.suites.get(suite) for _, r in rows]
        series.append(svg.Series(name, [s.metrics.get(metric) if s else None for s in found],
                                 [s.ci.get(metric) if s else None for s in found]))
    options = int(curve.points[-1].result.settings.get("knowledge_options") or 4)
    series.append(svg.Series(f"chance (1/{options})", [1.0 / options] * len(rows)))
    title = f"Knowledge accuracy against minutes trained, run {curve.run_id} (95% CI)"
    return svg.line_chart("chart-learning-curve", title, [label for label, _ in rows], series, "accuracy", y_floor=1.0)
