"""``run_loop``: the product's main job, both loops in one call, safe to run on a schedule.

Stages, in order (each recorded in the run state, so a rerun after an interrupt continues at
the first unfinished one):

1. ``collect``: mine new git history into the signals store (when the repository is a git
   work tree);
2. ``dataset``: build the next dataset version (reused when nothing changed), unless the
   inputs are exactly those of the last finished run: then the run ends with "nothing new";
3. ``train_sft`` / ``train_dpo``: each pass trains only when its own data is ready: the first
   time when the dataset meets the pass's threshold, later when at least
   ``loop.min_new_sft_examples`` / ``loop.min_new_dpo_pairs`` examples are new since the
   dataset that pass last trained on; steps capped by ``loop.sft_max_steps`` / ``dpo_max_steps``;
4. ``evaluate``: base, current and the newest candidate on the same held-out data;
5. ``promote``: candidates through the gate, newest first, until one is promoted;
6. ``report``: rewrite the HTML report.

Why a separate package and not ``flowloop.evaluate``: the loop orchestrates every part
(signals, pipeline, training, evaluation); evaluation is one of its stages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowloop.errors import EvaluationError
from flowloop.git import is_toplevel
from flowloop.loop.lock import LOCK_NAME, LoopLock
from flowloop.loop.state import RunState, input_fingerprint, load_state, mark, now, save_state
from flowloop.repo import FlowRepo

if TYPE_CHECKING:
    from flowloop.train.types import TrainResult

Progress = Callable[[str, int, int], None] | None


@dataclass
class LoopSummary:
    """What one run did, for the CLI's summary and for tests."""

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


def _is_git_work_tree(repo: FlowRepo) -> bool:
    # Only the repository's own history: a .flow project inside a bigger checkout (an example
    # folder) must not mine its parent's commits. A linked worktree is its own top level.
    return is_toplevel(repo.root)


def _signal_count(repo: FlowRepo) -> int:
    from flowloop.signals.store import open_store

    with open_store(repo) as store:
        return store.count()


def _stage_collect(repo: FlowRepo, progress: Progress) -> dict[str, Any]:
    if not _is_git_work_tree(repo):
        return {"git": False, "added": 0, "message": "not a git work tree: no history to collect"}
    from flowloop.signals.collect_git import collect_git

    result = collect_git(repo, progress=_stage(progress, "collect git"))
    return {"git": True, "added": result.added, "new_commits": result.new_commits, "work_records": result.work_records}


def _stage(progress: Progress, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _stage_dataset(repo: FlowRepo, progress: Progress) -> dict[str, Any]:
    from flowloop.pipeline.api import build_dataset, check_threshold

    manifest = build_dataset(repo, progress=_stage(progress, "dataset"))
    sft = check_threshold(manifest, "sft", repo.settings.dataset.sft_threshold)
    dpo = check_threshold(manifest, "dpo", repo.settings.dataset.dpo_threshold)
    return {
        "version": f"v{manifest.version}",
        "reused": manifest.reused,
        "content_hash": manifest.content_hash,
        "sft": {"count": sft[0], "threshold": sft[1], "ready": sft[2]},
        "dpo": {"count": dpo[0], "threshold": dpo[1], "ready": dpo[2]},
    }


def new_examples(repo: FlowRepo, pass_name: str, dataset: str) -> tuple[int, str | None]:
    """Training rows of ``pass_name`` in ``dataset`` that the last model of that pass never saw.

    Returns ``(count, last_version)``; with no earlier model of that pass every row is new.
    """
    from flowloop.evaluate.data import read_jsonl, version_name
    from flowloop.evaluate.lineage import known_versions, read_manifest

    file = "sft_train.jsonl" if pass_name == "sft" else "dpo_train.jsonl"
    rows = read_jsonl(repo.state_dir / "datasets" / dataset / file)
    last = None
    for version in reversed(known_versions(repo)):
        if read_manifest(repo, version).get("pass") == pass_name:
            last = version
            break
    if last is None:
        return len(rows), None
    trained_on = read_manifest(repo, last).get("dataset_version")
    seen = {row.get("id") for row in read_jsonl(repo.state_dir / "datasets" / version_name(trained_on) / file)} if trained_on else set()
    return sum(1 for row in rows if row.get("id") not in seen), last


def _stage_train(repo: FlowRepo, pass_name: str, dataset: dict[str, Any], progress: Progress) -> dict[str, Any]:
    loop = repo.settings.loop
    ready = dataset[pass_name]
    count, last = new_examples(repo, pass_name, dataset["version"])
    needed = loop.min_new_sft_examples if pass_name == "sft" else loop.min_new_dpo_pairs
    unit = "examples" if pass_name == "sft" else "pairs"
    if not ready["ready"]:
        from flowloop.pipeline.thresholds import readiness_of

        below = readiness_of(pass_name, ready["count"], ready["threshold"])
        return {"trained": False, "message": f"{pass_name.upper()}: below threshold ({below.have} of "
                f"{below.threshold} {below.unit}); {below.next_step}"}
    if last is not None and count < needed:
        return {"trained": False, "message": f"{pass_name.upper()}: {count} new {unit} since {last} (needs {needed})"}
    cap = loop.sft_max_steps if pass_name == "sft" else loop.dpo_max_steps
    steps = min(cap, epoch_steps(repo, pass_name, dataset["version"]))
    result = train_pass(repo, pass_name, dataset["version"], steps, progress)
    message = f"{pass_name.upper()}: trained {result.version} on {count} new {unit} ({steps} steps, cap {cap})"
    if result.data.get("warning"):
        message += f"; warning: {result.data['warning']}"
    return {"trained": True, "version": result.version, "new": count, "message": message}


def epoch_steps(repo: FlowRepo, pass_name: str, dataset: str) -> int:
    """Optimizer steps of ``train.epochs`` over the pass's (weighted) rows.

    The loop's step settings are caps: a small dataset trains its epochs, not 60 steps (on 29
    rows that would be 8 epochs of one repository's first commits).
    """
    import math

    from flowloop.train.data import load_training_data

    train = repo.settings.train
    rows = len(load_training_data(repo, pass_name, dataset, force=True, seed=train.seed, weighting=train.weighting).rows)
    return max(1, math.ceil(rows * train.epochs / max(1, train.batch_size * train.grad_accum)))


def train_pass(repo: FlowRepo, pass_name: str, dataset: str, max_steps: int, progress: Progress) -> "TrainResult":
    """Run one training pass through the trainer's API (``result.version`` is the new ``vN``)."""
    from flowloop.train.api import train

    return train(repo, pass_name, dataset=dataset, max_steps=max_steps, progress=_stage(progress, f"train {pass_name}"))


def _stage_evaluate(repo: FlowRepo, state: RunState, progress: Progress) -> dict[str, Any]:
    """Base, current and the newest candidate on the same held-out data (results are stored).

    An older candidate of the same run (the SFT parent of a new DPO version) is evaluated only
    if the gate refuses the newer one: on CPU a model's eval costs minutes.
    """
    from flowloop.evaluate import data as eval_data
    from flowloop.evaluate.lineage import current_version
    from flowloop.evaluate.runner import EvalData, evaluate_model

    candidates = _candidates(state)
    shared = EvalData(repo, eval_data.resolve_dataset(repo, state.result("dataset")["version"]), progress, _eval_cap(repo))
    current = current_version(repo)
    models = ["base", *([current] if current else []), *candidates[-1:]]
    out: dict[str, Any] = {"models": {}, "errors": {}}
    for model in dict.fromkeys(models):
        try:
            result = evaluate_model(repo, model, data=shared, progress=progress)
        except EvaluationError as exc:  # one model that cannot be paired with this data does not stop the others
            out["errors"][model] = exc.render()
            continue
        out["models"][model] = result.to_json()
    return out


def _eval_cap(repo: FlowRepo) -> int | None:
    return repo.settings.loop.eval_max_examples or None


def _candidates(state: RunState) -> list[str]:
    return [state.result(s)["version"] for s in ("train_sft", "train_dpo") if state.result(s).get("trained")]


def _stage_promote(repo: FlowRepo, state: RunState, progress: Progress) -> dict[str, Any]:
    """Newest candidate first through the gate; the first one promoted ends the stage."""
    from flowloop.evaluate.gate import gated_promote

    decisions = []
    for version in reversed(_candidates(state)):
        try:
            decision = gated_promote(repo, version, progress=progress, max_examples=_eval_cap(repo))
        except EvaluationError as exc:
            decisions.append({"candidate": version, "promoted": False, "reason": exc.render()})
            continue
        decisions.append({"candidate": version, "reference": decision.reference, "promoted": decision.promoted, "reason": decision.reason})
        if decision.promoted:
            break
    return {"decisions": decisions}


def run_loop(repo: FlowRepo, progress: Progress = None) -> LoopSummary:
    """One run of the main job (see the module docstring). Raises ``LockError`` if one is running."""
    started = time.monotonic()
    with LoopLock(repo.state_dir / LOCK_NAME):
        previous = load_state(repo)
        if previous is not None and previous.status != "done":
            state, resumed = previous, True
            state.resumed += 1
        else:
            state = RunState(run=(previous.run + 1) if previous else 1, started_at=now())
            resumed = False
        state.status = "running"
        save_state(repo, state)
        summary = LoopSummary(run=state.run, resumed=resumed)
        try:
            _run_stages(repo, state, previous if not resumed else None, summary, progress)
        except BaseException:
            state.status = "failed"
            save_state(repo, state)
            raise
        state.status, state.finished_at = "done", now()
        save_state(repo, state)
    summary.stages = state.stages
    summary.wall_s = time.monotonic() - started
    return summary


def _run_stages(repo: FlowRepo, state: RunState, previous: RunState | None, summary: LoopSummary, progress: Progress) -> None:
    if not state.done("collect"):
        mark(repo, state, "collect", "done", _stage_collect(repo, progress))
    collected = state.result("collect")
    if collected.get("added"):
        summary.messages.append(f"collected {collected['added']} new events from git history")
    if not state.done("dataset"):
        fingerprint = input_fingerprint(repo, _signal_count(repo))
        if previous is not None and previous.fingerprint == fingerprint:
            state.fingerprint = fingerprint
            summary.nothing_new = True
            summary.messages.append("nothing new since the last run: no new signals, documents or settings")
            for stage in ("dataset", "train_sft", "train_dpo", "evaluate", "promote", "report"):
                mark(repo, state, stage, "done", {"skipped": "nothing new"})
            return
        result = _stage_dataset(repo, progress)
        state.fingerprint = fingerprint
        mark(repo, state, "dataset", "done", result)
    dataset = state.result("dataset")
    summary.dataset = dataset["version"]
    summary.messages.append(f"dataset {dataset['version']}" + (" (unchanged, reused)" if dataset.get("reused") else " built"))
    for pass_name in ("sft", "dpo"):
        stage = f"train_{pass_name}"
        if not state.done(stage):
            mark(repo, state, stage, "running")
            mark(repo, state, stage, "done", _stage_train(repo, pass_name, dataset, progress))
        result = state.result(stage)
        summary.messages.append(result.get("message", ""))
        if result.get("trained"):
            summary.trained.append(result["version"])
    if not summary.trained:
        summary.nothing_new = summary.nothing_new or not collected.get("added")
        summary.messages.append("no pass had enough new data: nothing trained, nothing to evaluate")
        for stage in ("evaluate", "promote"):
            if not state.done(stage):
                mark(repo, state, stage, "done", {"skipped": "nothing trained"})
    if not state.done("evaluate"):
        mark(repo, state, "evaluate", "done", _stage_evaluate(repo, state, progress))
    if not state.done("promote"):
        mark(repo, state, "promote", "done", _stage_promote(repo, state, progress))
    for decision in state.result("promote").get("decisions", []):
        verb = "promoted" if decision["promoted"] else "not promoted"
        summary.messages.append(f"{decision['candidate']} {verb}: {decision['reason']}")
        if decision["promoted"]:
            summary.promoted.append(decision["candidate"])
    summary.planning = _planning_numbers(state.result("evaluate"), summary.trained)
    if not state.done("report"):
        from flowloop.report import build_report

        mark(repo, state, "report", "done", {"path": str(build_report(repo, loop_run=state.to_json()))})
    summary.report = state.result("report").get("path")
    from flowloop.evaluate.lineage import current_version

    summary.current = current_version(repo)


def _planning_numbers(evaluated: dict[str, Any], trained: list[str]) -> dict[str, dict[str, Any]]:
    """Base, retrieval-only, specialist alone, specialist with context: the headline comparison."""
    models = evaluated.get("models", {})
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
    if newest != "base":
        if "alone" in baselines:
            out[f"{newest} alone"] = baselines["alone"]["planning"]
        if "planning" in result.get("suites", {}):
            out[f"{newest} with context"] = result["suites"]["planning"]
    return out
