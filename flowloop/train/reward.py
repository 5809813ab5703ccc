"""The reward pass (the seed's Step 3): a classification head with LoRA on the base model.

The rows are the build's labelled outputs (``reward_train``): approved plans, corrections' final
versions and chosen options are ``compliant``; the agent direction a human corrected, rejected
options and reverted work are ``violating``. The base model (the specialist's, SmolLM2 by
default) gets a fresh two-class head (``AutoModelForSequenceClassification``) and LoRA on the
same target modules as the generative passes, trained with cross-entropy by the plain
``transformers`` Trainer; PEFT's sequence-classification task keeps the head trainable and saves
it with the adapter, so a version is one small folder.

The shared pieces are the generative passes' (``train/common.py``, ``runs.py``, ``data.py``):
hardware, the dataset read and checked, the resumable run folder, the memory estimate, trainer
arguments, interrupt handling and registration (into the registry's ``reward`` family). What is
its own: the model class, and calibration at the end of training, where the threshold reaching
``[train.reward] target_precision`` is chosen and recorded in the version's manifest
(``data.calibration``), next to the model it belongs to.

The threshold is chosen on a calibration slice, never on the items it is judged on: the newest
``[train.reward] calibration_share`` of the *training* tasks is held aside from fitting (a time
split inside the training split, so the slice is the most recent work the model did not learn
from), and the held-out tasks (``reward_heldout`` = the validation suite's items) stay unseen by
both the fit and the threshold. Precision and recall reported there at the recorded threshold are
therefore honest estimates, not the optimistic numbers of a threshold tuned on them.
"""

from __future__ import annotations

from typing import Any

from flowloop.errors import DatasetError
from flowloop.models.base_model import resolve_model_name
from flowloop.models.reward import FAMILY, RewardModel, choose_threshold, label_of, load_classifier, reward_input
from flowloop.passes import get_pass
from flowloop.repo import FlowRepo
from flowloop.train.callbacks import ProgressReporter
from flowloop.train.common import check_memory, prepare_process, run_and_register, trainer_args
from flowloop.train.data import load_training_data, trainer_rows
from flowloop.train.device import resolve_hardware
from flowloop.train.runs import open_shared_run
from flowloop.train.skeleton import settings_record
from flowloop.train.types import TrainResult

NAME = "reward"


def calibration_split(rows: list[dict[str, Any]], share: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(fit, calibration)``: the rows of the newest ``share`` of tasks (a row without a task is
    its own task) go to calibration, by the time of each task's newest row; rows without a time
    are always fitted on. Whole tasks move, so no task is on both sides."""
    from flowloop.pipeline.records import parse_iso
    from flowloop.pipeline.split import time_split

    def key(row: dict[str, Any]) -> str:
        return str(row.get("task") or row.get("id") or row["text"])

    task_time: dict[str, Any] = {}
    for row in rows:
        when = parse_iso(row.get("time"))
        if when is not None:
            task_time[key(row)] = max(task_time.get(key(row), when), when)
    held = set(time_split(task_time, share).heldout_tasks) if share > 0 else set()
    return [r for r in rows if key(r) not in held], [r for r in rows if key(r) in held]


def calibrate(model: Any, tokenizer: Any, rows: list[dict[str, Any]], max_length: int, target: float) -> dict[str, Any]:
    """Score the calibration ``rows`` with the model just trained and choose the threshold."""
    if not rows:
        return {"threshold": 0.5, "reached": False, "n": 0, "slice": "calibration",
                "note": "no calibration slice (train.reward.calibration_share is 0, or too few timed tasks): "
                        "the default threshold is used"}
    was_training = model.training
    model.eval()
    scorer = RewardModel(model, tokenizer, "candidate", 0.5, max_length)
    scores = scorer.score([reward_input(r["text"], r.get("context", "")) for r in rows])
    if was_training:
        model.train()
    chosen = choose_threshold(scores, [r["label"] == "compliant" for r in rows], target)
    times = sorted(str(r["time"]) for r in rows if r.get("time"))
    return {**chosen, "slice": "calibration", "from": times[0] if times else None, "to": times[-1] if times else None,
            "slice_note": "the newest training tasks, held aside from fitting; the held-out tasks are not used"}


def _calibration_callback(rows: list[dict[str, Any]], max_length: int, target: float, into: dict[str, Any],
                          final_dir: Any) -> Any:
    from transformers import TrainerCallback

    class Calibrate(TrainerCallback):
        """Chooses the threshold once training ends, before the version is registered."""

        def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None,
                         processing_class: Any = None, **kw: Any) -> None:
            into["calibration"] = calibrate(model, processing_class, rows, max_length, target)
            # the base config with its two-class head, beside the adapter: the version folder
            # then says what model it is (and reads as a model folder to the registry)
            base = model.get_base_model() if hasattr(model, "get_base_model") else model
            base.config.save_pretrained(final_dir)

    return Calibrate()


def train_reward(repo: FlowRepo, **options: Any) -> TrainResult:
    """Train a reward model and register it as the next version of the ``reward`` family."""
    from peft import LoraConfig, get_peft_model

    spec = get_pass(NAME)
    train = options.get("settings") or repo.settings.train
    if options.get("parent"):
        raise DatasetError("the reward model always starts from the base model", field="parent", hint="drop --from")
    table = train.pass_table(NAME)
    hardware = resolve_hardware(train)
    data = load_training_data(repo, NAME, options.get("dataset", "latest"), options.get("force", False),
                              train.seed, train.weighting)
    base_path = resolve_model_name(train.base_model, repo.settings, options.get("notify"))
    identity = {"dataset_hash": data.dataset_hash, "base_model": train.base_model, "parent": None,
                "settings": settings_record(train, spec), "hardware": hardware.to_dict()}
    fit, held_aside = calibration_split(data.source, table.calibration_share)
    if not fit:
        raise DatasetError("every labelled output went to the calibration slice", path=data.path,
                           field="train.reward.calibration_share", hint="lower train.reward.calibration_share")
    prepare_process(hardware)
    with open_shared_run(repo, NAME, identity, options.get("resume", "auto")) as run:
        import torch
        from datasets import Dataset
        from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

        dtype = torch.bfloat16 if hardware.precision == "bf16" else torch.float32
        model, tokenizer = load_classifier(base_path, trainable=True, dtype=dtype)
        model = get_peft_model(model, LoraConfig(r=train.lora_r, lora_alpha=train.lora_alpha,
                                                 lora_dropout=train.lora_dropout, target_modules=list(train.lora_targets),
                                                 bias="none", task_type="SEQ_CLS"))
        memory = check_memory(model, train, hardware, preference=False)
        rows = [{"text": reward_input(r["text"], r.get("context", "")), "label": label_of(r["label"])}
                for r in trainer_rows(fit, NAME, data.path, train.seed, train.weighting)]
        encoded = Dataset.from_list(rows).map(
            lambda batch: tokenizer(batch["text"], truncation=True, max_length=table.max_length),
            batched=True, remove_columns=["text"]).rename_column("label", "labels")
        args = trainer_args(train, hardware, run, table.learning_rate)
        args.pop("max_length")  # a TRL option; the rows are truncated when tokenized above
        calibration: dict[str, Any] = {}
        reporter = ProgressReporter(options.get("progress"), options.get("on_log"))
        trainer = Trainer(
            model=model,
            args=TrainingArguments(**args),
            train_dataset=encoded,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
            callbacks=[reporter, *options.get("callbacks", ()),
                       _calibration_callback(held_aside, table.max_length, table.target_precision, calibration,
                                             run.final_dir)],
        )
        return run_and_register(repo, run, trainer, reporter, data=data, train=train, hardware=hardware,
                                memory=memory, base_path=base_path, parent=None, extra=calibration,
                                settings=settings_record(train, spec), family=FAMILY)
