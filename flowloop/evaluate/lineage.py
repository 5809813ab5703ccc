"""Which model an eval means, and whether it may be evaluated on a given dataset.

``base`` is the untrained base model; ``current`` the promoted specialist (the base model when
nothing has been promoted yet); ``vN`` a registered version. A specialist may only be scored on
data it never saw: its training dataset must still be the one it was trained on (same content
hash) and none of the evaluated held-out tasks may be among the tasks it was trained on. A
mismatch is an :class:`EvaluationError` that says which dataset, which hash, which tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.errors import EvaluationError
from flowloop.evaluate.data import DatasetRef, read_jsonl, version_name
from flowloop.pipeline.manifest import dataset_file
from flowloop.repo import FlowRepo

BASE = "base"
CURRENT = "current"


@dataclass
class ModelRef:
    """A resolved model: ``version`` is ``base`` or ``vN``; ``manifest`` the registry's record."""

    version: str
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def is_base(self) -> bool:
        return self.version == BASE


def known_versions(repo: FlowRepo) -> list[str]:
    from flowloop.models.registry import Registry

    return [v.version for v in Registry(repo).versions()]


def current_version(repo: FlowRepo) -> str | None:
    """The promoted version, from the registry's ``current`` pointer (None: nothing promoted)."""
    from flowloop.models.registry import Registry

    current = Registry(repo).current()
    return None if current is None else current.version


def read_manifest(repo: FlowRepo, version: str) -> dict[str, Any]:
    """A registered version's manifest; an unknown version is a ``RegistryError`` listing the known ones."""
    from flowloop.models.registry import Registry

    return dict(Registry(repo).get(version).manifest)


def resolve_model(repo: FlowRepo, which: str) -> ModelRef:
    """``base``, ``current`` or ``vN`` (``3`` is read as ``v3``) -> a model that exists."""
    which = which.strip()
    if which == BASE:
        return ModelRef(BASE)
    if which == CURRENT:
        version = current_version(repo)
        return ModelRef(BASE) if version is None else ModelRef(version, read_manifest(repo, version))
    version = version_name(which)
    if not version[1:].isdigit():
        raise EvaluationError(f"unknown model {which!r}", field="model", hint="use base, current or a version like v3")
    return ModelRef(version, read_manifest(repo, version))


def _dataset_dir(repo: FlowRepo, version: str) -> Path:
    return repo.state_dir / "datasets" / version_name(version)


def check_lineage(repo: FlowRepo, model: ModelRef, ds: DatasetRef) -> None:
    """Refuse to evaluate ``model`` on ``ds`` when its training data is unknown or overlaps.

    The base model was trained on nothing of ours, so it always passes.
    """
    if model.is_base:
        return
    trained_on = model.manifest.get("dataset_version")
    trained_hash = str(model.manifest.get("dataset_hash", ""))
    if not trained_on:
        raise EvaluationError(
            f"model {model.version} does not record the dataset it was trained on",
            field="dataset_version",
            hint="its held-out tasks cannot be verified; retrain it with `flow train`",
        )
    trained_dir = _dataset_dir(repo, str(trained_on))
    manifest_path = trained_dir / "manifest.json"
    if not manifest_path.is_file():
        raise EvaluationError(
            f"model {model.version} was trained on dataset {version_name(trained_on)}, which no longer exists",
            path=trained_dir,
            hint="without it the held-out split cannot be checked; retrain on the current dataset",
        )
    try:
        found_hash = str(json.loads(manifest_path.read_text(encoding="utf-8")).get("content_hash", ""))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"unreadable dataset manifest: {exc}", path=manifest_path) from exc
    if trained_hash and found_hash != trained_hash:
        raise EvaluationError(
            f"dataset and model do not match: model {model.version} was trained on dataset "
            f"{version_name(trained_on)} with hash {trained_hash[:12]}, but that dataset now has hash {found_hash[:12]}",
            path=manifest_path,
            hint="the dataset was rebuilt or edited after training; retrain the model on it",
        )
    trained_tasks = _tasks(trained_dir, ("sft_train", "dpo_train"))
    heldout_tasks = _tasks(ds.path, ("eval_planning", "dpo_heldout"))
    leaked = sorted(trained_tasks & heldout_tasks)
    if leaked:
        shown = ", ".join(leaked[:5]) + (" ..." if len(leaked) > 5 else "")
        raise EvaluationError(
            f"dataset and model do not match: model {model.version} (trained on {version_name(trained_on)}) "
            f"was trained on {len(leaked)} task(s) held out in dataset {ds.version}: {shown}",
            path=ds.path,
            hint=f"evaluate on the dataset it was trained on or a newer one (`--dataset {version_name(trained_on)}`)",
        )


def _tasks(folder: Path, keys: tuple[str, ...]) -> set[str]:
    tasks: set[str] = set()
    for key in keys:
        for row in read_jsonl(folder / dataset_file(key)):
            if row.get("task"):
                tasks.add(str(row["task"]))
    return tasks
