"""Dataset counts against the seed's thresholds: is there enough data to train each pass?

The seed's rule of thumb: SFT from ~50 documents, DPO from ~200 preference pairs. SFT counts
the distinct evergreen and cumulative documents (PILRs and documentation sources of those
types) that contributed at least one training example; DPO counts training pairs. Each pass
runs when its own data is ready (``check_threshold``), which the trainer asks before starting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import DatasetError
from flowloop.pipeline.manifest import DatasetManifest, load_manifest
from flowloop.repo import FlowRepo

PASSES = {"sft": "sft_documents", "dpo": "dpo_pairs"}
UNITS = {"sft": "documents", "dpo": "pairs"}


def check_threshold(manifest: DatasetManifest, pass_name: str, threshold: int | None = None) -> tuple[int, int, bool]:
    """``(count, threshold, ok)`` for ``pass_name`` ``"sft"`` or ``"dpo"``.

    ``threshold`` overrides the one recorded at build time (e.g. the current settings).
    """
    if pass_name not in PASSES:
        raise DatasetError(f"unknown training pass {pass_name!r}", hint="use 'sft' or 'dpo'")
    count = int(manifest.counts.get(PASSES[pass_name], 0))
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
    settings = repo.settings.dataset
    current = {"sft": settings.sft_threshold, "dpo": settings.dpo_threshold}
    thresholds = {}
    for pass_name in PASSES:
        count, limit, ok = check_threshold(manifest, pass_name, current[pass_name])
        thresholds[pass_name] = {"count": count, "threshold": limit, "ok": ok, "unit": UNITS[pass_name]}
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
