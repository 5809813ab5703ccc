"""The time-based held-out split: the newest share of tasks is never trained on.

Tasks are ordered by the time they finished (ties by task id) and the newest
``round(n * holdout_share)`` are held out (at least one when there are two tasks or more and the
share is positive; never all of them). Everything of a held-out task (its work record, plan
note, preference pairs, corrections) goes to the ``*_heldout`` files and the eval files; the
evaluation of a specialist therefore looks only at work that happened after everything it
learned from. Examples without a task are split by their own time against the cutoff (the
finish time of the oldest held-out task), except document explanations (``holdable=False``),
which always train: they describe the system, not a task.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flowloop.pipeline.records import Example, ValidationItem, iso


@dataclass(frozen=True)
class Split:
    holdout_share: float
    cutoff: dt.datetime | None
    train_tasks: list[str] = field(default_factory=list)
    heldout_tasks: list[str] = field(default_factory=list)

    def task_heldout(self, task: str | None, time: dt.datetime | None, holdable: bool = True) -> bool:
        if task is not None and task in self._held:
            return True
        if task is not None and task in self._train:
            return False
        if not holdable or time is None or self.cutoff is None:
            return False
        return time >= self.cutoff

    def example_heldout(self, example: Example) -> bool:
        return self.task_heldout(example.task, example.time, example.holdable)

    def item_heldout(self, item: ValidationItem) -> bool:
        return self.task_heldout(item.task, item.time, True)

    @property
    def _held(self) -> frozenset[str]:
        return frozenset(self.heldout_tasks)

    @property
    def _train(self) -> frozenset[str]:
        return frozenset(self.train_tasks)

    def manifest(self) -> dict[str, object]:
        return {
            "holdout_share": self.holdout_share,
            "cutoff": iso(self.cutoff),
            "train_tasks": self.train_tasks,
            "heldout_tasks": self.heldout_tasks,
        }


def held_count(n: int, share: float) -> int:
    """How many of ``n`` tasks are held out for ``share`` (round half up; 1..n-1 when n >= 2)."""
    if n < 2 or share <= 0:
        return 0
    return min(max(math.floor(n * share + 0.5), 1), n - 1)


def time_split(task_time: dict[str, dt.datetime], share: float) -> Split:
    """Hold out the newest ``share`` of the tasks in ``task_time``."""
    ordered = sorted(task_time, key=lambda t: (task_time[t], t))
    k = held_count(len(ordered), share)
    train, held = ordered[: len(ordered) - k], ordered[len(ordered) - k :]
    cutoff = task_time[held[0]] if held else None
    return Split(holdout_share=share, cutoff=cutoff, train_tasks=train, heldout_tasks=held)


def training_items(items: list[ValidationItem], split: Split) -> list[ValidationItem]:
    """The labelled outputs a labelled pass trains on (those of tasks not held out), one per id."""
    return list({i.id: i for i in items if not split.item_heldout(i)}.values())
