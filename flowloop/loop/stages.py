"""The loop's stages, one function each; every one returns its typed result (``results.py``).

Order and resumption are :mod:`flowloop.loop.run`'s job; whether a pass trains is
:mod:`flowloop.loop.policy`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flowloop.errors import EvaluationError
from flowloop.git import is_toplevel
from flowloop.loop.policy import plan_pass
from flowloop.loop.results import (
    CollectResult,
    DatasetResult,
    Decision,
    EvaluateResult,
    PassCount,
    PromoteResult,
    TrainStageResult,
)
from flowloop.passes import TrainingPass, passes
from flowloop.repo import FlowRepo

Progress = Callable[[str, int, int], None] | None


def train_stage(spec: TrainingPass) -> str:
    """The run-state name of the stage that trains ``spec``."""
    return f"train_{spec.name}"


def stage_names() -> tuple[str, ...]:
    """Every stage in order; one training stage per registered pass."""
    return ("collect", "dataset", *(train_stage(p) for p in passes()), "evaluate", "promote", "report")


def labelled(progress: Progress, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def collect(repo: FlowRepo, progress: Progress) -> CollectResult:
    # Only the repository's own history: a .flow project inside a bigger checkout (an example
    # folder) must not mine its parent's commits. A linked worktree is its own top level.
    if not is_toplevel(repo.root):
        return CollectResult(git=False, message="not a git work tree: no history to collect")
    from flowloop.signals.collect_git import collect_git

    result = collect_git(repo, progress=labelled(progress, "collect git"))
    return CollectResult(git=True, added=result.added, new_commits=result.new_commits, work_records=result.work_records)


def dataset(repo: FlowRepo, progress: Progress) -> DatasetResult:
    from flowloop.pipeline.api import build_dataset, check_threshold

    manifest = build_dataset(repo, progress=labelled(progress, "dataset"))
    counts = {}
    for spec in passes():
        count, threshold, ready = check_threshold(manifest, spec.name, spec.threshold(repo.settings))
        counts[spec.name] = PassCount(count, threshold, ready)
    return DatasetResult(f"v{manifest.version}", manifest.reused, manifest.content_hash, counts)


def train(repo: FlowRepo, spec: TrainingPass, data: DatasetResult, progress: Progress) -> TrainStageResult:
    """Train ``spec`` when the policy says its data is ready; one line either way."""
    from flowloop.train.api import train as train_pass

    plan = plan_pass(repo, spec, data)
    if not plan.go:
        return TrainStageResult(trained=False, message=plan.reason)
    started = time.monotonic()
    # the pass's loop budget ([train.<name>] loop_minutes) bounds this run; a run the budget
    # stops is kept and the next loop run resumes it where it stopped
    minutes = spec.table(repo.settings).loop_minutes
    settings = repo.settings.train.model_copy(update={"max_minutes": minutes}) if minutes > 0 else None
    result = train_pass(repo, spec.name, dataset=data.version, max_steps=plan.steps, settings=settings,
                        progress=labelled(progress, f"train {spec.name}"))
    message = f"{spec.title}: trained {result.version} on {plan.new} new {spec.new_unit} ({plan.steps} steps, cap {plan.cap})"
    if result.metrics.get("stopped_by") == "time budget":
        message += (f"; stopped by its {minutes:g}-minute budget at step {result.metrics.get('steps')}"
                    " (the next run resumes it)")
    if result.data.get("warning"):
        message += f"; warning: {result.data['warning']}"
    if spec.gate is not None and result.version is not None:
        # A retrieval model is not a specialist: its own gate (held-out future queries) decides
        # now, and it is not handed to the specialist's evaluate and promote stages.
        import importlib

        module, _, name = spec.gate.partition(":")
        try:
            decision = getattr(importlib.import_module(module), name)(repo, result.version, dataset=data.version)
            verdict = "promoted" if decision.promoted else "not promoted"
            message += f"; {spec.family} {result.version} {verdict}: {decision.reason}"
            refit = getattr(decision, "fusion", None)  # a retrieval promotion refits the fusion for its models
            if refit:
                message += f"; fusion {'promoted' if refit.get('promoted') else 'kept'}: {refit.get('reason')}"
        except EvaluationError as exc:
            message += f"; {spec.family} {result.version} not promoted: {exc.render()}"
        return TrainStageResult(trained=True, message=message, version=None, new=plan.new, steps=plan.steps,
                                seconds=time.monotonic() - started)
    return TrainStageResult(trained=True, message=message, version=result.version, new=plan.new, steps=plan.steps,
                            seconds=time.monotonic() - started)


def eval_cap(repo: FlowRepo) -> int | None:
    return repo.settings.loop.eval_max_examples or None


def evaluate(repo: FlowRepo, dataset_version: str, candidates: list[str], progress: Progress) -> EvaluateResult:
    """Base, current and the newest candidate on the same held-out data (results are stored).

    An older candidate of the same run (the SFT parent of a new DPO version) is evaluated only
    if the gate refuses the newer one: on CPU a model's eval costs minutes.
    """
    from flowloop.evaluate import data as eval_data
    from flowloop.evaluate.lineage import current_version
    from flowloop.evaluate.runner import EvalData, evaluate_model

    shared = EvalData(repo, eval_data.resolve_dataset(repo, dataset_version), progress, eval_cap(repo))
    current = current_version(repo)
    out = EvaluateResult()
    for model in dict.fromkeys(["base", *([current] if current else []), *candidates[-1:]]):
        try:
            result = evaluate_model(repo, model, data=shared, progress=progress)
        except EvaluationError as exc:  # one model that cannot be paired with this data does not stop the others
            out.errors[model] = exc.render()
            continue
        out.models[model] = result.to_json()
    return out


def promote(repo: FlowRepo, candidates: list[str], progress: Progress) -> PromoteResult:
    """Newest candidate first through the gate; the first one promoted ends the stage."""
    from flowloop.evaluate.gate import gated_promote

    out = PromoteResult()
    for version in reversed(candidates):
        try:
            decision = gated_promote(repo, version, progress=progress, max_examples=eval_cap(repo))
        except EvaluationError as exc:
            out.decisions.append(Decision(version, False, exc.render()))
            continue
        out.decisions.append(Decision(version, decision.promoted, decision.reason, decision.reference))
        if decision.promoted:
            break
    return out
