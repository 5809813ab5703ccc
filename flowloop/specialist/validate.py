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
    """A reward version: asked of the warm server when one runs (``warm`` says so), else loaded
    here, once, when the first units are scored."""

    def __init__(self, repo: FlowRepo, version: Any) -> None:
        from flowloop.models.reward import calibration, threshold_of

        self.repo, self.version = repo, version
        self.name, self.threshold = f"reward {version.version}", threshold_of(version)
        self.calibration = calibration(version)
        self.warm = False

    def scores(self, units: list[Unit]) -> list[float]:
        from flowloop.models.reward import load_reward, reward_input
        from flowloop.specialist.warm_scoring import warm_scores

        texts = [reward_input(u.text, f"File: {u.path}" if u.kind == "hunk" else "") for u in units]
        found = warm_scores(self.repo, self.version.version, texts)
        self.warm = found is not None
        return found if found is not None else load_reward(self.repo, self.version).score(texts)


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
    from flowloop.pipeline.prompts import OK, VIOLATION, p_ok, review_messages

    pairs = []
    for text, context in items:
        prompt = review_messages(settings, text, context)
        pairs += [(prompt, VIOLATION), (prompt, OK)]
    scored = model.loglikelihood_many(pairs, end_of_turn=False)
    return [p_ok(scored[i][0] - scored[i + 1][0]) for i in range(0, len(scored), 2)]


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


@dataclass
class PlanScores:
    """What :func:`score_plans` found: one P(compliant) per plan, in order, and what scored them."""

    scores: list[float]
    scorer: str  # "reward vN" | "reviewer <model>"
    threshold: float
    notes: list[str] = field(default_factory=list)

    @property
    def ranking(self) -> list[int]:
        """Plan indices, best (highest score) first; ties keep the given order."""
        return sorted(range(len(self.scores)), key=lambda i: -self.scores[i])


def score_plans(repo: FlowRepo, plans: list[str], *, model: str = "current", require_model: bool = False) -> PlanScores:
    """Score plan texts with the promoted reward model, exactly as ``flow validate --plan`` scores
    one (the same classifier input), e.g. to rank the N plans of ``flow plan``.

    ``model``: ``current`` (the promoted reward model), ``latest`` or ``vN``. With no reward model
    the generative reviewer scores and ``notes`` says so; ``require_model`` raises instead.
    An empty list scores nothing and loads no model."""
    if not plans:
        return PlanScores([], "none", 0.0)
    scorer, notes = choose_scorer(repo, model, require_model)
    units = [Unit(f"plan-{n}", "plan", f"plan {n + 1}", 1, text.strip()) for n, text in enumerate(plans)]
    return PlanScores(scorer.scores(units), scorer.name, scorer.threshold, notes)


def _cited(hits: Any) -> list[dict[str, Any]]:
    return [{"id": h.id, "title": h.title, "path": h.path, "score": round(h.score, 4)} for h in hits]


def conventions_for(repo: FlowRepo, units: list[Unit], k: int = 3) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """The ``k`` documents retrieved for each unit (id, title, path, score); a note when no index.
    A running ``flow serve`` answers them warm; otherwise the index is opened here."""
    from flowloop.index.warm import warm_search

    warm = {u.id: warm_search(repo, u.query, k) for u in units}
    if all(hits is not None for hits in warm.values()):
        return {uid: _cited(hits) for uid, hits in warm.items()}, ""
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
            found[unit.id] = _cited(hits)
    finally:
        retriever.close()
    return found, ""


def nothing_to_validate(units: Units) -> str:
    """Why an input with no units passes: empty, or every part of it skipped (named apart)."""
    if units.skipped:
        return (f"nothing to validate: every change in the {units.source} was skipped "
                f"({len(units.skipped)} part(s) skipped, each named with its reason)")
    if units.source.startswith("plan "):
        return f"nothing to validate: the {units.source} is empty"
    return f"nothing to validate: the {units.source} has no changes to score"


def validate(repo: FlowRepo, units: Units, *, model: str = "current", require_model: bool = False,
             scorer: Scorer | None = None, cite: int = 3, threshold: float | None = None) -> Report:
    """Score every unit, flag those below the threshold and cite conventions for them.

    ``threshold`` overrides the scorer's (the precision/recall trade-off, moved by hand)."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValidateError(f"the threshold must be between 0 and 1, not {threshold}", field="--threshold")
    if not units.units:
        return Report(units.source, "none", 0.0, skipped=units.skipped, notes=[nothing_to_validate(units)])
    notes: list[str] = []
    if scorer is None:
        scorer, notes = choose_scorer(repo, model, require_model)
    line = scorer.threshold if threshold is None else threshold
    if threshold is not None:
        notes.append(f"threshold {threshold:g} given by hand (the model's is {scorer.threshold:.3f})")
    scores = scorer.scores(units.units)
    if getattr(scorer, "warm", False):
        notes.append("scored by the warm server (`flow serve`)")
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
