"""The SFT pass (the seed's knowledge layer): LoRA on the base model, loss on completions only.

The shared preamble (hardware, data, run folder, model, fitting, memory) is
:func:`flowloop.train.skeleton.pass_run`; what is SFT's own is the trainer. The rows are TRL's
conversational prompt/completion form, so the trainer masks the prompt and computes the loss on
the assistant completion only (SmolLM2's chat template has no ``{% generation %}`` markers, so
assistant-only masking would not work; prompt/completion does). A fresh adapter is trained from
the base each time: SFT re-learns the whole dataset. How the examples fill a batch
(``train.batching``: padded, packed, grouped) is :mod:`flowloop.train.packing`.
"""

from __future__ import annotations

from typing import Any

from flowloop.repo import FlowRepo
from flowloop.train.common import lora_config
from flowloop.train.packing import sft_batching_args
from flowloop.train.skeleton import pass_run
from flowloop.train.types import TrainResult


def train_sft(repo: FlowRepo, **options: Any) -> TrainResult:
    """Train an SFT adapter and register it as the next version (options: see ``pass_run``)."""
    with pass_run(repo, "sft", **options) as prepared:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        args = {**prepared.trainer_args(), **sft_batching_args(prepared.train.batching)}
        trainer = SFTTrainer(
            model=prepared.model,
            args=SFTConfig(**args, completion_only_loss=True),
            train_dataset=Dataset.from_list(prepared.rows),
            processing_class=prepared.tokenizer,
            peft_config=lora_config(prepared.train),
            callbacks=[prepared.reporter, *prepared.callbacks],
        )
        return prepared.finish(trainer)
