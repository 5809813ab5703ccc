"""What one run of the loop did, for the CLI's summary, ``flow loop --json`` and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowloop.evaluate.results import LOCALIZER_BASELINE
from flowloop.loop.results import EvaluateResult


@dataclass
class LoopSummary:
    run: int
    resumed: bool = False
    nothing_new: bool = False
    messages: list[str] = field(default_factory=list)
    dataset: str | None = None
    trained: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    current: str | None = None
    planning: dict[str, dict[str, Any]] = field(default_factory=dict)  # side-by-side numbers
    report: str | None = None
    wall_s: float = 0.0
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "resumed": self.resumed,
            "nothing_new": self.nothing_new,
            "messages": self.messages,
            "dataset": self.dataset,
            "trained": self.trained,
            "promoted": self.promoted,
            "current": self.current,
            "planning": self.planning,
            "report": self.report,
            "wall_s": round(self.wall_s, 1),
            "stages": self.stages,
        }


def planning_numbers(evaluated: EvaluateResult, trained: list[str]) -> dict[str, dict[str, Any]]:
    """Base, retrieval-only, the localizer alone, specialist alone, specialist with context and the
    full planner: the headline comparison."""
    models = evaluated.models
    if not models:
        return {}
    newest = trained[-1] if trained and trained[-1] in models else next(reversed(models))
    result = models[newest]
    out: dict[str, dict[str, Any]] = {}
    if "planning" in models.get("base", {}).get("suites", {}):
        out["base"] = models["base"]["suites"]["planning"]
    baselines = result.get("baselines", {})
    if "retrieval_only" in baselines:
        out["retrieval_only"] = baselines["retrieval_only"]["planning"]
    if LOCALIZER_BASELINE in baselines:
        out["localizer alone"] = baselines[LOCALIZER_BASELINE]["planning"]
    if newest != "base":
        if "alone" in baselines:
            out[f"{newest} alone"] = baselines["alone"]["planning"]
        if "planning" in result.get("suites", {}):
            out[f"{newest} with context"] = result["suites"]["planning"]
    if "planner" in result.get("suites", {}):
        out[f"full planner ({newest})"] = result["suites"]["planner"]
    return out
