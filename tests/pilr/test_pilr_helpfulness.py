"""Helpfulness from real outcome events in the signals store: one task does not flip a document,
consistent failure does."""

from __future__ import annotations

from pathlib import Path

from helpers_pilr import add, make_store

from flowloop.pilr.helpfulness import cached, compute, estimate
from flowloop.signals.events import CorrectionEvent, OutcomeEvent, RetrievalEvent, WorkRecordEvent


def _task(task: str, docs: list[str], *, reverted: bool = False, hotfix: bool = False, fast: bool = False,
          via_session: bool = False) -> list:
    session = f"s-{task}"
    retrieval = RetrievalEvent(query=f"work on {task}", injected=docs, task=None if via_session else task,
                               session=session)
    events = [retrieval, WorkRecordEvent(task=task, session=session, description=f"did {task}")]
    if reverted:
        events.append(OutcomeEvent(task=task, metric="reverted", value=1))
    if hotfix:
        events.append(OutcomeEvent(task=task, metric="hotfix", value=1))
    if fast:
        events.append(OutcomeEvent(task=task, metric="time_to_green_s", value=60))
    return events


def _store_events(root: Path, events: list) -> None:
    from flowloop.repo import FlowRepo
    from flowloop.signals.store import open_store

    with open_store(FlowRepo(root)) as store:
        store.add(events)


def test_one_bad_task_does_not_flip_a_document_but_consistent_failure_does(tmp_path: Path) -> None:
    store = make_store(tmp_path / "r")
    events = []
    for n in range(4):
        events += _task(f"T-{n}", ["evg-good", "evg-bad"], fast=True)
    events += _task("T-9", ["evg-good"], reverted=True)
    for n in range(10, 14):
        events += _task(f"T-{n}", ["evg-bad"], hotfix=True, via_session=True)
    events.append(CorrectionEvent(task="T-10", agent="wrong", correction="right"))
    _store_events(store.repo.root, events)
    result = compute(store.repo)
    good, bad = result["evg-good"], result["evg-bad"]
    settings = store.repo.settings.pilr
    assert good.tasks == 5 and good.failed_tasks == ["T-9"]
    assert good.mean > 0.6 and not good.misleading(settings.misleading_below, settings.misleading_min_failures)
    assert bad.tasks == 8 and len(bad.failed_tasks) == 4
    assert bad.mean < good.mean
    # the cache is what packs read
    assert cached(store.repo)["evg-good"].mean == good.mean


def test_one_failure_is_not_misleading_repeated_failure_against_the_base_rate_is() -> None:
    ordinary = []
    for n in range(6):  # the rest of the work holds: the base rate is high
        ordinary += _task(f"G-{n}", ["evg-other"])
    once = estimate(ordinary + _task("T-1", ["evg-x"], reverted=True), prior=2.0, fast_green_s=3600)["evg-x"]
    assert once.failures == 1 and not once.misleading(0.7, 3)
    many = list(ordinary)
    for n in range(4):
        many += _task(f"T-{n}", ["evg-x"], hotfix=True)
    assert estimate(many, prior=2.0, fast_green_s=3600)["evg-x"].misleading(0.7, 3)


def test_a_document_in_all_work_is_ordinary_when_all_work_fails_alike() -> None:
    """Centred on the base rate: being injected everywhere is not evidence against a document."""
    events = []
    for n in range(6):
        events += _task(f"T-{n}", ["evg-everywhere"], hotfix=n % 2 == 0)
    h = estimate(events, prior=2.0, fast_green_s=3600)["evg-everywhere"]
    assert abs(h.mean - h.base) < 1e-9 and h.factor(1.0) == 1.0


def test_corrections_can_be_weighed_down() -> None:
    events = _task("T-1", ["evg-x"]) + [CorrectionEvent(task="T-1", agent="a", correction="b")]
    assert estimate(events, 2.0, 3600)["evg-x"].failures == 1
    assert estimate(events, 2.0, 3600, correction_debit=0.0)["evg-x"].successes == 1
