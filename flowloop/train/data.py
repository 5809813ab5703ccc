"""The training rows of one pass, read from a dataset version and checked before any model loads.

Reads a pass's training file of a version built by the dataset pipeline (contract 3; the pass
record names the file and the fields a row has: SFT's ``prompt`` + ``completion``, DPO's
``prompt`` + ``chosen`` + ``rejected``), refuses a pass below its threshold unless forced, validates every row (file, line and field in the
error), and applies example weights.

Why weights act by duplication: TRL computes the SFT loss through a fused LM head and DPO's
loss over chosen/rejected pairs, and neither accepts per-example weights; resampling each
example ``weight`` times in expectation is exact in expectation for SGD, works the same for
both passes and under ``accelerate``, and needs no trainer subclass. The integer part of a
weight is copied, the fraction is a seeded coin flip (deterministic for a given seed), copies
are capped at ``MAX_COPIES`` so one heavy task cannot dominate, and weight 0 drops an example
(a reverted task's examples).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.errors import DatasetError
from flowloop.passes import get_pass
from flowloop.pipeline.records import parse_iso
from flowloop.repo import FlowRepo

MAX_COPIES = 4


@dataclass
class TrainingData:
    """Rows ready for TRL (only the message columns), and where they came from."""

    pass_name: str
    dataset_version: int
    dataset_hash: str
    path: Path
    rows: list[dict[str, Any]]
    source_rows: int
    count: int
    threshold: int
    forced: bool
    source: list[dict[str, Any]] = field(default_factory=list)  # the rows as read, before weighting


def load_training_data(
    repo: FlowRepo,
    pass_name: str,
    dataset: str | int = "latest",
    force: bool = False,
    seed: int = 42,
    weighting: str = "duplicate",
) -> TrainingData:
    """The rows of pass ``pass_name``; refuses below threshold unless ``force``."""
    from flowloop.pipeline.api import check_threshold, load_manifest

    spec = get_pass(pass_name)
    manifest = load_manifest(repo, dataset)
    count, threshold, ok = check_threshold(manifest, pass_name, spec.threshold(repo.settings))
    if not ok and not force:
        raise DatasetError(
            f"{spec.title} needs {threshold} {spec.unit} and dataset v{manifest.version} has {count}",
            path=manifest.path,
            hint=f"collect more and rebuild (`flow dataset build`), lower train.{spec.name}.threshold, "
            "or pass --force to train anyway",
        )
    path = manifest.file(spec.train_file)
    rows = read_examples(path, pass_name)
    if not rows:
        raise DatasetError(f"no {spec.title} training examples", path=path,
                           hint="run `flow dataset build` after adding PILRs or signals")
    return TrainingData(
        pass_name=pass_name,
        dataset_version=manifest.version,
        dataset_hash=manifest.content_hash,
        path=path,
        rows=trainer_rows(rows, pass_name, path, seed, weighting),
        source_rows=len(rows),
        count=count,
        threshold=threshold,
        forced=force and not ok,
        source=rows,
    )


def trainer_rows(rows: list[dict[str, Any]], pass_name: str, path: Path, seed: int = 42,
                 weighting: str = "duplicate") -> list[dict[str, Any]]:
    """``rows`` as a trainer takes them: weighted (see the module docstring), only the pass's fields."""
    weighted = expand_by_weight(rows, seed) if weighting == "duplicate" else rows
    if not weighted:
        raise DatasetError("every example has weight 0", path=path, hint="check the outcome weighting")
    keep = get_pass(pass_name).fields
    return [{k: row[k] for k in keep} for row in weighted]


def read_examples(path: Path, pass_name: str) -> list[dict[str, Any]]:
    """Parse and validate a JSONL file of ``pass_name`` examples (errors name file, line, field)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError("dataset file missing", path=path, hint="rebuild with `flow dataset build`") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError("dataset file is not UTF-8", path=path, hint="rebuild with `flow dataset build`") from exc
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"corrupt dataset line: {exc.msg}", path=path, line=line_no,
                               hint="rebuild with `flow dataset build`") from exc
        if not isinstance(row, dict):
            raise DatasetError("a dataset line is not a JSON object", path=path, line=line_no)
        _check_row(row, pass_name, path, line_no)
        rows.append(row)
    return rows


def _check_labelled_row(row: dict[str, Any], path: Path, line: int) -> None:
    """A labelled pass's row: ``text`` to score, its ``context``, and a ``label``."""
    if not isinstance(row.get("text"), str) or not row["text"].strip():
        raise DatasetError("missing or empty text", path=path, line=line, field="text")
    if not isinstance(row.get("context", ""), str):
        raise DatasetError("context must be a string", path=path, line=line, field="context")
    if row.get("label") not in ("compliant", "violating"):
        raise DatasetError(f"label must be 'compliant' or 'violating', not {row.get('label')!r}",
                           path=path, line=line, field="label")
    when = row.get("time")
    try:
        if when is not None and not (isinstance(when, str) and parse_iso(when)):
            raise ValueError(when)
    except ValueError:
        raise DatasetError(f"time must be an ISO 8601 date-time or null, not {when!r}", path=path, line=line,
                           field="time", hint="rebuild with `flow dataset build`") from None


def _check_row(row: dict[str, Any], pass_name: str, path: Path, line: int) -> None:
    if get_pass(pass_name).labelled:
        _check_labelled_row(row, path, line)
        row.setdefault("context", "")
        return
    for name in get_pass(pass_name).fields:
        messages = row.get(name)
        if not isinstance(messages, list) or not messages:
            raise DatasetError("missing or empty list of chat messages", path=path, line=line, field=name)
        for message in messages:
            if not (isinstance(message, dict) and isinstance(message.get("role"), str)
                    and isinstance(message.get("content"), str)):
                raise DatasetError("each message needs string 'role' and 'content'", path=path, line=line, field=name)
        if name != "prompt" and messages[-1]["role"] != "assistant":
            raise DatasetError("the completion must end with an assistant message", path=path, line=line, field=name)
    if messages := row.get("prompt"):
        if messages[-1]["role"] == "assistant":
            raise DatasetError("the prompt must end with a user message", path=path, line=line, field="prompt")
    weight = row.get("weight", 1.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not math.isfinite(weight) or weight < 0:
        raise DatasetError(f"weight must be a number >= 0, not {weight!r}", path=path, line=line, field="weight")


def expand_by_weight(rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Each row ``weight`` times in expectation (see the module docstring), order kept."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        weight = float(row.get("weight", 1.0))
        whole = int(weight)
        copies = whole + (1 if rng.random() < weight - whole else 0)
        out.extend([row] * min(copies, MAX_COPIES))
    return out
