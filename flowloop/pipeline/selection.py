"""Which examples survive to training: outcome weights, review decisions, de-duplication.

Shared by ``build.py`` (which writes them) and ``thresholds.py`` (which counts them without
building), so a threshold reported before a build counts exactly what the build will train on.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowloop.pipeline.dedup import deduplicate
from flowloop.pipeline.inputs import Inputs
from flowloop.pipeline.records import Example
from flowloop.pipeline.review import Applied, apply_decisions, load_decisions
from flowloop.pipeline.weights import task_weights
from flowloop.repo import FlowRepo


@dataclass
class Selected:
    """The examples kept (``kept``), the drafts still awaiting review, and what was removed."""

    kept: list[Example]
    drafts: list[Example]
    applied: Applied
    exact: int
    near: int
    reverted: int


def select_examples(repo: FlowRepo, inputs: Inputs, examples: list[Example]) -> Selected:
    """Scrub, weight by outcomes (reverted tasks dropped), apply review decisions, de-duplicate."""
    settings = repo.settings
    weights = task_weights(inputs.outcomes, settings)
    weighted: list[Example] = []
    dropped = 0
    for example in (e.scrubbed() for e in examples):
        weight = weights.get(example.task, 1.0) if example.task else 1.0
        if weight <= 0:
            dropped += 1
            continue
        example.weight = weight
        weighted.append(example)
    decisions = load_decisions(repo)
    applied = apply_decisions(weighted, decisions)
    new_drafts = [e for e in weighted if e.draft and e.id not in decisions]
    deduped = deduplicate(applied.examples, settings.dataset.near_dup_threshold)
    drafts_kept = deduplicate(new_drafts, settings.dataset.near_dup_threshold).kept
    return Selected(deduped.kept, drafts_kept, applied, deduped.exact, deduped.near, dropped)
