"""Helpfulness from outcomes: did the tasks a document was injected into hold up?

Every retrieval event names the documents injected for a task (directly, or through its
session: another event of that session names the task); every outcome says how the task's work
held up. Per task, a verdict:

- **debit** (a failure): the work was ``reverted``, needed a ``hotfix`` (1 each), or the human
  ``correction``-ed the agent during it (``[pilr] correction_debit``, 1 by default);
- **credit** (a success): the task finished (a ``work_record``) with no debit; ``+0.5`` more when
  CI went green fast (``time_to_green_s <= [dataset] fast_green_s``);
- no verdict: nothing finished and nothing failed yet.

A document's helpfulness is a Beta posterior: the prior is centred on the *base rate* (the credit
share of all judged tasks) with ``2a`` pseudo-tasks behind it (``a`` = ``[pilr]
helpfulness_prior``), then ``+ credits`` and ``+ debits``: its mean, and the number of tasks
behind it, so one bad task moves a document a little and only repeated failure condemns it.
Centring on the base rate matters: on the example 75 of 117 tasks had a human correction, so
against a flat 0.5 prior every often-injected document (the architecture overview) looked
harmful merely for being everywhere; measured against the base rate it is ordinary. This is correlation, not blame: a
document injected into failing work may be misleading, or only be about the hard part of the
code. That is why it ranks gently (a prior, off by default) and asks a human (``flow pilr
review``: "possibly misleading") instead of acting.

The result is kept in ``.flow/state/pilr/helpfulness.json`` so a context pack reads it without
opening the signals store.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from flowloop.atomic import atomic_write_text
from flowloop.repo import FlowRepo

FAST_GREEN_BONUS = 0.5
DEBITS = ("reverted", "hotfix")


@dataclass
class Verdict:
    credit: float = 0.0
    debit: float = 0.0
    reasons: list[str] = field(default_factory=list)


@dataclass
class Helpfulness:
    doc_id: str
    successes: float = 0.0
    failures: float = 0.0
    tasks: int = 0
    prior: float = 2.0
    failed_tasks: list[str] = field(default_factory=list)
    base: float = 0.5  # the credit share of all judged tasks: where the prior is centred

    def _ab(self) -> tuple[float, float]:
        return 2 * self.prior * self.base + self.successes, 2 * self.prior * (1 - self.base) + self.failures

    @property
    def mean(self) -> float:
        a, b = self._ab()
        return a / (a + b)

    @property
    def sd(self) -> float:
        a, b = self._ab()
        return math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    def misleading(self, below: float, min_failures: int) -> bool:
        """Injected into at least ``min_failures`` failed tasks, and its mean under ``below`` times
        the base rate."""
        return len(self.failed_tasks) >= min_failures and self.mean < below * self.base

    def factor(self, weight: float) -> float:
        """The ranking multiplier: ``(mean / base) ** weight`` (1.0 at weight 0 or no evidence)."""
        return (self.mean / self.base) ** weight if weight and self.base > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"mean": round(self.mean, 4), "sd": round(self.sd, 4), "base": round(self.base, 4), "tasks": self.tasks,
                "successes": self.successes, "failures": self.failures, "failed_tasks": self.failed_tasks}


def verdicts(events: Iterable[Any], fast_green_s: float, correction_debit: float = 1.0) -> dict[str, Verdict]:
    """The verdict of every task with evidence (see the module docstring)."""
    finished: set[str] = set()
    metrics: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    corrected: set[str] = set()
    for event in events:
        if not event.task:
            continue
        if event.kind == "work_record":
            finished.add(event.task)
        elif event.kind == "outcome":
            metrics[event.task][event.metric].append(float(event.value))
        elif event.kind == "correction":
            corrected.add(event.task)
    out: dict[str, Verdict] = {}
    for task in finished | set(metrics) | corrected:
        verdict = Verdict()
        by_metric = metrics.get(task, {})
        for metric in DEBITS:
            if any(v > 0 for v in by_metric.get(metric, [])):
                verdict.reasons.append(metric)
        if verdict.reasons:
            verdict.debit = 1.0
        if task in corrected:
            verdict.reasons.append("corrected")
            verdict.debit = max(verdict.debit, correction_debit)
        if not verdict.debit and task in finished:
            verdict.credit = 1.0
            greens = by_metric.get("time_to_green_s", [])
            if greens and min(greens) <= fast_green_s:
                verdict.credit += FAST_GREEN_BONUS
                verdict.reasons.append("fast green")
            verdict.reasons.append("held")
        if not verdict.credit and not verdict.debit:
            continue
        out[task] = verdict
    return out


def injected_tasks(events: Iterable[Any]) -> dict[str, set[str]]:
    """Document id -> tasks it was injected into (or used in), joining sessions to tasks."""
    events = list(events)
    session_task: dict[str, str] = {}
    for event in events:
        if event.kind != "retrieval" and event.session and event.task:
            session_task.setdefault(event.session, event.task)
    out: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.kind != "retrieval":
            continue
        task = event.task or session_task.get(event.session or "")
        if not task:
            continue
        for doc_id in {*event.injected, *event.used}:
            out[doc_id].add(task)
    return out


def estimate(
    events: Iterable[Any], prior: float, fast_green_s: float, correction_debit: float = 1.0
) -> dict[str, Helpfulness]:
    """Every injected document's helpfulness from a list of signal events."""
    events = list(events)
    judged = verdicts(events, fast_green_s, correction_debit)
    credit = sum(v.credit for v in judged.values())
    total = credit + sum(v.debit for v in judged.values())
    base = min(max(credit / total, 0.05), 0.95) if total else 0.5  # never a prior at 0 or 1
    out: dict[str, Helpfulness] = {}
    for doc_id, tasks in injected_tasks(events).items():
        h = Helpfulness(doc_id=doc_id, prior=prior, base=base)
        for task in sorted(tasks):
            verdict = judged.get(task)
            if verdict is None:
                continue
            h.tasks += 1
            h.successes += verdict.credit
            h.failures += verdict.debit
            if verdict.debit:
                h.failed_tasks.append(task)
        out[doc_id] = h
    return out


def cache_file(repo: FlowRepo) -> Any:
    return repo.state_dir / "pilr" / "helpfulness.json"


def compute(repo: FlowRepo) -> dict[str, Helpfulness]:
    """Helpfulness from the repository's signals store (none without one), written to the cache."""
    if not (repo.settings.database_url or (repo.state_dir / "signals.db").exists()):
        return {}
    from flowloop.signals.store import open_store  # SQLAlchemy loads only when there is a store

    with open_store(repo) as store:
        events = store.query(kind=("retrieval", "outcome", "work_record", "correction"))
    pilr = repo.settings.pilr
    result = estimate(events, pilr.helpfulness_prior, repo.settings.dataset.fast_green_s, pilr.correction_debit)
    payload = {doc_id: asdict(h) for doc_id, h in sorted(result.items())}
    atomic_write_text(repo.state_path("pilr", "helpfulness.json"), json.dumps(payload, indent=1) + "\n")
    return result


def cached(repo: FlowRepo) -> dict[str, Helpfulness]:
    """The last computed helpfulness (empty when never computed), without opening the store."""
    try:
        data = json.loads(cache_file(repo).read_text(encoding="utf-8"))
        return {doc_id: Helpfulness(**fields) for doc_id, fields in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
