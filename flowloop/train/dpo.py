"""The DPO pass (the seed's calibration layer): preference pairs on top of an SFT checkpoint.

The shared preamble is :func:`flowloop.train.skeleton.pass_run`; the record's ``starts_from``
makes it load the newest SFT version (``--from vN`` or ``--from current`` picks another)
trainable, and this module continues training it with TRL's ``DPOTrainer``, so every version
stays ONE adapter on the base model (simple to load, to serve with vLLM's LoRA support, and to
merge).

The reference model is never a second copy of the model: with a PEFT model and no
``ref_model``, TRL keeps a frozen copy of the starting adapter (named ``ref``, a few MB) on
the same base weights and switches to it for the reference forward pass. So the reference is
the SFT policy, as DPO intends, not the bare base (which is what "adapter disabled" would give
once the adapter is the SFT one), at the cost of one adapter, not one model. With
``train.batching`` other than ``padded``, the pairs come in length-grouped batches
(:mod:`flowloop.train.packing`).
"""

from __future__ import annotations

from typing import Any

from flowloop.repo import FlowRepo
from flowloop.train.packing import dpo_batching_args, group_pairs
from flowloop.train.skeleton import pass_run
from flowloop.train.types import TrainResult


def train_dpo(repo: FlowRepo, **options: Any) -> TrainResult:
    """Train DPO from the starting version on the pairs and register the next version."""
    with pass_run(repo, "dpo", **options) as prepared:
        from datasets import Dataset
        from trl import DPOConfig, DPOTrainer

        train, rows = prepared.train, prepared.rows
        if train.batching != "padded":
            rows = group_pairs(rows, prepared.tokenizer, train.batch_size, train.seed)
        args = {**prepared.trainer_args(), **dpo_batching_args(train.batching)}
        trainer = DPOTrainer(
            model=prepared.model,
            ref_model=None,  # PEFT: a frozen copy of the starting adapter is the reference
            args=DPOConfig(**args, beta=prepared.table.beta),
            train_dataset=Dataset.from_list(rows),
            processing_class=prepared.tokenizer,
            callbacks=[prepared.reporter, *prepared.callbacks],
        )
        return prepared.finish(trainer)
