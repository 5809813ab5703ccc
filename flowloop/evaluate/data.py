"""The eval data of one dataset version: held-out tasks, pairs and review items, plus knowledge.

Everything comes from the dataset folder of contract 3 (``.flow/state/datasets/vN/``), so two
models evaluated on one dataset version see exactly the same examples:

- ``eval_planning.jsonl``: held-out work records (the newest tasks, never trained on); each
  gets its planning context as of its own planning moment, the same ``planning_context`` the
  training prompts were built with, cached per dataset (``evals/contexts/<vN>.json``) so the
  retriever is loaded once, not once per model;
- ``dpo_heldout.jsonl``: held-out preference pairs;
- ``eval_validation.jsonl``: labelled review items;
- ``sft_train.jsonl``: the ``explain``/``solution`` rows the knowledge questions are made from.

Each suite is capped at ``eval.max_examples`` by a seeded sample (same seed: same examples).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from flowloop.atomic import atomic_write_text
from flowloop.errors import DatasetError, EvaluationError
from flowloop.evaluate.results import EVALS_DIR
from flowloop.evaluate.suites.knowledge import KnowledgeItem, build_items, dataset_sections
from flowloop.evaluate.suites.planning import PlanningItem, SimilarTask
from flowloop.evaluate.suites.preference import PreferenceItem
from flowloop.evaluate.suites.validation import ValidationItem
from flowloop.pipeline.manifest import dataset_file
from flowloop.repo import FlowRepo
from flowloop.types import Progress

T = TypeVar("T")
CONTEXT_CACHE_VERSION = 1


@dataclass
class DatasetRef:
    """One built dataset: its version (``v3``), folder, content hash and raw manifest."""

    version: str
    path: Path
    content_hash: str
    manifest: dict[str, Any] = field(default_factory=dict)

    def file(self, key: str) -> Path:
        """The file of ``key`` (``"dpo_heldout"``), named as ``pipeline.manifest`` names it; it
        may be absent (a build writes no file without rows)."""
        return self.path / dataset_file(key)


def version_name(value: Any) -> str:
    text = str(value)
    return text if text.startswith("v") else f"v{text}"


def resolve_dataset(repo: FlowRepo, version: str = "latest") -> DatasetRef:
    """The dataset to evaluate on (default: the newest build)."""
    from flowloop.pipeline.api import load_manifest

    manifest = load_manifest(repo, version)
    return DatasetRef(
        version=version_name(manifest.version),
        path=manifest.path,
        content_hash=manifest.content_hash,
        manifest=manifest.model_dump(mode="json"),
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a missing file is no rows (a suite with nothing held out yet)."""
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DatasetError(f"invalid JSON: {exc}", path=path, line=number, hint="rebuild with `flow dataset build`") from exc
            if not isinstance(row, dict):
                raise DatasetError("a row must be a JSON object", path=path, line=number)
            rows.append(row)
    return rows


def cap(items: list[T], limit: int, seed: int) -> list[T]:
    """At most ``limit`` items: a seeded sample that keeps the original order."""
    if limit <= 0 or len(items) <= limit:
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in keep]


def _content(messages: Any, where: Path, row_id: str) -> str:
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise DatasetError(f"row {row_id}: expected a list with one assistant message", path=where)
    return str(messages[0].get("content", ""))


def preference_items(ds: DatasetRef, limit: int, seed: int) -> list[PreferenceItem]:
    path = ds.file("dpo_heldout")
    items = [
        PreferenceItem(
            id=str(row.get("id", n)),
            prompt=list(row.get("prompt") or []),
            chosen=_content(row.get("chosen"), path, str(row.get("id", n))),
            rejected=_content(row.get("rejected"), path, str(row.get("id", n))),
        )
        for n, row in enumerate(read_jsonl(path))
    ]
    return cap(items, limit, seed)


def validation_items(ds: DatasetRef, limit: int, seed: int) -> list[ValidationItem]:
    path = ds.file("eval_validation")
    items = []
    for n, row in enumerate(read_jsonl(path), start=1):
        label = row.get("label")
        if label not in ("violating", "compliant"):
            raise DatasetError(f"label must be 'violating' or 'compliant', not {label!r}", path=path, line=n, field="label")
        items.append(ValidationItem(str(row.get("id", n)), str(row.get("text", "")), str(row.get("context", "")), label == "violating"))
    return cap(items, limit, seed)


def knowledge_items(ds: DatasetRef, n_options: int, limit: int, seed: int) -> list[KnowledgeItem]:
    rows = read_jsonl(ds.file("sft_train")) + read_jsonl(ds.file("sft_heldout"))
    return build_items(dataset_sections(rows), n_options=n_options, limit=limit, seed=seed)


def planning_rows(ds: DatasetRef, limit: int, seed: int) -> list[dict[str, Any]]:
    path = ds.file("eval_planning")
    rows = read_jsonl(path)
    for n, row in enumerate(rows, start=1):
        for key in ("task", "description", "files"):
            if key not in row:
                raise DatasetError(f"missing {key!r}", path=path, line=n, field=key, hint="rebuild with `flow dataset build`")
    return cap(rows, limit, seed)


def planning_items(repo: FlowRepo, ds: DatasetRef, limit: int, seed: int, progress: Progress | None = None) -> list[PlanningItem]:
    """Held-out tasks with their planning context (cached per dataset version and hash)."""
    rows = planning_rows(ds, limit, seed)
    cache_path = repo.state_dir / EVALS_DIR / "contexts" / f"{ds.version}.json"
    cached = _read_cache(cache_path, ds.content_hash)
    missing = [row for row in rows if _row_id(row) not in cached]
    if missing:
        from flowloop.pipeline.planning_context import PlanningContextBuilder
        from flowloop.pipeline.records import parse_iso

        builder = PlanningContextBuilder(repo)
        for i, row in enumerate(missing):
            as_of = parse_iso(row.get("as_of") or row.get("time"))
            if as_of is None:
                raise EvaluationError(f"held-out task {row['task']} has no time", path=ds.file("eval_planning"), field="as_of")
            ctx = builder.build(str(row["description"]), as_of, exclude_task=str(row["task"]))
            cached[_row_id(row)] = {
                "text": ctx.text,
                "similar": [{"task": s.task, "score": s.score, "files": list(s.files)} for s in ctx.similar],
            }
            if progress:
                progress(i + 1, len(missing))
        payload = {"version": CONTEXT_CACHE_VERSION, "dataset_hash": ds.content_hash, "contexts": cached}
        atomic_write_text(cache_path, json.dumps(payload) + "\n")
    items = []
    for row in rows:
        ctx = cached[_row_id(row)]
        items.append(
            PlanningItem(
                id=_row_id(row),
                task=str(row["task"]),
                description=str(row["description"]),
                files=[str(f) for f in row["files"]],
                time=str(row.get("time", "")),
                as_of=str(row.get("as_of") or row.get("time") or ""),
                context_text=ctx["text"],
                similar=[SimilarTask(s["task"], float(s["score"]), list(s["files"])) for s in ctx["similar"]],
            )
        )
    return items


def _row_id(row: dict[str, Any]) -> str:
    return str(row.get("id") or row["task"])


def _read_cache(path: Path, content_hash: str) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged cache is only lost time: rebuild it
    if data.get("version") != CONTEXT_CACHE_VERSION or data.get("dataset_hash") != content_hash:
        return {}
    return dict(data.get("contexts", {}))
