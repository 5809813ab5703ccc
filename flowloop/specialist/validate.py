"""``flow validate``: a scoring gate for plans and diffs, in an agent's session and in CI.

Each unit (a plan, a file hunk; see :mod:`flowloop.specialist.units`) gets a score, the
probability that it follows the team's conventions, and is flagged when the score is below the
threshold. The scorer is the promoted reward model (``flowloop.models.reward``) with the
threshold recorded with that version (chosen on held-out data for ``[train.reward]
target_precision``). With no reward model yet, the generative reviewer (the specialist in its
review role: P(OK) against P(VIOLATION) of its first word, threshold 0.5) scores instead and the
report says so; ``require_model`` turns that into an error.

For a flagged unit the conventions it most likely breaks are the documents the index retrieves
for it (its path and changed lines), cited by id. Rendering is :mod:`.validate_formats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import IndexError_, ModelNotFoundError, QueryError, ValidateError
from flowloop.repo import FlowRepo
from flowloop.specialist.units import Unit, Units

REVIEWER_THRESHOLD = 0.5


@dataclass
class Scored:
    """One unit's verdict and the conventions cited for it."""

    unit: Unit
    score: float
    flagged: bool
    conventions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.unit.id, "kind": self.unit.kind, "path": self.unit.path, "line": self.unit.line,
                "end_line": self.unit.end_line or self.unit.line, "score": round(self.score, 4),
                "flagged": self.flagged, "conventions": self.conventions}


@dataclass
class Report:
    """Everything ``flow validate`` found, for any output format."""

    source: str
    scorer: str  # "reward vN" | "reviewer <model>"
    threshold: float
    results: list[Scored] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[Scored]:
        return [r for r in self.results if r.flagged]

    @property
    def passed(self) -> bool:
        return not self.flagged

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "scorer": self.scorer, "threshold": round(self.threshold, 6),
                "passed": self.passed, "units": len(self.results), "flagged": len(self.flagged),
                "results": [r.to_json() for r in self.results], "skipped": self.skipped, "notes": self.notes,
                "calibration": self.calibration}


class Scorer:
    """Scores unit texts; ``name`` and ``threshold`` say what did it and where the line is."""

    name: str
    threshold: float

    def scores(self, units: list[Unit]) -> list[float]:  # pragma: no cover - protocol
        raise NotImplementedError


class RewardScorer(Scorer):
    def __init__(self, repo: FlowRepo, version: Any) -> None:
        from flowloop.models.reward import calibration, load_reward

        self.model = load_reward(repo, version)
        self.name, self.threshold = f"reward {version.version}", self.model.threshold
        self.calibration = calibration(version)

    def scores(self, units: list[Unit]) -> list[float]:
        from flowloop.models.reward import reward_input

        return self.model.score([reward_input(u.text, f"File: {u.path}" if u.kind == "hunk" else "") for u in units])


class ReviewerScorer(Scorer):
    """The generative reviewer: P(OK) against P(VIOLATION) as its first word."""

    def __init__(self, repo: FlowRepo, model: str = "current") -> None:
        from flowloop.inference.registry import get_model

        self.repo = repo
        self.model = get_model(repo, model)
        self.name, self.threshold = f"reviewer {self.model.version}", REVIEWER_THRESHOLD
        self.calibration: dict[str, Any] = {}

    def scores(self, units: list[Unit]) -> list[float]:
        return review_scores(self.model, self.repo.settings, [(u.text, "") for u in units])


def review_scores(model: Any, settings: Any, items: list[tuple[str, str]]) -> list[float]:
    """P(OK) / (P(OK) + P(VIOLATION)) of the review role's first word, per (text, context)."""
    from flowloop.pipeline.prompts import OK, VIOLATION, review_messages

    pairs = []
    for text, context in items:
        prompt = review_messages(settings, text, context)
        pairs += [(prompt, VIOLATION), (prompt, OK)]
    scored = model.loglikelihood_many(pairs, end_of_turn=False)
    out = []
    for i in range(0, len(scored), 2):
        margin = scored[i][0] - scored[i + 1][0]  # log P(VIOLATION) - log P(OK)
        out.append(1.0 / (1.0 + math.exp(max(-60.0, min(60.0, margin)))))
    return out


def choose_scorer(repo: FlowRepo, model: str = "current", require_model: bool = False) -> tuple[Scorer, list[str]]:
    """The reward model ``model`` (``current``: the promoted one), else the generative reviewer."""
    from flowloop.models.reward import resolve_version

    version = resolve_version(repo, model)
    if version is not None:
        return RewardScorer(repo, version), []
    if require_model:
        raise ValidateError("no reward model has been promoted yet", field="--require-model",
                            hint="train one (`flow train reward`, or `flow loop` once its threshold is met), "
                            "or drop --require-model to use the generative reviewer")
    return ReviewerScorer(repo), ["no reward model yet: scored by the generative reviewer (the specialist's review "
                                  "role, threshold 0.5); train one with `flow train reward`"]


def conventions_for(repo: FlowRepo, units: list[Unit], k: int = 3) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """The ``k`` documents retrieved for each unit (id, title, path, score); a note when no index."""
    from flowloop.index.api import Retriever

    try:
        retriever = Retriever(repo, log_mode="pending")
    except (IndexError_, QueryError, ModelNotFoundError) as exc:  # no index yet: the scores still stand
        return {}, f"conventions not cited: {exc.message}"
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        for unit in units:
            try:
                hits = retriever.search(unit.query, k=k, log=False)
            except (IndexError_, QueryError) as exc:
                return found, f"conventions not cited: {exc.message}"
            found[unit.id] = [{"id": h.id, "title": h.title, "path": h.path, "score": round(h.score, 4)} for h in hits]
    finally:
        retriever.close()
    return found, ""


def validate(repo: FlowRepo, units: Units, *, model: str = "current", require_model: bool = False,
             scorer: Scorer | None = None, cite: int = 3, threshold: float | None = None) -> Report:
    """Score every unit, flag those below the threshold and cite conventions for them.

    ``threshold`` overrides the scorer's (the precision/recall trade-off, moved by hand)."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValidateError(f"the threshold must be between 0 and 1, not {threshold}", field="--threshold")
    if not units.units:
        return Report(units.source, "none", 0.0, skipped=units.skipped,
                      notes=[f"nothing to validate: the {units.source} has no changes to score"])
    notes: list[str] = []
    if scorer is None:
        scorer, notes = choose_scorer(repo, model, require_model)
    line = scorer.threshold if threshold is None else threshold
    if threshold is not None:
        notes.append(f"threshold {threshold:g} given by hand (the model's is {scorer.threshold:.3f})")
    scores = scorer.scores(units.units)
    results = [Scored(u, s, s < line) for u, s in zip(units.units, scores)]
    report = Report(units.source, scorer.name, line, results, units.skipped, notes,
                    getattr(scorer, "calibration", {}))
    flagged = report.flagged
    if flagged and cite > 0:
        cited, note = conventions_for(repo, [r.unit for r in flagged], cite)
        for result in flagged:
            result.conventions = cited.get(result.unit.id, [])
        if note:
            report.notes.append(note)
    return report
