"""The localizer on held-out tasks, against retrieval-only, and the gate that promotes it.

A localizer version is scored on the held-out tasks (``eval_planning``) of the dataset it was
trained on, each task answered as of its own planning moment from the full work history. The
reference is the promoted localizer, or retrieval-only (the files of the most similar earlier
tasks, exactly the planning suite's baseline: the same history, the same ``similar_tasks``)
when none is promoted. The rule is the specialist gate's primary rule: the paired bootstrap
95% interval of candidate minus reference F1 must lie above zero. Results are written to
``.flow/state/evals/localizer/<version>.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import EvaluationError
from flowloop.evaluate import data as eval_data
from flowloop.evaluate.results import EVALS_DIR
from flowloop.evaluate.stats import Interval, bootstrap_intervals, set_score
from flowloop.evaluate.suites import planning
from flowloop.localize.api import Localization, Localizer
from flowloop.localize.features import FeatureBuilder
from flowloop.localize.model import LocalizerModel
from flowloop.localize.service import builder_for
from flowloop.models.registry import ModelVersion, Registry
from flowloop.passes import get_pass
from flowloop.pipeline.records import WorkRecord, parse_iso
from flowloop.repo import FlowRepo

PASS = "localizer"
RETRIEVAL = "retrieval-only"


def registry(repo: FlowRepo) -> Registry:
    return Registry(repo, get_pass(PASS).family)


def heldout_tasks(ds: eval_data.DatasetRef, limit: int = 0, seed: int = 0) -> list[WorkRecord]:
    out = []
    for row in eval_data.planning_rows(ds, limit, seed):
        as_of = parse_iso(row.get("as_of") or row.get("time"))
        if as_of is None:
            raise EvaluationError(f"held-out task {row['task']} has no time", path=ds.file("eval_planning"), field="as_of")
        out.append(WorkRecord(str(row["task"]), str(row["description"]), [str(f) for f in row["files"]], as_of, as_of,
                              str(row.get("id") or row["task"])))
    return out


def _detail(task: WorkRecord, predicted: list[str]) -> dict[str, Any]:
    truth = [planning.normalise_path(f) for f in task.files]
    score = set_score(predicted, truth)
    return {"id": task.event_id, "task": task.task, "precision": score.precision, "recall": score.recall,
            "f1": score.f1, "predicted": predicted, "truth": truth}


def localizer_details(localizer: Localizer, tasks: Sequence[WorkRecord]) -> list[dict[str, Any]]:
    return [_detail(t, localizer.localize(t.description, t.as_of, exclude_task=t.task).files) for t in tasks]


def retrieval_details(builder: FeatureBuilder, tasks: Sequence[WorkRecord], k: int) -> list[dict[str, Any]]:
    """The planning suite's retrieval-only answers (its ``retrieval_files`` over the top ``k``)."""
    out = []
    for t in tasks:
        similar = builder.tasks.similar(t.description, before=t.as_of, k=k, exclude_task=t.task)
        found = [planning.SimilarTask(s.task, s.score, list(s.files)) for s in similar]
        out.append(_detail(t, planning.retrieval_files(found)))
    return out


def trained_tasks(repo: FlowRepo, version: ModelVersion) -> set[str]:
    """The tasks a localizer version was trained on (its dataset's ``work_train`` rows)."""
    ds = eval_data.resolve_dataset(repo, str(version.manifest.get("dataset_version") or "latest"))
    return {str(row.get("task")) for row in eval_data.read_jsonl(ds.file(get_pass(PASS).train_file))}


def _usable(repo: FlowRepo, items: Sequence[planning.PlanningItem]) -> tuple[ModelVersion | None, str]:
    """The promoted localizer if it never trained on ``items``, else None and why not."""
    current = registry(repo).current()
    if current is None:
        return None, "no localizer promoted"
    leaked = trained_tasks(repo, current) & {item.task for item in items}
    if leaked:
        return None, f"localizer {current.version} was trained on {len(leaked)} of these held-out tasks"
    return current, current.version


def _as_records(items: Sequence[planning.PlanningItem]) -> list[WorkRecord]:
    tasks = []
    for item in items:
        moment = parse_iso(item.as_of or item.time)
        if moment is None:
            raise EvaluationError(f"held-out task {item.task} has no time", field="as_of",
                                  hint="rebuild the dataset with `flow dataset build`")
        tasks.append(WorkRecord(item.task, item.description, list(item.files), moment, moment, item.id))
    return tasks


def planning_row(repo: FlowRepo, items: Sequence[planning.PlanningItem]) -> tuple[list[dict[str, Any]] | None, str]:
    """The planning suite's "localizer alone" answers on ``items``, or None and why not: no
    localizer promoted, or the promoted one was trained on some of these tasks."""
    current, why = _usable(repo, items)
    if current is None:
        return None, why
    history, builder = builder_for(repo)
    return localizer_details(load_version(current, history, builder), _as_records(items)), current.version


def planner_localizations(repo: FlowRepo, items: Sequence[planning.PlanningItem]) -> tuple[list[Localization], str]:
    """What the full planner starts from on each held-out task, as of its moment: the promoted
    localizer when it never saw these tasks, else retrieval-only; and which it was."""
    current, why = _usable(repo, items)
    history, builder = builder_for(repo)
    localizer = load_version(current, history, builder) if current else Localizer(history, None, builder=builder)
    found = [localizer.localize(t.description, t.as_of, exclude_task=t.task) for t in _as_records(items)]
    return found, f"localizer {why}" if current else f"{RETRIEVAL} ({why})"


@dataclass
class LocalizerGate:
    candidate: str
    reference: str
    dataset: str
    n: int
    candidate_f1: float
    reference_f1: float
    diff: float
    diff_ci: Interval
    promoted: bool
    reason: str
    details: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "reference": self.reference, "dataset": self.dataset, "n": self.n,
                "candidate_f1": round(self.candidate_f1, 4), "reference_f1": round(self.reference_f1, 4),
                "diff": round(self.diff, 4), "diff_ci": [round(self.diff_ci[0], 4), round(self.diff_ci[1], 4)],
                "promoted": self.promoted, "reason": self.reason, "details": self.details}


def paired(candidate: list[dict[str, Any]], reference: list[dict[str, Any]], samples: int, seed: int) -> tuple[float, Interval]:
    """Mean F1 difference (candidate - reference) over the same tasks and its paired 95% interval."""

    def diff(idx: Sequence[int]) -> dict[str, float]:
        return {"diff": planning.statistic(candidate, idx)["f1"] - planning.statistic(reference, idx)["f1"]}

    return diff(range(len(candidate)))["diff"], bootstrap_intervals(len(candidate), diff, samples, seed)["diff"]


def load_version(version: ModelVersion, history: Sequence[WorkRecord], builder: FeatureBuilder) -> Localizer:
    return Localizer(history, LocalizerModel.load(version.model_dir), version.version, builder=builder)


def gate_localizer(repo: FlowRepo, version: str, dataset: str | None = None, force: bool = False,
                   actor: str = "flowloop") -> LocalizerGate:
    """Score localizer ``version`` against the current one (or retrieval-only) and promote it if better.

    ``dataset`` (the loop passes the one it trained on) must be the version's own: its held-out
    tasks are the ones the version never saw."""
    reg = registry(repo)
    candidate = reg.get(version)
    current = reg.current()
    if current is not None and current.version == candidate.version:
        raise EvaluationError(f"localizer {candidate.version} is already current", field="version")
    trained_on = str(candidate.manifest.get("dataset_version") or "latest")
    ds = eval_data.resolve_dataset(repo, dataset or trained_on)
    if ds.content_hash != candidate.manifest.get("dataset_hash"):
        raise EvaluationError(f"localizer {candidate.version} was trained on another build of {ds.version}",
                              path=ds.path, hint="retrain it with `flow train localizer`")
    tasks = heldout_tasks(ds)
    if not tasks:
        raise EvaluationError(f"dataset {ds.version} has no held-out tasks with files", path=ds.path,
                              hint="record more work (`flow collect git`) and rebuild with `flow dataset build`")
    history, builder = builder_for(repo)
    cand = localizer_details(load_version(candidate, history, builder), tasks)
    if current is not None:
        reference, ref = f"localizer {current.version}", localizer_details(load_version(current, history, builder), tasks)
    else:
        reference, ref = RETRIEVAL, retrieval_details(builder, tasks, repo.settings.dataset.similar_tasks)
    ev = repo.settings.eval
    diff, ci = paired(cand, ref, ev.bootstrap_samples, ev.seed)
    c_f1, r_f1 = planning.statistic(cand, range(len(cand)))["f1"], planning.statistic(ref, range(len(ref)))["f1"]
    passed = ci[0] > 0
    words = "improved" if passed else "did not improve beyond its interval"
    reason = (f"localizer planning.f1 {words}: {reference} {r_f1:.3f} -> {candidate.version} {c_f1:.3f} "
              f"(paired difference {diff:+.3f}, 95% CI [{ci[0]:+.3f}, {ci[1]:+.3f}], n={len(tasks)})")
    promoted = passed or force
    if promoted:
        reg.promote(candidate.version, reason if passed else f"forced over the gate: {reason}", forced=not passed, actor=actor)
    gate = LocalizerGate(candidate.version, reference, ds.version, len(tasks), c_f1, r_f1, diff, ci, promoted, reason,
                         {"candidate": cand, "reference": ref})
    path = repo.state_dir / EVALS_DIR / PASS / f"{candidate.version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(gate.to_json(), indent=1) + "\n")
    return gate
