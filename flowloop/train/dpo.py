"""The DPO pass (the seed's calibration layer): preference pairs on top of an SFT checkpoint.

Reads top to bottom like ``sft.py``. It starts from a registered version, by default the
newest SFT version (``--from vN`` or ``--from current`` picks another), loads that adapter
trainable and continues training it with TRL's ``DPOTrainer``, so every version stays ONE
adapter on the base model (simple to load, to serve with vLLM's LoRA support, and to merge).

The reference model is never a second copy of the model: with a PEFT model and no
``ref_model``, TRL 1.16 keeps a frozen copy of the starting adapter (named ``ref``, a few MB)
on the same base weights and switches to it for the reference forward pass. So the reference
is the SFT policy, as DPO intends, not the bare base (which is what "adapter disabled" would
give once the adapter is the SFT one), at the cost of one adapter, not one model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.models.base_model import resolve_model_name
from flowloop.models.fit import fit_for_training
from flowloop.models.registry import ModelVersion, Registry
from flowloop.repo import FlowRepo
from flowloop.train.callbacks import ProgressReporter
from flowloop.train.common import (
    check_memory,
    load_model,
    prepare_process,
    run_and_register,
    trainer_args,
)
from flowloop.train.data import load_training_data
from flowloop.train.device import resolve_hardware
from flowloop.train.packing import dpo_batching_args, group_pairs
from flowloop.train.runs import open_shared_run
from flowloop.train.types import LogSink, Notify, TrainResult
from flowloop.types import Progress


def dpo_parent(repo: FlowRepo, parent: str | None) -> ModelVersion:
    """The version DPO starts from: ``parent`` (``vN`` / ``current``) or the newest SFT version."""
    registry = Registry(repo)
    if parent:
        return registry.get(parent)
    found = registry.latest("sft")
    if found is None:
        raise TrainingError("DPO starts from an SFT checkpoint and none is registered",
                            path=registry.root, hint="run `flow train sft` first")
    return found


def train_dpo(
    repo: FlowRepo,
    *,
    settings: TrainSettings | None = None,
    dataset: str | int = "latest",
    parent: str | None = None,
    force: bool = False,
    resume: str = "auto",
    progress: Progress | None = None,
    on_log: LogSink | None = None,
    notify: Notify | None = None,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train DPO from ``parent`` on ``dataset``'s pairs and register the next version."""
    train = settings or repo.settings.train
    hardware = resolve_hardware(train)
    data = load_training_data(repo, "dpo", dataset, force, train.seed, train.weighting)
    start = dpo_parent(repo, parent)
    if start.base_model != train.base_model:
        if notify:
            notify(f"{start.version} was trained on {start.base_model!r}; DPO continues on that base")
        train = train.model_copy(update={"base_model": start.base_model})
    base_path = resolve_model_name(train.base_model, repo.settings, notify)
    identity = {"dataset_hash": data.dataset_hash, "base_model": train.base_model,
                "parent": [start.version, start.created_at], "settings": train.model_dump(),
                "hardware": hardware.to_dict()}
    prepare_process(hardware)
    with open_shared_run(repo, "dpo", identity, resume) as run:
        if notify and run.resume_from is not None:
            notify(f"resuming {run.id} from {run.resume_from.name}")
        model, tokenizer = load_model(base_path, hardware, adapter_dir=start.adapter_dir)
        rows, fitting = fit_for_training(data.rows, tokenizer, train.max_length, notify)
        memory = check_memory(model, train, hardware, preference=True)
        if notify and memory.at_risk:
            notify(f"warning: out-of-memory risk: {memory.message()}")

        from datasets import Dataset
        from trl import DPOConfig, DPOTrainer

        if train.batching != "padded":
            rows = group_pairs(rows, tokenizer, train.batch_size, train.seed)
        args = {**trainer_args(train, hardware, run, train.dpo_learning_rate), **dpo_batching_args(train.batching)}
        config = DPOConfig(**args, beta=train.dpo_beta)
        reporter = ProgressReporter(progress, on_log)
        trainer = DPOTrainer(
            model=model,
            ref_model=None,  # PEFT: a frozen copy of the starting adapter is the reference
            args=config,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=[reporter, *callbacks],
        )
        return run_and_register(repo, run, trainer, reporter, data=data, train=train, hardware=hardware,
                                memory=memory, base_path=base_path, parent=start.version,
                                extra=fitting)
