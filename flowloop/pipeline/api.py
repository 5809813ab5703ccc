"""The dataset pipeline's public API (contract 3): what the CLI, the trainer and eval import.

``build_dataset`` turns PILRs, documentation sources and signals into a versioned dataset
folder; ``load_manifest`` reads one; ``dataset_stats`` and ``check_threshold`` say whether each
training pass has enough data; review functions apply a human's decisions; prompts live in
``flowloop.pipeline.prompts`` and the as-of planning context in
``flowloop.pipeline.planning_context``.
"""

from __future__ import annotations

from flowloop.pipeline.build import build_dataset
from flowloop.pipeline.manifest import DatasetManifest, load_manifest, read_rows, versions
from flowloop.pipeline.planning_context import PlanningContext, PlanningContextBuilder, planning_context
from flowloop.pipeline.review import (
    ReviewDecision,
    ReviewItem,
    ReviewSummary,
    accept_all,
    pending_items,
    record_decisions,
    run_review,
)
from flowloop.pipeline.stats import DatasetStats, check_threshold, dataset_stats

__all__ = [
    "DatasetManifest",
    "DatasetStats",
    "PlanningContext",
    "PlanningContextBuilder",
    "ReviewDecision",
    "ReviewItem",
    "ReviewSummary",
    "accept_all",
    "build_dataset",
    "check_threshold",
    "dataset_stats",
    "load_manifest",
    "pending_items",
    "planning_context",
    "read_rows",
    "record_decisions",
    "run_review",
    "versions",
]
