"""Dataset counts against the seed's thresholds: is there enough data to train each pass?

The counting rules are part of each pass's record (``flowloop.passes.registry``); the build records them in
the manifest and ``check_threshold`` reads them back, which the trainer and the loop ask before
starting a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowloop.pipeline.manifest import DatasetManifest, load_manifest
from flowloop.repo import FlowRepo

from flowloop.passes import get_pass, passes
from flowloop.pipeline.thresholds import readiness_of


def check_threshold(manifest: DatasetManifest, pass_name: str, threshold: int | None = None) -> tuple[int, int, bool]:
    """``(count, threshold, ok)`` of ``pass_name`` (a registered pass) in ``manifest``.

    ``threshold`` overrides the one recorded at build time (e.g. the current settings).
    """
    count = int(manifest.counts.get(get_pass(pass_name).count_field, 0))
    limit = int(threshold if threshold is not None else manifest.thresholds.get(pass_name, 0))
    return count, limit, count >= limit


@dataclass
class DatasetStats:
    version: int
    path: str
    content_hash: str
    created_at: str
    counts: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]
    split: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        split = dict(self.split)
        split["train_tasks"] = len(split.get("train_tasks", []))
        split["heldout_tasks"] = len(split.get("heldout_tasks", []))
        return {
            "version": self.version,
            "path": self.path,
            "content_hash": self.content_hash,
            "created_at": self.created_at,
            "counts": self.counts,
            "thresholds": self.thresholds,
            "split": split,
            "files": self.files,
        }


def dataset_stats(repo: FlowRepo, version: int | str = "latest") -> DatasetStats:
    """Counts by source and kind and each pass against its threshold (current settings)."""
    manifest = load_manifest(repo, version)
    thresholds = {}
    for spec in passes():
        count, limit, ok = check_threshold(manifest, spec.name, spec.threshold(repo.settings))
        ready = readiness_of(spec.name, count, limit)
        thresholds[spec.name] = {"count": count, "threshold": limit, "ok": ok, "unit": spec.unit, "next": ready.next_step}
    return DatasetStats(
        version=manifest.version,
        path=str(manifest.path),
        content_hash=manifest.content_hash,
        created_at=manifest.created_at,
        counts=manifest.counts,
        thresholds=thresholds,
        split=manifest.split,
        files=manifest.files,
    )
