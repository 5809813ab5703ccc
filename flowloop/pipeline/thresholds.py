"""The training thresholds, counted one way for every caller.

Each pass's counting rule is part of its record in :mod:`flowloop.passes.registry`, a function
over the *training* examples (held-out tasks, rejected, duplicate and reverted examples
excluded): SFT counts the distinct evergreen and cumulative documents behind its examples
(seed: ~50), DPO its pairs (seed: ~200).

``dataset build`` records these counts in the manifest; ``readiness`` computes the same counts
from the current inputs without building (no retrieval, no files written), for ``flow signal
stats`` and the report before any dataset exists. ``flow dataset stats``, ``flow train`` and
``flow loop`` read the manifest through ``check_threshold``.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowloop.passes import Readiness, get_pass, passes
from flowloop.pipeline.records import Example
from flowloop.repo import FlowRepo


def counts(train: Iterable[Example]) -> dict[str, int]:
    """Each pass's threshold count over ``train``, keyed as a manifest's ``counts`` are."""
    examples = list(train)
    return {p.count_field: p.count(examples) for p in passes()}


def readiness_of(name: str, have: int, threshold: int) -> Readiness:
    spec = get_pass(name)
    return Readiness(spec.name, spec.unit, have, threshold, spec.more)


def readiness(repo: FlowRepo) -> dict[str, Readiness]:
    """Each pass's count from the current inputs, by the rule a build applies, without building.

    Planning examples are left out: they need retrieval, and they count toward neither
    threshold (they cite no document and are not pairs).
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
    counted = [*train, *training_items(items + behavior_items, split)]
    return {p.name: readiness_of(p.name, p.count(counted), p.threshold(settings)) for p in passes()}
