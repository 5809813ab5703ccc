"""When the loop trains a pass, and for how many steps.

A pass trains only when its own data is ready: the first time when the dataset meets the
pass's threshold, later when at least ``[train.<name>] min_new`` rows are new since the dataset
that pass last trained on. Its steps are ``train.epochs`` over its rows, capped by
``[train.<name>] loop_max_steps``. Everything here reads the pass's record, never its name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flowloop.loop.results import DatasetResult
from flowloop.passes import TrainingPass, get_pass
from flowloop.pipeline.manifest import dataset_file
from flowloop.pipeline.thresholds import readiness_of
from flowloop.repo import FlowRepo


def new_examples(repo: FlowRepo, pass_name: str, dataset: str) -> tuple[int, str | None]:
    """Training rows of ``pass_name`` in ``dataset`` that the last model of that pass never saw.

    Returns ``(count, last_version)``; with no earlier model of that pass every row is new.
    """
    from flowloop.evaluate.data import read_jsonl, version_name
    from flowloop.models.registry import Registry

    spec = get_pass(pass_name)
    file = dataset_file(spec.train_file)
    rows = read_jsonl(repo.state_dir / "datasets" / dataset / file)
    found = Registry(repo, spec.family).latest(spec.name)
    if found is None:
        return len(rows), None
    last, trained_on = found.version, found.manifest.get("dataset_version")
    seen = {row.get("id") for row in read_jsonl(repo.state_dir / "datasets" / version_name(trained_on) / file)} if trained_on else set()
    return sum(1 for row in rows if row.get("id") not in seen), last


def epoch_steps(repo: FlowRepo, pass_name: str, dataset: str) -> int:
    """Optimizer steps of ``train.epochs`` over the pass's (weighted) rows.

    The loop's step settings are caps: a small dataset trains its epochs, not 60 steps (on 29
    rows that would be 8 epochs of one repository's first commits).
    """
    from flowloop.train.data import load_training_data

    train = repo.settings.train
    spec = get_pass(pass_name)
    if spec.step_rows == "positives":
        from flowloop.evaluate.data import read_jsonl

        rows = read_jsonl(repo.state_dir / "datasets" / dataset / dataset_file(spec.train_file))
        positives = sum(1 for row in rows if float(row.get("label", 1.0)) > 0)
        batch = int(getattr(spec.table(repo.settings), "batch_size", 16))
        return max(1, math.ceil(positives * train.epochs / max(1, batch)))
    rows = len(load_training_data(repo, pass_name, dataset, force=True, seed=train.seed, weighting=train.weighting).rows)
    return max(1, math.ceil(rows * train.epochs / max(1, train.batch_size * train.grad_accum)))


def _heldout_rows(repo: FlowRepo, dataset: str, file_key: str) -> int:
    from flowloop.evaluate.data import read_jsonl

    path = repo.state_dir / "datasets" / dataset / dataset_file(file_key)
    return len(read_jsonl(path)) if path.is_file() else 0


@dataclass(frozen=True)
class TrainPlan:
    """Whether a pass trains this run: ``steps`` > 0 when it does, else ``reason`` says why not."""

    spec: TrainingPass
    new: int
    last: str | None
    steps: int = 0
    cap: int = 0
    reason: str = ""

    @property
    def go(self) -> bool:
        return self.steps > 0


def plan_pass(repo: FlowRepo, spec: TrainingPass, dataset: DatasetResult) -> TrainPlan:
    """Decide whether ``spec`` trains on ``dataset`` (see the module docstring)."""
    table = spec.table(repo.settings)
    count = dataset.passes.get(spec.name)
    new, last = new_examples(repo, spec.name, dataset.version)
    if count is None or not count.ready:
        below = readiness_of(spec.name, count.count if count else 0, count.threshold if count else spec.threshold(repo.settings))
        return TrainPlan(spec, new, last, reason=f"{spec.title}: below threshold ({below.have} of {below.threshold} "
                                                 f"{below.unit}); {below.next_step}")
    if last is not None and new < table.min_new:
        return TrainPlan(spec, new, last, reason=f"{spec.title}: {new} new {spec.new_unit} since {last} "
                                                 f"(needs {table.min_new})")
    if spec.gated_on and not _heldout_rows(repo, dataset.version, spec.gated_on):
        return TrainPlan(spec, new, last, reason=f"{spec.title}: no held-out rows ({dataset_file(spec.gated_on)}) "
                                                 f"for its gate to judge a new version on; not trained")
    cap = table.loop_max_steps
    return TrainPlan(spec, new, last, steps=min(cap, epoch_steps(repo, spec.name, dataset.version)), cap=cap)
