"""The training thresholds, counted one way for every caller.

Each pass's counting rule is part of its record in :mod:`flowloop.passes.registry`, a function
over the *training* examples (held-out tasks, rejected, duplicate and reverted examples
excluded): SFT counts the distinct evergreen and cumulative documents behind its examples
(seed: ~50), DPO its pairs (seed: ~200), the localizer the training split's work records
(:class:`WorkItem`).

``dataset build`` records these counts in the manifest; ``readiness`` computes the same counts
from the current inputs without building (no retrieval, no files written), for ``flow signal
stats`` and the report before any dataset exists. ``flow dataset stats``, ``flow train`` and
``flow loop`` read the manifest through ``check_threshold``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowloop.passes import Readiness, get_pass, passes
from flowloop.pipeline.inputs import Inputs
from flowloop.pipeline.records import Example, WorkRecord
from flowloop.pipeline.split import Split
from flowloop.repo import FlowRepo


@dataclass(frozen=True)
class WorkItem:
    """A finished task of the training split as a counting rule sees it (``kind`` "work"), so a
    pass that learns from the history itself (the localizer) counts work records, not examples:
    near-duplicate removal, which keeps SFT from repeating itself, does not thin its count."""

    task: str
    pass_: str = ""
    kind: str = "work"
    documents: tuple[str, ...] = ()


def training_work(inputs: Inputs, split: Split) -> list[WorkRecord]:
    """Finished tasks with files in the training split (reverted ones teach nothing): the
    localizer's ``work_train`` rows, and what its threshold counts."""
    return [w for w in inputs.work if w.files and not w.reverted and not split.task_heldout(w.task, w.time)]


def counts(train: Iterable[Example], work: Iterable[WorkRecord] = ()) -> dict[str, int]:
    """Each pass's threshold count over ``train`` and the training split's ``work`` records,
    keyed as a manifest's ``counts`` are."""
    examples: list[Any] = [*train, *(WorkItem(w.task) for w in work)]
    return {p.count_field: p.count(examples) for p in passes()}


def readiness_of(name: str, have: int, threshold: int) -> Readiness:
    spec = get_pass(name)
    return Readiness(spec.name, spec.unit, have, threshold, spec.more)


def readiness(repo: FlowRepo) -> dict[str, Readiness]:
    """Each pass's count from the current inputs, by the rule a build applies, without building.

    Planning examples are left out: they need retrieval, and they count toward no threshold
    (they cite no document and are not pairs); the work records a pass may count are the
    build's own (``training_work``).
    """
    from flowloop.pipeline.behavior import signal_examples
    from flowloop.pipeline.inputs import load_inputs
    from flowloop.pipeline.selection import select_examples
    from flowloop.pipeline.split import time_split, training_items
    from flowloop.pipeline.templates import document_examples, section_examples

    settings = repo.settings
    inputs = load_inputs(repo)
    examples, items = document_examples(settings, inputs.pilrs, inputs.task_time)
    examples += section_examples(settings, inputs.sections)
    behavior, behavior_items = signal_examples(settings, inputs)
    examples += behavior
    kept = select_examples(repo, inputs, examples).kept
    split = time_split(inputs.task_time, settings.dataset.holdout_share)
    train = [e for e in kept if not split.example_heldout(e)]
    counted: list[Any] = [*train, *training_items(items + behavior_items, split),
                          *(WorkItem(w.task) for w in training_work(inputs, split))]
    return {p.name: readiness_of(p.name, p.count(counted), p.threshold(settings)) for p in passes()}
