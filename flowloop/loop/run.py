"""``run_loop``: the product's main job, both loops in one call, safe to run on a schedule.

Stages, in order (each recorded in the run state, so a rerun after an interrupt continues at
the first unfinished one):

1. ``collect``: mine new git history into the signals store (when the repository is a git
   work tree);
2. ``dataset``: build the next dataset version (reused when nothing changed), unless the
   inputs are exactly those of the last finished run: then the run ends with "nothing new";
3. ``train_<pass>``, one per registered pass in the registry's order: each trains only when its
   own data is ready (``flowloop.loop.policy``);
4. ``evaluate``: base, current and the newest candidate on the same held-out data;
5. ``promote``: candidates through the gate, newest first, until one is promoted;
6. ``report``: rewrite the HTML report.

Each stage's start and end reach ``on_event`` (for logs when the output is not a terminal).
Why a separate package and not ``flowloop.evaluate``: the loop orchestrates every part
(signals, pipeline, training, evaluation); evaluation is one of its stages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flowloop.loop import stages
from flowloop.loop.lock import LOCK_NAME, LoopLock
from flowloop.loop.results import (
    CollectResult,
    DatasetResult,
    EvaluateResult,
    PromoteResult,
    ReportResult,
    StageEvent,
    TrainStageResult,
)
from flowloop.loop.state import RunState, input_fingerprint, load_state, mark, now, save_state
from flowloop.loop.summary import LoopSummary, planning_numbers
from flowloop.passes import passes
from flowloop.repo import FlowRepo

Progress = stages.Progress
OnEvent = Callable[[StageEvent], None] | None

__all__ = ["LoopSummary", "run_loop"]


def _signal_count(repo: FlowRepo) -> int:
    from flowloop.signals.store import open_store

    with open_store(repo) as store:
        return store.count()


def run_loop(repo: FlowRepo, progress: Progress = None, on_event: OnEvent = None) -> LoopSummary:
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
            _Stages(repo, state, progress, on_event).run(previous if not resumed else None, summary)
        except BaseException:
            state.status = "failed"
            save_state(repo, state)
            raise
        state.status, state.finished_at = "done", now()
        save_state(repo, state)
    summary.stages = state.stages
    summary.wall_s = time.monotonic() - started
    return summary


class _Stages:
    """Runs each unfinished stage once, records it, and tells ``on_event``."""

    def __init__(self, repo: FlowRepo, state: RunState, progress: Progress, on_event: OnEvent) -> None:
        self.repo, self.state, self.progress, self.on_event = repo, state, progress, on_event
        self.skipped: set[str] = set()  # skipped in this attempt (already told on_event)

    def _emit(self, stage: str, phase: str, detail: str = "", seconds: float = 0.0) -> None:
        if self.on_event is not None:
            self.on_event(StageEvent(stage, phase, detail, seconds))

    def step(self, stage: str, work: Callable[[], Any], detail: Callable[[Any], str]) -> dict[str, Any]:
        """Run ``work`` unless the stage finished in an earlier attempt; its result's JSON."""
        if self.state.done(stage):
            if stage not in self.skipped:
                self._emit(stage, "skip", "finished in an earlier attempt of this run")
            return self.state.result(stage)
        self._emit(stage, "start")
        started = time.monotonic()
        mark(self.repo, self.state, stage, "running")
        result = work()
        mark(self.repo, self.state, stage, "done", result.to_json())
        self._emit(stage, "end", detail(result), time.monotonic() - started)
        return self.state.result(stage)

    def skip(self, names: tuple[str, ...] | list[str], why: str) -> None:
        for stage in names:
            if not self.state.done(stage):
                mark(self.repo, self.state, stage, "done", {"skipped": why})
                self.skipped.add(stage)
                self._emit(stage, "skip", why)

    def run(self, previous: RunState | None, summary: LoopSummary) -> None:
        repo, state, progress = self.repo, self.state, self.progress
        collected = CollectResult.from_json(self.step(
            "collect", lambda: stages.collect(repo, progress),
            lambda r: f"{r.added} new events from {r.new_commits} commits" if r.git else r.message))
        if collected.added:
            summary.messages.append(f"collected {collected.added} new events from git history")
        if not state.done("dataset"):
            fingerprint = input_fingerprint(repo, _signal_count(repo))
            if previous is not None and previous.fingerprint == fingerprint:
                state.fingerprint = fingerprint
                summary.nothing_new = True
                summary.messages.append("nothing new since the last run: no new signals, documents or settings")
                self.skip(stages.stage_names()[1:], "nothing new")
                return
            state.fingerprint = fingerprint
        data = DatasetResult.from_json(self.step(
            "dataset", lambda: stages.dataset(repo, progress),
            lambda r: f"{r.version}" + (" (reused)" if r.reused else "") + "; " + ", ".join(
                f"{name} {c.count}/{c.threshold}" for name, c in r.passes.items())))
        summary.dataset = data.version
        summary.messages.append(f"dataset {data.version}" + (" (unchanged, reused)" if data.reused else " built"))
        any_trained = False
        for spec in passes():
            trained = TrainStageResult.from_json(self.step(
                stages.train_stage(spec), lambda spec=spec: stages.train(repo, spec, data, progress),
                lambda r: r.message))
            summary.messages.append(trained.message)
            any_trained = any_trained or trained.trained
            if trained.trained and trained.version:
                summary.trained.append(trained.version)
        if not summary.trained and any_trained:
            # a pass with its own gate (the localizer) trained and was judged in its stage
            summary.messages.append("no specialist version trained: nothing for the evaluate and promote stages")
            self.skip(("evaluate", "promote"), "no specialist version trained")
        elif not summary.trained:
            summary.nothing_new = summary.nothing_new or not collected.added
            summary.messages.append("no pass had enough new data: nothing trained, nothing to evaluate")
            self.skip(("evaluate", "promote"), "nothing trained")
        candidates = list(summary.trained)
        evaluated = EvaluateResult.from_json(self.step(
            "evaluate", lambda: stages.evaluate(repo, data.version, candidates, progress),
            lambda r: f"{len(r.models)} models" + (f", {len(r.errors)} could not be evaluated" if r.errors else "")))
        promoted = PromoteResult.from_json(self.step(
            "promote", lambda: stages.promote(repo, candidates, progress),
            lambda r: "; ".join(f"{d.candidate} {'promoted' if d.promoted else 'not promoted'}" for d in r.decisions)))
        for decision in promoted.decisions:
            verb = "promoted" if decision.promoted else "not promoted"
            summary.messages.append(f"{decision.candidate} {verb}: {decision.reason}")
            if decision.promoted:
                summary.promoted.append(decision.candidate)
        summary.planning = planning_numbers(evaluated, summary.trained)
        report = self.step("report", lambda: ReportResult(self._report()), lambda r: r.path)
        summary.report = report.get("path")
        from flowloop.evaluate.lineage import current_version

        summary.current = current_version(repo)

    def _report(self) -> str:
        from flowloop.report import build_report

        # the report is the run's last stage: the page it writes describes a finished run
        finished = {**self.state.to_json(), "status": "done", "finished_at": now()}
        return str(build_report(self.repo, loop_run=finished))

