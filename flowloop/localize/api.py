"""Train the localizer on a repository's own history, and localize a new task with it.

``fit`` walks the training tasks oldest first; for each, the candidates and features are
computed as of its planning moment (``as_of``) from the full work history, so every row is
what a planner could have known then, and the label is whether the task really touched the
file. ``Localizer`` answers a new task the same way; with no trained model it falls back to
retrieval-only (the files of the most similar earlier tasks) and says so in ``note``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flowloop.errors import DatasetError
from flowloop.localize.features import FEATURES, Candidates, FeatureBuilder
from flowloop.localize.model import RELATIVE, THRESHOLDS, LocalizerModel, fit_logistic
from flowloop.pipeline.records import WorkRecord

MIN_TRAINING_TASKS = 5
Progress = Callable[[int, int], None]


def f1(predicted: Sequence[str], truth: Sequence[str]) -> float:
    pred, true = set(predicted), set(truth)
    hit = len(pred & true)
    return 2 * hit / (len(pred) + len(true)) if pred and true else 0.0


def retrieval_only(candidates: Candidates) -> list[str]:
    """The files-of-similar-tasks answer: ranked by summed similarity, as many as the nearest task had."""
    if not candidates.similar:
        return []
    nearest = max(candidates.similar, key=lambda s: s.score)
    return candidates.retrieval[: max(1, len(nearest.files))]


@dataclass
class FitReport:
    """What a training run saw: tasks, candidate rows, recall of the candidates, in-sample F1."""

    tasks: int
    rows: int
    positives: int
    candidate_recall: float
    train_f1: float
    retrieval_f1: float
    seconds: float
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def fit(history: Sequence[WorkRecord], tasks: Sequence[WorkRecord], progress: Progress | None = None,
        builder: FeatureBuilder | None = None, l2: float = 1.0) -> tuple[LocalizerModel, FitReport]:
    """Train on ``tasks`` (each with its files), features as of each from ``history``."""
    started = time.monotonic()
    builder = builder or FeatureBuilder(history)
    labelled = [t for t in tasks if t.files]
    rows: list[list[float]] = []
    labels: list[float] = []
    per_task: list[tuple[int, int, list[str], Candidates]] = []
    found = total = 0
    for done, task in enumerate(labelled, start=1):
        cands = builder.candidates(task.description, task.as_of, exclude_task=task.task)
        truth = set(task.files)
        start = len(rows)
        rows.extend(cands.rows)
        labels.extend(1.0 if p in truth else 0.0 for p in cands.paths)
        per_task.append((start, len(rows), task.files, cands))
        found += len(truth & set(cands.paths))
        total += len(truth)
        if progress:
            progress(done, len(labelled))
    positives = int(sum(labels))
    if len([t for t in per_task if t[1] > t[0]]) < MIN_TRAINING_TASKS or positives == 0 or positives == len(labels):
        raise DatasetError(
            f"too little history to train the localizer: {len(labelled)} tasks with files, "
            f"{positives} of {len(labels)} candidate files right",
            hint=f"the localizer needs at least {MIN_TRAINING_TASKS} earlier tasks whose files recur; collect more "
            "history (`flow collect git`)")
    x, y = np.asarray(rows, dtype=float), np.asarray(labels)
    weights, bias, mean, scale = fit_logistic(x, y, l2=l2)
    model = LocalizerModel(list(FEATURES), mean.tolist(), scale.tolist(), weights.tolist(), bias)
    best, relative = max(((t, r) for t in THRESHOLDS for r in RELATIVE),
                         key=lambda tr: (_mean_f1(model, per_task, *tr), -tr[1], -abs(tr[0] - 0.5)))
    model.threshold, model.relative = best, relative
    report = FitReport(
        tasks=len(labelled), rows=len(rows), positives=positives, candidate_recall=found / max(1, total),
        train_f1=_mean_f1(model, per_task, best, relative),
        retrieval_f1=float(np.mean([f1(retrieval_only(c), truth) for _, _, truth, c in per_task])),
        seconds=time.monotonic() - started, threshold=best)
    return model, report


def _mean_f1(model: LocalizerModel, per_task: list[tuple[int, int, list[str], Candidates]], threshold: float,
             relative: float = 0.0) -> float:
    scores = [f1([p for p, _ in model.select(c.paths, c.rows, threshold, relative)], truth) for _, _, truth, c in per_task]
    return float(np.mean(scores)) if scores else 0.0


@dataclass
class Localization:
    """The files a task will probably touch, best first, and which method chose them."""

    files: list[str]
    scores: list[float] = field(default_factory=list)
    method: str = "learned"  # "learned" (a trained localizer) or "retrieval-only"
    version: str | None = None
    note: str = ""
    # every candidate file considered (as of the task): the files a plan may name and be believed
    pool: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "scores": [round(s, 4) for s in self.scores], "method": self.method,
                "version": self.version, "note": self.note}


class Localizer:
    """A trained model (or none: retrieval-only) over one work history."""

    def __init__(self, history: Sequence[WorkRecord], model: LocalizerModel | None, version: str | None = None,
                 builder: FeatureBuilder | None = None) -> None:
        self.builder = builder or FeatureBuilder(history)
        self.model, self.version = model, version

    def localize(self, description: str, before: dt.datetime | None = None, exclude_task: str | None = None) -> Localization:
        text = description.strip()
        if not text:
            raise DatasetError("the task description is empty", field="task", hint='describe the task: flow plan "Add ..."')
        moment = before or dt.datetime.now(dt.timezone.utc)
        cands = self.builder.candidates(text, moment, exclude_task=exclude_task)
        if self.model is None:
            files = retrieval_only(cands)
            return Localization(files, [], "retrieval-only", None,
                                "no trained localizer yet: the files of the most similar earlier tasks "
                                "(run `flow train localizer`)", list(cands.paths))
        rows = cands.rows if self.model.features == list(FEATURES) else self.model.project(FEATURES, cands.rows)
        picked = self.model.select(cands.paths, rows)
        note = "" if picked else "no earlier task resembles this one: no candidate files"
        return Localization([p for p, _ in picked], [s for _, s in picked], "learned", self.version, note,
                            list(cands.paths))
