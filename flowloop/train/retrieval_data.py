"""The retrieval passes' data and bookkeeping: pairs from a dataset version, checked against the
pass's threshold before any model loads; where a run starts from; how it lands in the registry.

Both passes (``embedder.py``, ``reranker.py``) read ``retrieval_train.jsonl`` (written by
``flowloop.pipeline.retrieval_pairs`` as of the dataset's held-out cutoff) and register their
model in their own registry family with its lineage: the model it started from, the parent
version, the dataset version and hash, the pair counts and the run's figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import DatasetError, TrainingError
from flowloop.models.registry import ModelVersion, Registry
from flowloop.repo import FlowRepo
from flowloop.train.device import cpu_bf16

@dataclass
class PairData:
    pass_name: str
    dataset_version: int
    dataset_hash: str
    path: Path
    rows: list[dict[str, Any]]  # every pair, positives and 0-labelled ones, oldest first
    count: int
    threshold: int
    forced: bool

    @property
    def positives(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if float(r.get("label", 1.0)) > 0]


def load_pairs(repo: FlowRepo, pass_name: str, dataset: str | int = "latest", force: bool = False) -> PairData:
    """The pairs of a dataset version; below the pass's threshold a clear refusal unless ``force``."""
    from flowloop.pipeline.api import load_manifest

    from flowloop.passes import get_pass

    spec = get_pass(pass_name)
    manifest = load_manifest(repo, dataset)
    threshold = spec.threshold(repo.settings)
    count = int(manifest.counts.get(spec.count_field, 0))
    if count < threshold and not force:
        raise DatasetError(
            f"the {pass_name} needs {threshold} retrieval pairs and dataset v{manifest.version} has {count}",
            path=manifest.path, hint=f"{spec.more}; or pass --force",
        )
    path = manifest.file(spec.train_file)
    rows = read_pairs(path)
    if not any(float(r.get("label", 1.0)) > 0 for r in rows):
        raise DatasetError("no positive retrieval pairs to train on", path=path,
                           hint="`flow dataset build` after documentation changes are committed")
    return PairData(pass_name, manifest.version, manifest.content_hash, path, rows, count, threshold,
                    forced=force and count < threshold)


def read_pairs(path: Path) -> list[dict[str, Any]]:
    """Rows of a pairs file, each checked (``query`` and ``passage`` strings); errors name the line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"corrupt pairs line: {exc.msg}", path=path, line=number,
                               hint="rebuild with `flow dataset build`") from exc
        for name in ("query", "passage"):
            if not isinstance(row, dict) or not isinstance(row.get(name), str) or not row[name].strip():
                raise DatasetError("missing or empty text", path=path, line=number, field=name)
        rows.append(row)
    return rows


def newest(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` newest rows (undated ones, the cold-start headings, count as oldest)."""
    return sorted(rows, key=lambda r: (r.get("time") or "", r["id"] if "id" in r else ""))[-limit:]


def schedule_of(train: TrainSettings) -> dict[str, Any]:
    """The ``fit_embedder`` / ``fit_reranker`` keywords ``[train]`` sets (both train on the CPU)."""
    return {"epochs": train.epochs, "max_steps": train.max_steps, "seed": train.seed, "threads": train.threads,
            "bf16": cpu_bf16(train.precision)}


def starting_point(repo: FlowRepo, pass_name: str, configured: str, fallback: str) -> tuple[str, Path, str | None]:
    """``(name, folder, parent version)`` the pass fine-tunes: the configured ``base``, else the
    promoted model of its family, else ``fallback`` (the index's configured model; empty: the
    packaged MiniLM weights, which a reranker starts from with a fresh scoring head)."""
    from flowloop.passes import get_pass

    from flowloop.index.embedder import DEFAULT_EMBEDDER, resolve_model

    if configured:
        return configured, resolve_model(configured, repo.root, kind=pass_name), None
    current = Registry(repo, get_pass(pass_name).family).current()
    if current is not None:
        return f"{pass_name}:{current.version}", current.model_dir, current.version
    name = fallback or DEFAULT_EMBEDDER
    return name, resolve_model(name, repo.root, kind=pass_name), None


def register(repo: FlowRepo, pass_name: str, folder: Path, fields: dict[str, Any]) -> ModelVersion:
    if not (folder / "config.json").is_file():
        raise TrainingError("the trained model was not saved", path=folder)
    from flowloop.passes import get_pass

    return Registry(repo, get_pass(pass_name).family).register(folder, {"pass": pass_name, **fields})
