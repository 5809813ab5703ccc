"""The SFT pass (the seed's knowledge layer): LoRA on the base model, loss on completions only.

Reads top to bottom: resolve the hardware (a CUDA-only option on a CPU fails here, before
anything loads), read and check the dataset (threshold, rows, weights), open the run folder
(resuming an unfinished run of the same job), load the base model, fit the examples into
``max_length``, estimate memory, then train with TRL's ``SFTTrainer``.

The rows are TRL's conversational prompt/completion form, so the trainer masks the prompt and
computes the loss on the assistant completion only (SmolLM2's chat template has no
``{% generation %}`` markers, so assistant-only masking would not work; prompt/completion
does). A fresh adapter is trained from the base each time: SFT re-learns the whole dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowloop.config import TrainSettings
from flowloop.models.base_model import resolve_model_name
from flowloop.models.fit import fit_for_training
from flowloop.repo import FlowRepo
from flowloop.train.callbacks import ProgressReporter
from flowloop.train.common import (
    check_memory,
    load_model,
    lora_config,
    prepare_process,
    run_and_register,
    trainer_args,
)
from flowloop.train.data import load_training_data
from flowloop.train.device import resolve_hardware
from flowloop.train.packing import sft_batching_args
from flowloop.train.runs import open_shared_run
from flowloop.train.types import LogSink, Notify, TrainResult
from flowloop.types import Progress


def train_sft(
    repo: FlowRepo,
    *,
    settings: TrainSettings | None = None,
    dataset: str | int = "latest",
    force: bool = False,
    resume: str = "auto",
    progress: Progress | None = None,
    on_log: LogSink | None = None,
    notify: Notify | None = None,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train an SFT adapter on ``dataset`` and register it as the next version.

    ``settings`` defaults to ``repo.settings.train`` (the CLI passes a copy with its flags);
    ``resume`` is ``auto`` / ``require`` / ``never`` (see :mod:`flowloop.train.runs`);
    ``callbacks`` are extra ``transformers.TrainerCallback`` objects.
    """
    train = settings or repo.settings.train
    hardware = resolve_hardware(train)
    data = load_training_data(repo, "sft", dataset, force, train.seed, train.weighting)
    base_path = resolve_model_name(train.base_model, repo.settings, notify)
    identity = {"dataset_hash": data.dataset_hash, "base_model": train.base_model, "parent": None,
                "settings": train.model_dump(), "hardware": hardware.to_dict()}
    prepare_process(hardware)
    with open_shared_run(repo, "sft", identity, resume) as run:
        if notify and run.resume_from is not None:
            notify(f"resuming {run.id} from {run.resume_from.name}")
        model, tokenizer = load_model(base_path, hardware)
        rows, fitting = fit_for_training(data.rows, tokenizer, train.max_length, notify)
        memory = check_memory(model, train, hardware, preference=False)
        if notify and memory.at_risk:
            notify(f"warning: out-of-memory risk: {memory.message()}")

        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        args = {**trainer_args(train, hardware, run, train.learning_rate), **sft_batching_args(train.batching)}
        config = SFTConfig(**args, completion_only_loss=True)
        reporter = ProgressReporter(progress, on_log)
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            peft_config=lora_config(train),
            callbacks=[reporter, *callbacks],
        )
        return run_and_register(repo, run, trainer, reporter, data=data, train=train, hardware=hardware,
                                memory=memory, base_path=base_path, parent=None,
                                extra=fitting)
