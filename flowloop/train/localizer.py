"""The localizer pass: a ranker of candidate files learned from the repository's own history.

Unlike SFT and DPO it loads no language model: its rows are the work records of the dataset's
training split (``work_train``: task, description, files, finish time, planning moment), its
features come from the whole work history as of each task (:mod:`flowloop.localize`), and the
fit takes seconds on a CPU. The version lands in the ``localizer`` family of the model
registry with the dataset it was trained on, so the gate
(:mod:`flowloop.evaluate.localizer`) can score it on that dataset's held-out tasks only.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from flowloop.errors import DatasetError
from flowloop.localize.api import fit
from flowloop.localize.service import builder_for
from flowloop.models.registry import Registry, now_iso
from flowloop.passes import get_pass
from flowloop.pipeline.records import WorkRecord, parse_iso
from flowloop.repo import FlowRepo
from flowloop.train.data import load_training_data
from flowloop.train.device import Hardware, MemoryEstimate
from flowloop.train.types import TrainResult

PASS = "localizer"
MODEL_KIND = "logistic-regression"


def read_work_rows(path: Path) -> list[WorkRecord]:
    """The work records of a ``work_train`` / ``eval_planning`` file (errors name file and line)."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            as_of = parse_iso(row.get("as_of") or row["time"])
            time = parse_iso(row["time"])
            assert as_of is not None and time is not None
            records.append(WorkRecord(task=str(row["task"]), description=str(row["description"]),
                                      files=[str(f) for f in row["files"]], time=time, as_of=as_of,
                                      event_id=str(row.get("id", number))))
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            raise DatasetError(f"bad work record: {exc!r}", path=path, line=number,
                               hint="rebuild with `flow dataset build`") from exc
    return records


def train_localizer(repo: FlowRepo, **options: Any) -> TrainResult:
    """Fit the localizer on ``options['dataset']`` and register it as the next localizer version."""
    spec = get_pass(PASS)
    train = options.get("settings") or repo.settings.train
    table = train.pass_table(spec.name)
    data = load_training_data(repo, spec.name, options.get("dataset", "latest"), bool(options.get("force")),
                              train.seed, "none")
    tasks = read_work_rows(data.path)
    history, builder = builder_for(repo)
    progress = options.get("progress")
    model, report = fit(history, tasks, progress=progress, builder=builder, l2=table.l2)
    registry = Registry(repo, spec.family)
    with tempfile.TemporaryDirectory(prefix="localizer-") as tmp:
        model.save(Path(tmp))
        version = registry.register(Path(tmp), {
            "pass": spec.name, "base_model": MODEL_KIND, "dataset_version": data.dataset_version,
            "dataset_hash": data.dataset_hash, "parent": None, "settings": {"l2": table.l2},
            "metrics": report.to_dict(), "created_at": now_iso()})
    metrics = {"steps": report.tasks, "session_steps": report.tasks, "resumed_from_step": 0, "loss": None,
               "seconds": report.seconds, "seconds_per_step": report.seconds / max(1, report.tasks),
               "tokens_per_second": 0, "tokens": 0, **report.to_dict()}
    return TrainResult(
        version=version.version, model=version, run_id=f"{spec.name}-{version.version}", metrics=metrics,
        hardware=Hardware("cpu", "fp64", False, False),
        memory=MemoryEstimate(0, None, "cpu", {}),
        data={"examples": report.rows, "source_examples": len(tasks), "count": data.count,
              "threshold": data.threshold, "forced": data.forced})
